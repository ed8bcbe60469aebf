#include "server/simulator/simulatorcontent.h"

#include <QByteArrayMatcher>
#include <QJsonArray>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string_view>

namespace {

quint64 splitmix(quint64 &state)
{
    quint64 z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Lower-case ASCII only: answers are ASCII, and a sentence starts with the
// word's first letter upper-cased byte-wise.
constexpr std::array<std::string_view, 64> kWords{{
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
    // ASCII text (the usual prompt) is its own UTF-8, so it is hashed without
    // converting (no allocation per call).
    bool ascii = true;
    for (QChar c : text)
        ascii = ascii && c.unicode() < 0x80;
    if (!ascii)
        return hash(QByteArrayView(text.toUtf8()));
    quint64 h = 0xcbf29ce484222325ULL;
    for (QChar c : text) {
        h ^= quint8(c.unicode());
        h *= 0x100000001b3ULL;
    }
    return h;
}

quint64 SimulatorContent::hash(QByteArrayView utf8)
{
    quint64 h = 0xcbf29ce484222325ULL;
    for (char c : utf8) {
        h ^= quint8(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

int SimulatorContent::tokensForLength(qsizetype utf16Length)
{
    return std::max<int>(1, int((utf16Length + 3) / 4));
}

namespace {

static_assert([] {
    for (std::string_view w : kWords) {
        if (w.empty() || w.size() > 14 || w.front() < 'a' || w.front() > 'z')
            return false;
    }
    return true;
}(), "answer words are short and start lower-case");

// kWords with room to copy each as one 16-byte block.
struct PaddedWord {
    char bytes[16] = {};
    qsizetype size = 0;
};

constexpr std::array<PaddedWord, kWords.size()> kPaddedWords = [] {
    std::array<PaddedWord, kWords.size()> padded;
    for (size_t i = 0; i < kWords.size(); ++i) {
        std::copy(kWords[i].begin(), kWords[i].end(), padded[i].bytes);
        padded[i].size = qsizetype(kWords[i].size());
    }
    return padded;
}();

void appendAnswerFor(QByteArray &out, quint64 promptHash, int words, int variant)
{
    quint64 state = promptHash ^ (quint64(variant) * 0xd1b54a32d192ed03ULL);
    // Written through a pointer into room for 16 bytes per word (a word, its
    // space and full stop are less), then cut to size: no append per word.
    const qsizetype start = out.size();
    out.resize(start + qsizetype(std::max(0, words)) * 16 + 16);
    char *const begin = out.data() + start;
    char *p = begin;
    int sentenceLeft = 0;
    for (int i = 0; i < words; ++i) {
        const quint64 r = splitmix(state);
        const PaddedWord &w = kPaddedWords[r % kPaddedWords.size()];
        if (p != begin)
            *p++ = ' ';
        std::memcpy(p, w.bytes, sizeof w.bytes);
        if (sentenceLeft == 0) {
            *p = char(*p - 'a' + 'A');
            sentenceLeft = 6 + int((r >> 32) % 9);
        }
        p += w.size;
        if (--sentenceLeft == 0 || i == words - 1) {
            *p++ = '.';
            sentenceLeft = 0;
        }
    }
    out.truncate(start + (p - begin));
}

} // namespace

QString SimulatorContent::answerFor(const QString &prompt, int words, int variant)
{
    QByteArray out;
    appendAnswerFor(out, hash(prompt), words, variant);
    return QString::fromLatin1(out);
}

void SimulatorContent::appendAnswer(QByteArray &out, QByteArrayView promptUtf8, int words, int variant)
{
    appendAnswerFor(out, hash(promptUtf8), words, variant);
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

QList<SimulatorContent::PackMemberView> SimulatorContent::parsePack(QByteArrayView prompt)
{
    // The tags are ASCII, and an ASCII byte never occurs inside a multi-byte
    // UTF-8 sequence. The matchers are built once (indexOf() builds one per
    // call in a long prompt).
    static constexpr char openTag[] = "<request id=\"";
    static constexpr char closeTag[] = "</request>";
    static constexpr auto open = qMakeStaticByteArrayMatcher(openTag);
    static constexpr auto close = qMakeStaticByteArrayMatcher(closeTag);
    constexpr qsizetype openSize = sizeof openTag - 1;
    constexpr qsizetype closeSize = sizeof closeTag - 1;
    QList<PackMemberView> members;
    qsizetype pos = 0;
    while ((pos = open.indexIn(prompt, pos)) >= 0) {
        const qsizetype idStart = pos + openSize;
        const qsizetype idEnd = prompt.indexOf('"', idStart);
        if (idEnd < 0 || idEnd + 1 >= prompt.size() || prompt.at(idEnd + 1) != '>')
            break;
        qsizetype textStart = idEnd + 2;
        const qsizetype end = close.indexIn(prompt, textStart);
        if (end < 0)
            break;
        qsizetype textEnd = end;
        if (textStart < textEnd && prompt.at(textStart) == '\n')
            ++textStart;
        if (textEnd > textStart && prompt.at(textEnd - 1) == '\n')
            --textEnd;
        members.append({prompt.sliced(idStart, idEnd - idStart), prompt.sliced(textStart, textEnd - textStart)});
        pos = end + closeSize;
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
