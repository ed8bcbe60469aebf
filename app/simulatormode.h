#pragma once

class QCommandLineParser;
class QCoreApplication;

// `sluice --simulate-gemini [--host ADDR] [--port N] [--sim-config FILE]`:
// runs the GeminiSimulator alone until SIGINT/SIGTERM. Prints
// `listening on http://HOST:PORT` on stdout once bound (port 0 picks a free
// port). Returns the process exit status (2 for a bad option or config file).
//
// Thread: main thread.

// Adds --simulate-gemini and --sim-config, and --host and --port unless the
// caller defines them itself (they are common options, DESIGN.md §11).
void addSimulatorOptions(QCommandLineParser &parser, bool addHostAndPort = true);
int runSimulatorMode(QCoreApplication &app, const QCommandLineParser &parser);
