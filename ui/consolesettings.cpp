#include "ui/consolesettings.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

namespace {

constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

// Creates the file owner-only before QSettings writes into it: QSaveFile keeps
// an existing file's permissions, so the key never lands in a world-readable file.
void ensurePrivateFile(const QString &path)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.exists())
        f.open(QIODevice::WriteOnly, kOwnerOnly);
    else
        f.setPermissions(kOwnerOnly);
}

} // namespace

QString upstreamKindName(UpstreamChoice::Kind kind)
{
    return kind == UpstreamChoice::Kind::Gemini ? QStringLiteral("gemini") : QStringLiteral("simulator");
}

ConsoleSettings::ConsoleSettings()
{
    const QString path = filePath();
    ensurePrivateFile(path);
    m_settings = std::make_unique<QSettings>(path, QSettings::IniFormat);
}

ConsoleSettings::~ConsoleSettings()
{
    sync();
}

QString ConsoleSettings::filePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
           + QStringLiteral("/sluice/sluice.conf");
}

UpstreamChoice ConsoleSettings::upstream() const
{
    UpstreamChoice c;
    const QString kind = m_settings->value(QStringLiteral("upstream/kind")).toString();
    c.kind = kind == QLatin1String("gemini") ? UpstreamChoice::Kind::Gemini : UpstreamChoice::Kind::Simulator;
    c.model = m_settings->value(QStringLiteral("upstream/model"), c.model).toString();
    c.baseUrl = QUrl(m_settings->value(QStringLiteral("upstream/baseUrl")).toString());
    return c;
}

void ConsoleSettings::setUpstream(const UpstreamChoice &choice)
{
    m_settings->setValue(QStringLiteral("upstream/kind"), upstreamKindName(choice.kind));
    m_settings->setValue(QStringLiteral("upstream/model"), choice.model);
    m_settings->setValue(QStringLiteral("upstream/baseUrl"), choice.baseUrl.toString());
    sync();
}

QByteArray ConsoleSettings::storedApiKey() const
{
    return m_settings->value(QStringLiteral("upstream/apiKey")).toByteArray();
}

bool ConsoleSettings::hasStoredApiKey() const
{
    return !storedApiKey().isEmpty();
}

void ConsoleSettings::setStoredApiKey(const QByteArray &key)
{
    if (key.isEmpty())
        m_settings->remove(QStringLiteral("upstream/apiKey"));
    else
        m_settings->setValue(QStringLiteral("upstream/apiKey"), QString::fromUtf8(key));
    sync();
}

QByteArray ConsoleSettings::environmentApiKey()
{
    return qgetenv("GEMINI_API_KEY");
}

QByteArray ConsoleSettings::effectiveApiKey() const
{
    const QByteArray env = environmentApiKey();
    return env.isEmpty() ? storedApiKey() : env;
}

QByteArray ConsoleSettings::windowGeometry() const
{
    return m_settings->value(QStringLiteral("window/geometry")).toByteArray();
}

void ConsoleSettings::setWindowGeometry(const QByteArray &geometry)
{
    m_settings->setValue(QStringLiteral("window/geometry"), geometry);
}

QByteArray ConsoleSettings::windowState() const
{
    return m_settings->value(QStringLiteral("window/state")).toByteArray();
}

void ConsoleSettings::setWindowState(const QByteArray &state)
{
    m_settings->setValue(QStringLiteral("window/state"), state);
}

QByteArray ConsoleSettings::splitterState() const
{
    return m_settings->value(QStringLiteral("window/splitter")).toByteArray();
}

void ConsoleSettings::setSplitterState(const QByteArray &state)
{
    m_settings->setValue(QStringLiteral("window/splitter"), state);
}

QByteArray ConsoleSettings::chartsSplitterState() const
{
    return m_settings->value(QStringLiteral("window/chartsSplitter")).toByteArray();
}

void ConsoleSettings::setChartsSplitterState(const QByteArray &state)
{
    m_settings->setValue(QStringLiteral("window/chartsSplitter"), state);
}

int ConsoleSettings::chartWindowSeconds() const
{
    return m_settings->value(QStringLiteral("charts/windowSeconds"), 120).toInt();
}

void ConsoleSettings::setChartWindowSeconds(int seconds)
{
    m_settings->setValue(QStringLiteral("charts/windowSeconds"), seconds);
}

void ConsoleSettings::sync()
{
    m_settings->sync();
    QFile::setPermissions(filePath(), kOwnerOnly);
}
