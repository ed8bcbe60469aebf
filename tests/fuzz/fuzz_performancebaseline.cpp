// PerformanceBaseline::fromBytes (core/drift): a baseline file, as
// `sluice --baseline FILE`, PUT /api/v1/baseline and the console read it.
//
// Input: a document (any bytes).
// Checks, besides no crash, leak or undefined behaviour:
//   - a refusal says why;
//   - an accepted baseline keeps the header's round-trip promise:
//     fromJson(toJson(b)) == b, and the file the console writes
//     (toJsonBytes()) reads back with the same values, unknown fields
//     included. That second comparison is of the JSON Qt writes for both,
//     and only for documents without a raw U+FEFF: Qt 6.4 keeps a raw
//     U+FEFF that starts a string or key in its storage but drops it from
//     the QString, so {"\uFEFFm":0} read from bytes and {"m":0} read back
//     compare unequal, and {"\uFEFF":0,"":9} is written with the key ""
//     twice (seeds/baseline/qt_bom_key_*.json). A Qt quirk, not Sluice's.
#include "tests/fuzz/fuzzsupport.h"

#include "core/drift/performancebaseline.h"

#include <QJsonDocument>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    PerformanceBaseline b;
    QString error;
    if (!PerformanceBaseline::fromBytes(bytes, &b, &error)) {
        FUZZ_CHECK(!error.isEmpty(), "refused without a reason");
        return 0;
    }
    FUZZ_CHECK(error.isEmpty(), "accepted with an error: " + error.toUtf8());

    PerformanceBaseline back;
    FUZZ_CHECK(PerformanceBaseline::fromJson(b.toJson(), &back, &error), "its own toJson() is refused: " + error.toUtf8());
    FUZZ_CHECK(back == b, "fromJson(toJson(b)) != b: " + QJsonDocument(back.toJson()).toJson(QJsonDocument::Compact).left(600)
                              + " vs " + QJsonDocument(b.toJson()).toJson(QJsonDocument::Compact).left(600));
    PerformanceBaseline file;
    FUZZ_CHECK(PerformanceBaseline::fromBytes(b.toJsonBytes(), &file, &error), "its own file is refused: " + error.toUtf8());
    if (bytes.contains("\xEF\xBB\xBF"))
        return 0;
    const QByteArray written = QJsonDocument(b.toJson()).toJson(QJsonDocument::Compact);
    const QByteArray reread = QJsonDocument(file.toJson()).toJson(QJsonDocument::Compact);
    FUZZ_CHECK(reread == written, "fromBytes(toJsonBytes(b)) differs: " + reread.left(600) + " vs " + written.left(600));
    return 0;
}
