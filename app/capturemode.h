#pragma once

struct AppConfig;
class QCommandLineParser;
class QCoreApplication;

// `sluice --capture-baseline FILE [--steps N] [--step-seconds S]
// [--users-per-step U] [--url URL]`: runs the stepped Locust test against the
// embedded gateway (or a running one at --url), builds the throughput curve,
// finds its inflection point and writes a PerformanceBaseline to FILE.
// Progress goes to stderr, one line per second and per step.
// Exit status: 0 written, 1 the load test failed, 2 bad options.
//
// Thread: main thread.
void addCaptureOptions(QCommandLineParser &parser);
int runCaptureMode(QCoreApplication &app, const QCommandLineParser &parser, const AppConfig &config);
