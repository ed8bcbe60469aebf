#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

// The GeminiSimulator's deterministic "model": answers, token counts,
// embeddings and JSON-mode values are pure functions of their inputs, so the
// same prompt always gets the same answer and tests can predict it.
//
// Thread: stateless; every function is thread-safe.
class SimulatorContent
{
public:
    // ~4 characters per token, at least 1 (also for empty text).
    static int tokensFor(const QString &text) { return tokensForLength(text.size()); }
    // The same for a text of `utf16Length` UTF-16 code units (QString::size()).
    static int tokensForLength(qsizetype utf16Length);

    // The answer to `prompt`: exactly `words` words of pseudo-prose chosen by a
    // hash of the prompt; `variant` gives a different answer per candidate index.
    static QString answerFor(const QString &prompt, int words, int variant = 0);
    // The same answer (it is ASCII) for a prompt given as UTF-8, appended to
    // `out` as bytes: the answer paths that never hold a QString use this.
    static void appendAnswer(QByteArray &out, QByteArrayView promptUtf8, int words, int variant = 0);

    // A unit-length (L2) vector of `dimensions` values derived from `text`.
    static QList<double> embeddingFor(const QString &text, int dimensions);

    // The members of a packed prompt (core/gemini/packcodec.h), given as
    // UTF-8: each <request id="ID">\n...\n</request> block, as views into
    // it, the text without the newline after the opening and before the
    // closing tag. A block whose tags are broken ends the reading.
    struct PackMemberView {
        QByteArrayView id;
        QByteArrayView text;
    };
    static QList<PackMemberView> parsePack(QByteArrayView promptUtf8);

    // True for Sluice's pack schema: an ARRAY whose items are OBJECTs with
    // properties "id" and "text" (responseSchema or responseJsonSchema spelling).
    static bool isPackSchema(const QJsonObject &schema);

    // A value valid against an OpenAPI-subset responseSchema (types in upper
    // case) or a JSON Schema responseJsonSchema (lower case, type arrays,
    // anyOf/oneOf, enum, const, min/max, minItems/maxItems, maxLength).
    // Strings and numbers are derived from `seedText`.
    static QJsonValue valueForSchema(const QJsonObject &schema, const QString &seedText);

    static quint64 hash(const QString &text); // FNV-1a 64 of the UTF-8 bytes
    static quint64 hash(QByteArrayView utf8);
};
