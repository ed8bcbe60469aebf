#pragma once

// What every libFuzzer target in tests/fuzz shares: a check that ends the run
// with a message (libFuzzer records the input as a crash), quiet Qt logging,
// and a deterministic way to cut an input into the pieces an incremental
// parser is fed with.
//
// Thread: the targets run single-threaded; nothing here is shared.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QtGlobal>

#include <clocale>
#include <cstdio>
#include <cstdlib>

namespace Fuzz {

[[noreturn]] inline void fail(const char *file, int line, const char *condition, const QByteArray &detail)
{
    std::fprintf(stderr, "\n%s:%d: fuzz check failed: %s\n%s\n", file, line, condition, detail.constData());
    std::fflush(stderr);
    std::abort();
}

// Qt's debug and warning output would flood the run (a parser that warns on
// every bad input); qFatal (and so Q_ASSERT) still aborts, which libFuzzer
// reports as a crash. Numbers are read in the C locale (strtod reads '.' as
// the decimal point, as the JSON scanner's differential check needs).
// Called once by LLVMFuzzerInitialize (fuzzinit.cpp).
inline void init()
{
    std::setlocale(LC_NUMERIC, "C");
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &, const QString &message) {
        if (type == QtFatalMsg || type == QtCriticalMsg) {
            std::fprintf(stderr, "%s\n", qPrintable(message));
            if (type == QtFatalMsg)
                std::abort();
        }
    });
}

// The bytes quoted for a failure message: printable ASCII as is, the rest
// percent-encoded (inputs are binary).
inline QByteArray quote(QByteArrayView bytes, qsizetype max = 400)
{
    const QByteArray b = bytes.first(std::min(bytes.size(), max)).toByteArray();
    return b.toPercentEncoding(" !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~") + (bytes.size() > max ? "..." : "");
}

// Pieces of `data` for a streaming parser, cut where a small generator seeded
// by the data says (1 to 64 bytes each): deterministic for a given input, so
// a crash file reproduces, and different cuts as the fuzzer mutates it.
inline QList<QByteArrayView> pieces(QByteArrayView data)
{
    quint32 h = 2166136261u; // FNV-1a of the input seeds the cuts
    for (char c : data)
        h = (h ^ uchar(c)) * 16777619u;
    QList<QByteArrayView> out;
    qsizetype at = 0;
    while (at < data.size()) {
        h ^= h << 13;
        h ^= h >> 17;
        h ^= h << 5;
        const qsizetype n = std::min<qsizetype>(data.size() - at, 1 + (h % 64));
        out.append(data.sliced(at, n));
        at += n;
    }
    return out;
}

} // namespace Fuzz

#define FUZZ_CHECK(condition, detail)                                                                                  \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            Fuzz::fail(__FILE__, __LINE__, #condition, QByteArray(detail));                                            \
    } while (false)
