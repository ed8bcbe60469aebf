#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>

// Incremental parser for Gemini's `?alt=sse` bodies (text/event-stream).
//
// Accepts CRLF, LF and CR line endings (mixed, and split across feed() calls),
// `data:` fields spread over several lines (joined with '\n' as the SSE spec
// says), comment lines (":..."), and other fields (event:, id:, retry:), which
// are ignored. An event is dispatched at a blank line, or at finish() when the
// stream ends without one.
//
// Google sometimes answers an SSE route with a bare JSON body and no `data:`
// prefix (a 404 recorded in recording_error_404_streamGenerateContent.json):
// when the first non-blank byte of the stream is '{' or '[', the whole body is
// taken as one JSON document and becomes one event at finish() (a JSON
// array, the non-SSE streaming shape, becomes one event per element).
//
// An event whose data is not a JSON object is counted in malformedEvents() and
// skipped; "[DONE]" (OpenAI style) is ignored.
//
// Thread: not thread-safe; one parser per stream.
class SseParser
{
public:
    // Feeds more bytes; returns the events completed by them, in order.
    QList<QJsonObject> feed(const QByteArray &bytes);
    // Ends the stream; returns any event still pending.
    QList<QJsonObject> finish();

    bool isBareJson() const { return m_mode == Mode::BareJson; }
    int malformedEvents() const { return m_malformed; }
    int eventCount() const { return m_events; }

private:
    enum class Mode { Unknown, Sse, BareJson };

    void processLine(QByteArrayView line, QList<QJsonObject> &out);
    void dispatch(QList<QJsonObject> &out);
    void emitJson(const QByteArray &data, QList<QJsonObject> &out);

    Mode m_mode = Mode::Unknown;
    QByteArray m_buffer;      // undelivered bytes (partial line, or the whole bare JSON body)
    QByteArray m_data;        // data lines of the event being built
    bool m_hasData = false;
    bool m_pendingCr = false; // last byte fed was '\r': a following '\n' belongs to it
    int m_malformed = 0;
    int m_events = 0;
};
