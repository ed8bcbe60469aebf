#include "core/http/sseparser.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace {
bool isBlank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
} // namespace

QList<QJsonObject> SseParser::feed(const QByteArray &bytes)
{
    QList<QJsonObject> out;
    if (bytes.isEmpty())
        return out;

    QByteArrayView in(bytes);
    if (m_mode == Mode::Unknown) {
        qsizetype i = 0;
        while (i < in.size() && isBlank(in[i]))
            ++i;
        if (i == in.size())
            return out; // only blank so far: still undecided (blank lines dispatch nothing)
        m_mode = (in[i] == '{' || in[i] == '[') ? Mode::BareJson : Mode::Sse;
        in = in.sliced(i);
        m_pendingCr = false;
    }
    if (m_mode == Mode::BareJson) {
        m_buffer.append(in);
        return out;
    }

    if (m_pendingCr && !in.isEmpty() && in.front() == '\n')
        in = in.sliced(1);
    m_pendingCr = false;

    qsizetype start = 0;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c != '\r' && c != '\n')
            continue;
        QByteArrayView piece = in.sliced(start, i - start);
        if (m_buffer.isEmpty()) {
            processLine(piece, out);
        } else {
            m_buffer.append(piece);
            processLine(m_buffer, out);
            m_buffer.clear();
        }
        if (c == '\r') {
            if (i + 1 < in.size()) {
                if (in[i + 1] == '\n')
                    ++i;
            } else {
                m_pendingCr = true;
            }
        }
        start = i + 1;
    }
    m_buffer.append(in.sliced(start));
    return out;
}

QList<QJsonObject> SseParser::finish()
{
    QList<QJsonObject> out;
    if (m_mode == Mode::BareJson) {
        // A bare array is the non-SSE streaming shape: one element per chunk.
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(m_buffer, &err);
        m_buffer.clear();
        if (err.error == QJsonParseError::NoError && doc.isArray()) {
            for (const QJsonValue &v : doc.array()) {
                if (v.isObject()) {
                    out.append(v.toObject());
                    ++m_events;
                } else {
                    ++m_malformed;
                }
            }
        } else if (err.error == QJsonParseError::NoError && doc.isObject()) {
            out.append(doc.object());
            ++m_events;
        } else {
            ++m_malformed;
        }
        return out;
    }
    if (!m_buffer.isEmpty()) {
        processLine(m_buffer, out);
        m_buffer.clear();
    }
    dispatch(out);
    return out;
}

void SseParser::processLine(QByteArrayView line, QList<QJsonObject> &out)
{
    if (line.isEmpty()) {
        dispatch(out);
        return;
    }
    if (line.front() == ':')
        return; // comment
    const qsizetype colon = line.indexOf(':');
    const QByteArrayView field = colon < 0 ? line : line.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (!value.isEmpty() && value.front() == ' ')
        value = value.sliced(1);
    if (field == "data") {
        if (m_hasData)
            m_data.append('\n');
        m_data.append(value);
        m_hasData = true;
    }
    // event:, id:, retry: and unknown fields carry nothing Gemini uses.
}

void SseParser::dispatch(QList<QJsonObject> &out)
{
    if (!m_hasData)
        return;
    const QByteArray data = m_data;
    m_data.clear();
    m_hasData = false;
    if (data.trimmed() == "[DONE]")
        return;
    emitJson(data, out);
}

void SseParser::emitJson(const QByteArray &data, QList<QJsonObject> &out)
{
    if (data.trimmed().isEmpty())
        return;
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()) {
        ++m_malformed;
        return;
    }
    out.append(doc.object());
    ++m_events;
}
