#pragma once

#include <QString>

// Where the embedded locustfile lives: loadtest/locustfile.py, compiled into
// the binary as a Qt resource by loadtest/CMakeLists.txt.
//
// Thread: pure function, thread-safe.
namespace LocustFile {

// ":/loadtest/locustfile.py"
QString resourcePath();

} // namespace LocustFile
