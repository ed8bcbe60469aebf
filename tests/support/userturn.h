#pragma once

// The simplest Gemini request body, one user turn of text:
// {"contents":[{"role":"user","parts":[{"text": text}]}]}. Shared by the
// tests and benchmarks that send generateContent requests.
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

inline QJsonObject userText(const QString &text)
{
    return QJsonObject{{QStringLiteral("contents"),
                        QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                               {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}}}}}};
}
