#pragma once

// The recorded Gemini bodies in ../shared/fixtures/gemini (SLUICE_FIXTURES_DIR,
// set by tests/CMakeLists.txt). A missing fixture ends the test run at once.
#include <QByteArray>
#include <QFile>
#include <QString>

inline QByteArray readFixture(const QString &name)
{
    QFile f(QStringLiteral(SLUICE_FIXTURES_DIR "/") + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", qPrintable(f.fileName()));
    return f.readAll();
}
