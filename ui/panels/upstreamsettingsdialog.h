#pragma once

#include "ui/consolesettings.h"

#include <QDialog>

class QButtonGroup;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;

// Chooses the upstream for the next start: the embedded GeminiSimulator or
// Google's Gemini API (model, optional base URL, API key). Applying needs a
// restart (the dialog says so). The key is written to ConsoleSettings (a 0600
// file); it is typed into a masked field, never read back into the UI, and
// never part of the UpstreamChoice value passed around. When GEMINI_API_KEY is
// set it wins and the key field is disabled.
//
// Thread: UI thread.
class UpstreamSettingsDialog : public QDialog
{
    Q_OBJECT
public:
    UpstreamSettingsDialog(ConsoleSettings *settings, QWidget *parent = nullptr);

    UpstreamChoice choice() const;
    QLineEdit *apiKeyEdit() const { return m_key; }
    QRadioButton *simulatorButton() const { return m_simulator; }
    QRadioButton *geminiButton() const { return m_gemini; }
    QLineEdit *modelEdit() const { return m_model; }

    // Stores the choice (and a newly typed key) into the settings. Returns
    // false with a reason when Gemini is chosen without any key.
    bool save(QString *error = nullptr);

public slots:
    void accept() override;

signals:
    void upstreamSaved(const UpstreamChoice &choice);

private:
    void updateState();

    ConsoleSettings *m_settings;
    QRadioButton *m_simulator = nullptr;
    QRadioButton *m_gemini = nullptr;
    QLineEdit *m_model = nullptr;
    QLineEdit *m_baseUrl = nullptr;
    QLineEdit *m_key = nullptr;
    QPushButton *m_forgetKey = nullptr;
    QLabel *m_keyState = nullptr;
    QLabel *m_error = nullptr;
    bool m_forget = false;
};
