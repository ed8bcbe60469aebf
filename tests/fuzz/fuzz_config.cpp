// Configuration loading: EngineConfig::fromJson (core/engine) and
// SimulatorConfig::fromJson (server/simulator), the validated value types
// every layer of `sluice`'s configuration goes through (the --config file's
// "engine" and "simulator" members, PATCH /api/v1/config, PATCH
// /sim/v1/config, the environment and the command line as one-field patches).
//
// Input: a JSON document (any bytes). Shaped like the --config file, its
// "engine" and "simulator" members are the patches; without them the whole
// object is given to both.
// Not covered here: AppConfig's own file reader (app/appconfig.cpp,
// applyFile() in an anonymous namespace, reachable only through
// AppConfig::resolve() with a file on disk): its listen/upstream/server
// members.
// Checks, besides no crash, leak or undefined behaviour:
//   - a refusal names a message and leaves *out untouched;
//   - an accepted config validates, reads back from its own toJson()
//     (round trip) and is a fixed point of the same patch (PATCH semantics:
//     applying it again on top of the result changes nothing).
#include "tests/fuzz/fuzzsupport.h"

#include "core/engine/engineconfig.h"
#include "server/simulator/simulatorconfig.h"

#include <QJsonDocument>

namespace {

QJsonObject member(const QJsonObject &root, const char *name)
{
    const QJsonValue v = root.value(QLatin1String(name));
    return v.isObject() ? v.toObject() : root;
}

void checkEngine(const QJsonObject &patch)
{
    EngineConfig sentinel;
    sentinel.maxBatchSize = 777;
    sentinel.retry.maxAttempts = 7;
    EngineConfig out = sentinel;
    const ConfigError e = EngineConfig::fromJson(patch, EngineConfig{}, &out);
    if (!e.isNull()) {
        FUZZ_CHECK(!e.message.isEmpty(), "an error without a message");
        FUZZ_CHECK(out == sentinel, "a refused patch changed the config (" + e.toString().toUtf8() + ")");
        return;
    }
    FUZZ_CHECK(out.validate().isNull(), "accepted an invalid config: " + out.validate().toString().toUtf8());
    EngineConfig back;
    const ConfigError r = EngineConfig::fromJson(out.toJson(), EngineConfig{}, &back);
    FUZZ_CHECK(r.isNull(), "its own toJson() is refused: " + r.toString().toUtf8());
    FUZZ_CHECK(back == out, "toJson()/fromJson() round trip differs: "
                                + QJsonDocument(back.toJson()).toJson(QJsonDocument::Compact) + " vs "
                                + QJsonDocument(out.toJson()).toJson(QJsonDocument::Compact));
    EngineConfig again;
    FUZZ_CHECK(EngineConfig::fromJson(patch, out, &again).isNull() && again == out, "the same patch twice differs");
}

void checkSimulator(const QJsonObject &patch)
{
    SimulatorConfig sentinel;
    sentinel.apiKey = QStringLiteral("sentinel");
    sentinel.responseWords = 3;
    SimulatorConfig out = sentinel;
    const SimulatorConfig::Error e = SimulatorConfig::fromJson(patch, SimulatorConfig{}, &out);
    if (!e.isNull()) {
        FUZZ_CHECK(!e.message.isEmpty(), "an error without a message");
        FUZZ_CHECK(out == sentinel, "a refused patch changed the config (" + e.toString().toUtf8() + ")");
        return;
    }
    FUZZ_CHECK(out.validate().isNull(), "accepted an invalid config: " + out.validate().toString().toUtf8());
    SimulatorConfig back;
    const SimulatorConfig::Error r = SimulatorConfig::fromJson(out.toJson(), SimulatorConfig{}, &back);
    FUZZ_CHECK(r.isNull(), "its own toJson() is refused: " + r.toString().toUtf8());
    FUZZ_CHECK(back == out, "toJson()/fromJson() round trip differs: "
                                + QJsonDocument(back.toJson()).toJson(QJsonDocument::Compact) + " vs "
                                + QJsonDocument(out.toJson()).toJson(QJsonDocument::Compact));
    SimulatorConfig again;
    FUZZ_CHECK(SimulatorConfig::fromJson(patch, out, &again).isNull() && again == out, "the same patch twice differs");
    FUZZ_CHECK(!out.effectiveModels().isEmpty(), "no models served");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)));
    if (!doc.isObject())
        return 0;
    const QJsonObject root = doc.object();
    checkEngine(member(root, "engine"));
    checkSimulator(member(root, "simulator"));
    return 0;
}
