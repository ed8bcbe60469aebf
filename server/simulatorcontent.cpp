#include "simulatorcontent.h"

#include <QJsonArray>

#include <array>
#include <cmath>

namespace {

quint64 splitmix(quint64 &state)
{
    quint64 z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

const std::array<const char *, 64> kWords{{
    "the", "model", "answer", "request", "batch", "signal", "river", "gate", "flow", "light",
    "system", "token", "stream", "quiet", "rapid", "careful", "measure", "latency", "queue", "window",
    "because", "therefore", "clearly", "simple", "result", "value", "green", "blue", "northern", "bright",
    "engine", "sluice", "water", "level", "channel", "steady", "pressure", "open", "closed", "small",
    "large", "every", "agent", "question", "reason", "pattern", "shape", "detail", "example", "moment",
    "across", "within", "under", "over", "through", "between", "history", "future", "common", "rare",
    "useful", "exact", "gentle", "strong",
}};

QString typeOf(const QJsonObject &schema)
{
    const QJsonValue t = schema.value(QLatin1String("type"));
    if (t.isString())
        return t.toString().toLower();
    if (t.isArray()) {
        // Prefer the first non-null type of a JSON Schema type list.
        for (const QJsonValue &v : t.toArray()) {
            if (v.toString().toLower() != QLatin1String("null"))
                return v.toString().toLower();
        }
        return QStringLiteral("null");
    }
    if (schema.contains(QLatin1String("properties")))
        return QStringLiteral("object");
    if (schema.contains(QLatin1String("items")))
        return QStringLiteral("array");
    return {};
}

QJsonValue valueFor(const QJsonObject &schema, const QString &seed, int depth)
{
    if (depth > 16)
        return QJsonValue::Null;
    if (schema.contains(QLatin1String("const")))
        return schema.value(QLatin1String("const"));
    const QJsonArray enums = schema.value(QLatin1String("enum")).toArray();
    if (!enums.isEmpty())
        return enums.at(int(SimulatorContent::hash(seed) % quint64(enums.size())));
    for (const char *alt : {"anyOf", "oneOf", "allOf"}) {
        const QJsonArray options = schema.value(QLatin1String(alt)).toArray();
        // The first non-null alternative gives the most informative value.
        for (const QJsonValue &o : options) {
            if (typeOf(o.toObject()) != QLatin1String("null"))
                return valueFor(o.toObject(), seed, depth + 1);
        }
        if (!options.isEmpty())
            return QJsonValue::Null;
    }
    const QString type = typeOf(schema);
    const quint64 h = SimulatorContent::hash(seed);
    if (type == QLatin1String("object")) {
        QJsonObject out;
        const QJsonObject props = schema.value(QLatin1String("properties")).toObject();
        for (auto it = props.begin(); it != props.end(); ++it)
            out.insert(it.key(), valueFor(it.value().toObject(), seed + QLatin1Char('.') + it.key(), depth + 1));
        return out;
    }
    if (type == QLatin1String("array")) {
        const int minItems = schema.value(QLatin1String("minItems")).toVariant().toInt();
        const QJsonValue maxV = schema.value(QLatin1String("maxItems"));
        int n = std::max(minItems, 2);
        if (!maxV.isUndefined())
            n = std::min(n, std::max(minItems, maxV.toVariant().toInt()));
        QJsonArray out;
        const QJsonObject items = schema.value(QLatin1String("items")).toObject();
        for (int i = 0; i < n; ++i)
            out.append(valueFor(items, seed + QLatin1Char('[') + QString::number(i) + QLatin1Char(']'), depth + 1));
        return out;
    }
    if (type == QLatin1String("integer") || type == QLatin1String("number")) {
        const QJsonValue minV = schema.value(QLatin1String("minimum"));
        const QJsonValue maxV = schema.value(QLatin1String("maximum"));
        const bool integral = type == QLatin1String("integer");
        // Numbers in the OpenAPI subset may arrive as strings ("minimum": "1").
        const double lo = minV.isUndefined() ? 0 : minV.toVariant().toDouble();
        const double hi = maxV.isUndefined() ? lo + 1000 : maxV.toVariant().toDouble();
        double v = lo + double(h % 1000) / 1000.0 * (hi - lo);
        if (integral) {
            v = std::ceil(v);
            if (v > hi)
                v = std::floor(hi);
        }
        return v;
    }
    if (type == QLatin1String("boolean"))
        return (h & 1) == 0;
    if (type == QLatin1String("null"))
        return QJsonValue::Null;
    // string (or no type at all)
    const QString format = schema.value(QLatin1String("format")).toString();
    if (format == QLatin1String("date-time"))
        return QStringLiteral("2024-01-01T00:00:00Z");
    if (format == QLatin1String("date"))
        return QStringLiteral("2024-01-01");
    QString s = SimulatorContent::answerFor(seed, 3);
    s.chop(1); // no final full stop in a short value
    const QJsonValue maxLen = schema.value(QLatin1String("maxLength"));
    if (!maxLen.isUndefined())
        s.truncate(std::max(0, maxLen.toVariant().toInt()));
    const int minLen = schema.value(QLatin1String("minLength")).toVariant().toInt();
    while (s.size() < minLen)
        s += QLatin1Char('x');
    return s;
}

} // namespace

quint64 SimulatorContent::hash(const QString &text)
{
    quint64 h = 0xcbf29ce484222325ULL;
    // FNV-1a over the UTF-8 bytes; ASCII text (the usual prompt) is its own
    // UTF-8, so it is hashed without converting (no allocation per call).
    bool ascii = true;
    for (QChar c : text)
        ascii = ascii && c.unicode() < 0x80;
    if (ascii) {
        for (QChar c : text) {
            h ^= quint8(c.unicode());
            h *= 0x100000001b3ULL;
        }
        return h;
    }
    const QByteArray bytes = text.toUtf8();
    for (char c : bytes) {
        h ^= quint8(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

int SimulatorContent::tokensFor(const QString &text)
{
    return std::max<int>(1, int((text.size() + 3) / 4));
}

QString SimulatorContent::answerFor(const QString &prompt, int words, int variant)
{
    quint64 state = hash(prompt) ^ (quint64(variant) * 0xd1b54a32d192ed03ULL);
    QString out;
    out.reserve(words * 8);
    int sentenceLeft = 0;
    for (int i = 0; i < words; ++i) {
        const quint64 r = splitmix(state);
        const QLatin1StringView w(kWords[r % kWords.size()]);
        if (!out.isEmpty())
            out += QLatin1Char(' ');
        if (sentenceLeft == 0) {
            out += QChar(w.front()).toUpper();
            out += w.sliced(1);
            sentenceLeft = 6 + int((r >> 32) % 9);
        } else {
            out += w;
        }
        if (--sentenceLeft == 0 || i == words - 1) {
            out += QLatin1Char('.');
            sentenceLeft = 0;
        }
    }
    return out;
}

QList<double> SimulatorContent::embeddingFor(const QString &text, int dimensions)
{
    quint64 state = hash(text);
    QList<double> v(dimensions);
    double norm = 0;
    for (double &x : v) {
        x = double(splitmix(state) >> 11) / double(1ULL << 53) * 2.0 - 1.0;
        norm += x * x;
    }
    norm = std::sqrt(norm);
    for (double &x : v) {
        // 9 decimals keeps the JSON short; the norm stays 1 within 1e-7.
        x = std::round(x / norm * 1e9) / 1e9;
    }
    return v;
}

QList<SimulatorContent::PackMember> SimulatorContent::parsePack(const QString &prompt)
{
    static const QString open = QStringLiteral("<request id=\"");
    static const QString close = QStringLiteral("</request>");
    QList<PackMember> members;
    qsizetype pos = 0;
    while ((pos = prompt.indexOf(open, pos)) >= 0) {
        const qsizetype idStart = pos + open.size();
        const qsizetype idEnd = prompt.indexOf(QLatin1Char('"'), idStart);
        if (idEnd < 0 || idEnd + 1 >= prompt.size() || prompt.at(idEnd + 1) != QLatin1Char('>'))
            break;
        qsizetype textStart = idEnd + 2;
        const qsizetype end = prompt.indexOf(close, textStart);
        if (end < 0)
            break;
        qsizetype textEnd = end;
        if (textStart < textEnd && prompt.at(textStart) == QLatin1Char('\n'))
            ++textStart;
        if (textEnd > textStart && prompt.at(textEnd - 1) == QLatin1Char('\n'))
            --textEnd;
        members.append({prompt.mid(idStart, idEnd - idStart), prompt.mid(textStart, textEnd - textStart)});
        pos = end + close.size();
    }
    return members;
}

bool SimulatorContent::isPackSchema(const QJsonObject &schema)
{
    if (typeOf(schema) != QLatin1String("array"))
        return false;
    const QJsonObject items = schema.value(QLatin1String("items")).toObject();
    if (typeOf(items) != QLatin1String("object"))
        return false;
    const QJsonObject props = items.value(QLatin1String("properties")).toObject();
    return props.contains(QLatin1String("id")) && props.contains(QLatin1String("text"));
}

QJsonValue SimulatorContent::valueForSchema(const QJsonObject &schema, const QString &seedText)
{
    return valueFor(schema, seedText, 0);
}
