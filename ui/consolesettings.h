#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>
#include <QUrl>

#include <memory>

class QSettings;

// The upstream the gateway should use on its next start (DESIGN.md §8:
// `upstream` is a restart knob). The API key is not part of this value so that
// it can be passed around, logged and exported without leaking the secret.
struct UpstreamChoice {
    enum class Kind { Simulator, Gemini };
    Kind kind = Kind::Simulator;
    QString model = QStringLiteral("gemini-2.0-flash");
    QUrl baseUrl; // Gemini only; empty = Google's endpoint

    bool operator==(const UpstreamChoice &) const = default;
};

QString upstreamKindName(UpstreamChoice::Kind kind); // "simulator" / "gemini"

// The console's persistent settings: window geometry and layout, chart
// preferences, the upstream choice and the stored Gemini API key.
//
// Storage: one INI file, filePath() = <GenericConfigLocation>/sluice/sluice.conf
// (~/.config/sluice/sluice.conf; under QStandardPaths::setTestModeEnabled(true)
// it moves to ~/.qttest/config/...). The file is created with permissions
// 0600 and chmod'ed to 0600 after every write, because it may hold the key.
//
// API key precedence (DESIGN.md §8: environment over config file):
// GEMINI_API_KEY when set and non-empty, else the stored key. The key is never
// logged and never shown back in the UI.
//
// Thread: UI thread (or main() before the window exists).
class ConsoleSettings
{
public:
    ConsoleSettings();
    ~ConsoleSettings();

    static QString filePath();

    UpstreamChoice upstream() const;
    void setUpstream(const UpstreamChoice &choice);

    bool hasStoredApiKey() const;
    void setStoredApiKey(const QByteArray &key); // empty forgets it
    static QByteArray environmentApiKey();        // GEMINI_API_KEY
    QByteArray effectiveApiKey() const;           // environment, else stored

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray &geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray &state);
    QByteArray splitterState() const;
    void setSplitterState(const QByteArray &state);
    QByteArray chartsSplitterState() const; // the charts over the quota panel
    void setChartsSplitterState(const QByteArray &state);

    int chartWindowSeconds() const; // default 120
    void setChartWindowSeconds(int seconds);

    // Writes to disk now and restores 0600 on the file.
    void sync();

private:
    QByteArray storedApiKey() const;
    std::unique_ptr<QSettings> m_settings;
};

Q_DECLARE_METATYPE(UpstreamChoice)
