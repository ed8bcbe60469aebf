#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

// What answering one model request takes, decided before it is queued: the
// bytes to send and when. Written by the planners (SimulatorPlanner,
// SimulatorEmbedPlanner), read by SimulatorServer (quota) and
// SimulatorScheduler (timing and writes).
//
// Times are in unscaled milliseconds; the scheduler applies jitter and
// SimulatorConfig::timeScale. Tokens follow SimulatorPlanner's counting rule.
//
// Thread: plain value type.
struct SimulatorWork {
    bool stream = false;
    bool sse = true;              // stream: SSE framing; false = one JSON array (no alt=sse)
    QByteArray body;              // unary
    QList<QByteArray> chunks;     // stream: one JSON object per event
    QList<double> chunkAtMs;      // stream: offsets of the chunks from the start of service
    double serviceMs = 0;         // before jitter
    int promptTokens = 0;         // input tokens: what the TPM quota counts
    int outputTokens = 0;         // candidatesTokenCount, every candidate
    int packDropped = 0;          // pack members left out of the answer (fault injection)
    int failAfterChunk = -1;      // stream: after this many events, an error event ends it (fault injection)
    QString serverTiming;         // set when service starts
};
