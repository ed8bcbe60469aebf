#include "server/simulator/simulatorplanner.h"

#include "core/json/jsonbytes.h"
#include "server/simulator/simulatorconfig.h"
#include "server/simulator/simulatorcontent.h"
#include "server/simulator/simulatorwire.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace {

// Splits text into n pieces at spaces; the pieces concatenate to the text exactly.
QStringList splitText(const QString &text, int n)
{
    QStringList pieces;
    qsizetype start = 0;
    for (int i = 1; i < n && start < text.size(); ++i) {
        qsizetype cut = text.size() * i / n;
        if (cut <= start)
            continue;
        const qsizetype space = text.indexOf(QLatin1Char(' '), cut);
        if (space < 0)
            break;
        cut = space;
        pieces << text.mid(start, cut - start);
        start = cut;
    }
    pieces << text.mid(start);
    return pieces;
}

// Whether a pack member's id is one packDropIds names.
bool listed(const QStringList &ids, QByteArrayView utf8)
{
    return !ids.isEmpty() && ids.contains(QString::fromUtf8(utf8));
}

} // namespace

SimulatorPlanner::SimulatorPlanner(const SimulatorConfig &config, std::mt19937_64 &rng)
    : m_config(config), m_rng(rng), m_idState(quint64(config.seed) * 0x9e3779b97f4a7c15ULL)
{
}

QByteArray SimulatorPlanner::packAnswers(const QList<SimulatorContent::PackMemberView> &members, int variant,
                                         int *dropped)
{
    // [{"id":..,"text":..},...] written directly, as QJsonDocument would
    // (keys sorted): this is the hot path of every packed call.
    const int words = m_config.responseWords;
    QByteArray answers;
    answers.reserve(2 + members.size() * (32 + qsizetype(words) * 9));
    answers += '[';
    for (const auto &m : members) {
        const bool drop = listed(m_config.packDropIds, m.id)
            || (m_config.packDropRate > 0
                && std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < m_config.packDropRate);
        if (drop) {
            ++*dropped;
            continue;
        }
        if (answers.size() > 1)
            answers += ',';
        answers += "{\"id\":";
        JsonBytes::appendUtf8String(answers, m.id);
        // An answer is letters, spaces and full stops: nothing to escape.
        answers += ",\"text\":\"";
        SimulatorContent::appendAnswer(answers, m.text, words, variant);
        answers += "\"}";
    }
    answers += ']';
    return answers;
}

void SimulatorPlanner::planGenerate(const GenerateRequest &request, const QString &model, SimulatorWork *work)
{
    const SimulatorRequestReader::GenerationSettings &settings = request.settings;
    const bool stream = work->stream;
    work->promptTokens = request.promptTokens;
    const int words = m_config.responseWords;

    // Pack members are read from the prompt's UTF-8 (a prompt that came the
    // slow way, as a QString, is converted first).
    QByteArray packPromptUtf8;
    QList<SimulatorContent::PackMemberView> memberViews;
    if (settings.packSchema) {
        if (!request.scanned)
            packPromptUtf8 = request.prompt.text.toUtf8();
        memberViews = SimulatorContent::parsePack(request.scanned ? QByteArrayView(request.promptUtf8)
                                                                  : QByteArrayView(packPromptUtf8));
    }
    const bool packed = !memberViews.isEmpty();
    // The rarer answers are made from the prompt as a QString.
    QString promptText = request.prompt.text;
    if (request.scanned && settings.jsonMode && !packed)
        promptText = QString::fromUtf8(request.promptUtf8);

    QList<QByteArray> texts; // each candidate's text as a JSON string literal
    QStringList finishReasons;
    QString streamText;      // candidate 0's text, when streaming
    for (int i = 0; i < settings.candidateCount; ++i) {
        // The hot paths write the answer as UTF-8 bytes, the others as a QString.
        QByteArray utf8;
        QString text;
        bool isUtf8 = true;
        if (packed) {
            utf8 = packAnswers(memberViews, i, &work->packDropped);
        } else if (settings.packSchema) {
            text = QString::fromUtf8(QJsonDocument(SimulatorContent::valueForSchema(settings.schema, promptText)
                                                       .toArray()).toJson(QJsonDocument::Compact));
            isUtf8 = false;
        } else if (settings.jsonMode) {
            const QJsonValue v = settings.hasSchema
                ? SimulatorContent::valueForSchema(settings.schema, promptText + QString::number(i))
                : QJsonValue(QJsonObject{{QStringLiteral("answer"), SimulatorContent::answerFor(promptText, words, i)}});
            QJsonArray wrapper{v};
            QByteArray compact = QJsonDocument(wrapper).toJson(QJsonDocument::Compact);
            text = QString::fromUtf8(compact.mid(1, compact.size() - 2)); // a scalar has no document of its own
            isUtf8 = false;
        } else if (request.scanned) {
            SimulatorContent::appendAnswer(utf8, request.promptUtf8, words, i);
        } else {
            text = SimulatorContent::answerFor(request.prompt.text, words, i);
            isUtf8 = false;
        }
        qsizetype length = isUtf8 ? SimulatorWire::utf16Length(utf8) : text.size();
        QString reason = QStringLiteral("STOP");
        // The whole candidate text is what counts (see the header); a JSON
        // answer cut by maxOutputTokens is cut mid-value, like Gemini's.
        if (settings.maxOutputTokens > 0 && SimulatorContent::tokensForLength(length) > settings.maxOutputTokens) {
            if (isUtf8)
                text = QString::fromUtf8(utf8);
            isUtf8 = false;
            text.truncate(qsizetype(settings.maxOutputTokens) * 4);
            length = text.size();
            reason = QStringLiteral("MAX_TOKENS");
        }
        if (stream) {
            if (i == 0)
                streamText = isUtf8 ? QString::fromUtf8(utf8) : text;
        } else {
            QByteArray literal;
            if (isUtf8)
                JsonBytes::appendUtf8String(literal, utf8);
            else
                JsonBytes::appendString(literal, text);
            texts << literal;
        }
        finishReasons << reason;
        work->outputTokens += SimulatorContent::tokensForLength(length);
    }

    const double tokenMs = m_config.tokensPerSecond > 0 ? 1000.0 / m_config.tokensPerSecond : 0.0;
    work->serviceMs = m_config.baseLatencyMs + work->outputTokens * tokenMs;
    const QString responseId = nextResponseId();
    const QString &version = model;
    if (!stream) {
        work->body = SimulatorWire::generateResponse(texts, finishReasons, version, responseId, work->promptTokens,
                                                     work->outputTokens);
        return;
    }
    // Streaming serves candidate 0 in pieces of ~12 tokens; usage is cumulative.
    const QString &text = streamText;
    const int pieces = std::clamp(SimulatorContent::tokensFor(text) / 12, 2, 32);
    const QStringList parts = splitText(text, pieces);
    QString sent;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        sent += parts[i];
        const bool last = i == parts.size() - 1;
        const int soFar = last ? work->outputTokens : SimulatorContent::tokensFor(sent);
        work->chunks << SimulatorWire::generateResponse({parts[i]}, {last ? finishReasons.first() : QString()},
                                                        version, responseId, work->promptTokens, soFar);
        work->chunkAtMs << m_config.baseLatencyMs + (last ? work->outputTokens : soFar) * tokenMs;
    }
}

void SimulatorPlanner::planCountTokens(int promptTokens, SimulatorWork *work)
{
    work->promptTokens = promptTokens;
    work->body = SimulatorWire::compact(QJsonObject{
        {QStringLiteral("totalTokens"), promptTokens},
        {QStringLiteral("promptTokensDetails"),
         QJsonArray{QJsonObject{{QStringLiteral("modality"), QStringLiteral("TEXT")},
                                {QStringLiteral("tokenCount"), promptTokens}}}}});
}

QString SimulatorPlanner::nextResponseId()
{
    quint64 z = (m_idState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const quint64 parts[2] = {z, z * 0xd1b54a32d192ed03ULL};
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(parts), 16)
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}
