#pragma once

struct AppConfig;
class QCoreApplication;

// `sluice --server`: the gateway alone, no display. Prints
// `listening on http://HOST:PORT` on stdout once bound. The first SIGTERM or
// SIGINT stops admitting (new work gets 503), lets admitted work finish within
// AppConfig::drainGraceMs and exits 0 (1 when the grace period ran out);
// a second signal exits at once (status 130).
//
// Thread: main thread.
int runServerMode(QCoreApplication &app, const AppConfig &config);
