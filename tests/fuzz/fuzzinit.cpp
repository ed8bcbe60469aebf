// libFuzzer's start-up hook, linked into every target (sluice_add_fuzzer):
// Qt's output quieted once (Fuzz::init).
#include "tests/fuzz/fuzzsupport.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    Fuzz::init();
    return 0;
}
