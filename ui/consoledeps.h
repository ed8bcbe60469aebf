#pragma once

#include <QMetaType>
#include <QString>
#include <QUrl>

class BatchInferenceEngine;
class DriftMonitor;
class InferenceMetricsCollector;
class LoadTestController;

// What the console needs from the application. app/ owns both objects and
// keeps them alive longer than the MainWindow; the console never deletes them.
//
// The console only calls the engine's thread-safe, cheap methods (config(),
// setConfig(), gauges(), counters(), drain()) on the UI thread, and listens to
// configChanged(), drained() and the collector's snapshotReady(), which reach
// it queued when they are emitted on another thread.
struct ConsoleDeps {
    BatchInferenceEngine *engine = nullptr;       // required
    InferenceMetricsCollector *metrics = nullptr; // optional: no charts without it
    LoadTestController *loadTests = nullptr;      // optional: the load-test panel stays disabled without it
    DriftMonitor *drift = nullptr;                // optional: drift shows "no baseline" without it
};

// Facts about the running gateway the console shows in its status bar.
// Thread: plain value type.
struct ConsoleInfo {
    QUrl listeningUrl;   // e.g. http://127.0.0.1:8080 (empty while not yet listening)
    QUrl dashboardUrl;   // e.g. http://127.0.0.1:8080/ (the React dashboard)
    QString upstreamKind = QStringLiteral("simulator"); // "simulator" or "gemini"
    QString model;       // default model, e.g. "gemini-2.0-flash"
};

Q_DECLARE_METATYPE(ConsoleInfo)
