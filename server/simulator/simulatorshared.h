#pragma once

#include "server/simulator/simulatorconfig.h"
#include "server/simulator/simulatorstats.h"

#include <QMutex>

// State shared by a GeminiSimulator (any thread) and the parts of its server
// (simulator thread): the config in force and the counters.
//
// Thread: every access holds `mutex`, briefly (no I/O under it).
struct SimulatorShared {
    mutable QMutex mutex;
    SimulatorConfig config;
    SimulatorStats stats;
};
