#include "loadtest/locustfile.h"

QString LocustFile::resourcePath()
{
    return QStringLiteral(":/loadtest/locustfile.py");
}
