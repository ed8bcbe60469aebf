#include "ui/panels/upstreamsettingsdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

UpstreamSettingsDialog::UpstreamSettingsDialog(ConsoleSettings *settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
{
    setWindowTitle(tr("Upstream settings"));
    setMinimumWidth(520);
    const UpstreamChoice current = settings->upstream();

    auto *v = new QVBoxLayout(this);
    auto *restart = new QLabel(tr("<b>Applies at the next start of Sluice.</b> The running gateway keeps its "
                                  "current upstream until you restart it."), this);
    restart->setWordWrap(true);
    v->addWidget(restart);

    auto *kindBox = new QGroupBox(tr("Upstream"), this);
    auto *kv = new QVBoxLayout(kindBox);
    m_simulator = new QRadioButton(tr("Embedded GeminiSimulator (no key, no cost; for trials and tests)"), kindBox);
    m_gemini = new QRadioButton(tr("Google Gemini API"), kindBox);
    kv->addWidget(m_simulator);
    kv->addWidget(m_gemini);
    v->addWidget(kindBox);

    auto *form = new QFormLayout;
    m_model = new QLineEdit(current.model, this);
    m_model->setPlaceholderText(QStringLiteral("gemini-2.0-flash"));
    form->addRow(tr("Default model"), m_model);
    m_baseUrl = new QLineEdit(current.baseUrl.toString(), this);
    m_baseUrl->setPlaceholderText(QStringLiteral("https://generativelanguage.googleapis.com"));
    form->addRow(tr("Base URL"), m_baseUrl);

    m_key = new QLineEdit(this);
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setObjectName(QStringLiteral("apiKey"));
    m_key->setContextMenuPolicy(Qt::NoContextMenu); // no copy out of the field
    form->addRow(tr("API key"), m_key);
    m_keyState = new QLabel(this);
    m_keyState->setWordWrap(true);
    m_keyState->setStyleSheet(QStringLiteral("color: palette(mid);"));
    m_forgetKey = new QPushButton(tr("Forget stored key"), this);
    connect(m_forgetKey, &QPushButton::clicked, this, [this] {
        m_forget = true;
        m_key->clear();
        updateState();
    });
    form->addRow(QString(), m_keyState);
    form->addRow(QString(), m_forgetKey);
    v->addLayout(form);

    auto *where = new QLabel(tr("The key is kept in %1 (readable by you only, mode 0600). It is never shown, "
                                "logged or written into exported files. GEMINI_API_KEY, when set, takes precedence.")
                                 .arg(ConsoleSettings::filePath().toHtmlEscaped()),
                             this);
    where->setWordWrap(true);
    where->setStyleSheet(QStringLiteral("color: palette(mid);"));
    v->addWidget(where);

    m_error = new QLabel(this);
    m_error->setStyleSheet(QStringLiteral("color: #b3261e;"));
    m_error->setWordWrap(true);
    m_error->hide();
    v->addWidget(m_error);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Save)->setText(tr("Save (restart to apply)"));
    connect(buttons, &QDialogButtonBox::accepted, this, &UpstreamSettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &UpstreamSettingsDialog::reject);
    v->addWidget(buttons);

    (current.kind == UpstreamChoice::Kind::Gemini ? m_gemini : m_simulator)->setChecked(true);
    connect(m_gemini, &QRadioButton::toggled, this, &UpstreamSettingsDialog::updateState);
    connect(m_key, &QLineEdit::textChanged, this, &UpstreamSettingsDialog::updateState);
    updateState();
}

UpstreamChoice UpstreamSettingsDialog::choice() const
{
    UpstreamChoice c;
    c.kind = m_gemini->isChecked() ? UpstreamChoice::Kind::Gemini : UpstreamChoice::Kind::Simulator;
    c.model = m_model->text().trimmed().isEmpty() ? UpstreamChoice().model : m_model->text().trimmed();
    c.baseUrl = QUrl(m_baseUrl->text().trimmed());
    return c;
}

void UpstreamSettingsDialog::updateState()
{
    const bool gemini = m_gemini->isChecked();
    const bool env = !ConsoleSettings::environmentApiKey().isEmpty();
    const bool stored = m_settings->hasStoredApiKey() && !m_forget;
    m_baseUrl->setEnabled(gemini);
    m_key->setEnabled(gemini && !env);
    m_forgetKey->setEnabled(stored && !env);
    if (env)
        m_keyState->setText(tr("Using GEMINI_API_KEY from the environment."));
    else if (!m_key->text().isEmpty())
        m_keyState->setText(tr("A new key will be stored."));
    else if (stored)
        m_keyState->setText(tr("A key is stored (hidden). Type a new one to replace it."));
    else if (m_forget)
        m_keyState->setText(tr("The stored key will be forgotten."));
    else
        m_keyState->setText(tr("No key stored."));
    m_key->setPlaceholderText(stored ? tr("stored; type to replace") : tr("paste your Gemini API key"));
}

bool UpstreamSettingsDialog::save(QString *error)
{
    const UpstreamChoice c = choice();
    const QByteArray typed = m_key->text().trimmed().toUtf8();
    const bool haveKey = !typed.isEmpty() || !ConsoleSettings::environmentApiKey().isEmpty()
                         || (m_settings->hasStoredApiKey() && !m_forget);
    if (c.kind == UpstreamChoice::Kind::Gemini && !haveKey) {
        if (error)
            *error = tr("The Gemini API needs an API key: enter one or set GEMINI_API_KEY.");
        return false;
    }
    if (c.kind == UpstreamChoice::Kind::Gemini && !c.baseUrl.isEmpty()
        && (!c.baseUrl.isValid() || (c.baseUrl.scheme() != QLatin1String("https") && c.baseUrl.scheme() != QLatin1String("http")))) {
        if (error)
            *error = tr("Base URL must be an http:// or https:// URL.");
        return false;
    }
    if (!typed.isEmpty())
        m_settings->setStoredApiKey(typed);
    else if (m_forget)
        m_settings->setStoredApiKey({});
    m_settings->setUpstream(c);
    m_key->clear();
    return true;
}

void UpstreamSettingsDialog::accept()
{
    QString error;
    if (!save(&error)) {
        m_error->setText(error);
        m_error->show();
        return;
    }
    emit upstreamSaved(choice());
    QDialog::accept();
}
