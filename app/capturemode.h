#pragma once

struct AppConfig;
class QCommandLineParser;
class QCoreApplication;

// `sluice --capture-baseline FILE [--url URL] [--locust-workers K]` and either
// the knee search `[--max-seconds S] [--start-users N] [--p95-limit-ms MS]`
// (the default: KneeSearch chooses each step from the ones before and stops
// within --max-seconds, 180) or fixed steps `--steps N --step-seconds S
// --users-per-step U` (any one of them selects this mode). Loads the
// embedded gateway (or a running one at --url) with Locust (a master and K
// local workers, default CPU cores - 1; 0 = one process), builds the
// throughput curve, finds its knee and writes a PerformanceBaseline to FILE.
// Progress goes to stderr: for the search one line per step (users, req/s,
// p95, errors, the generator's CPU, the decision), for fixed steps one line
// per second and per step. A load-generator-bound step is flagged and never
// becomes the knee.
// Exit status: 0 written, 1 the load test failed, 2 bad options.
//
// Thread: main thread.
void addCaptureOptions(QCommandLineParser &parser);
int runCaptureMode(QCoreApplication &app, const QCommandLineParser &parser, const AppConfig &config);
