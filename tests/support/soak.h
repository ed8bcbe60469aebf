#pragma once

// Timed soaks: test functions that run for a fixed time over ~20 s. They stay
// in their class's test file but run only in the `soak` ctest set:
// sluice_add_soak() (tests/CMakeLists.txt) registers `<test> <function>...`
// with SLUICE_SOAK=1 and the label `soak`; the default entry runs without
// SLUICE_SOAK, so they skip there. `ctest -LE soak` is the fast set,
// `ctest -L soak` the soaks; tests/run.sh runs both. By hand:
// `SLUICE_SOAK=1 ./tst_x function`.
#include <QTest>

#define SLUICE_SOAK_ONLY()                                                                  \
    do {                                                                                    \
        if (!qEnvironmentVariableIsSet("SLUICE_SOAK"))                                      \
            QSKIP("timed soak: runs with ctest -L soak (or SLUICE_SOAK=1 on the command line)"); \
    } while (false)
