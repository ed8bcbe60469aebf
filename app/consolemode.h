#pragma once

struct AppConfig;
class QApplication;

// `sluice` with no mode: the desktop console (ui/MainWindow) hosting the
// embedded gateway (and the embedded GeminiSimulator when no API key is set).
// The upstream chosen in the console's settings applies when neither the
// environment nor the command line chose one. Closing the window drains the
// gateway first. Returns the process exit status.
//
// Thread: main thread (the GUI thread).
int runConsoleMode(QApplication &app, AppConfig config);
