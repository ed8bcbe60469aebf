#pragma once

#include "server/simulator/simhttpconnection.h"
#include "server/simulator/simulatorbatches.h"
#include "server/simulator/simulatorconfig.h"
#include "server/simulator/simulatorplanner.h"
#include "server/simulator/simulatorquota.h"
#include "server/simulator/simulatorrequestreader.h"
#include "server/simulator/simulatorshared.h"

#include <QHostAddress>
#include <QObject>
#include <QSet>

#include <memory>
#include <random>

class QTcpServer;
class QTimer;
class SimulatorScheduler;

// The machinery behind GeminiSimulator: the listening socket, the routes and
// the wiring of one model request through its parts:
//   SimulatorRequestReader (body -> validated request, or Gemini's 400)
//   -> SimulatorPlanner / SimulatorEmbedPlanner (request -> SimulatorWork)
//   -> SimulatorQuota (429 RESOURCE_EXHAUSTED) -> the fault dice
//   -> flex shedding (503) -> SimulatorQuota (429) -> the fault dice
//   -> SimulatorScheduler (capacity FIFO, timers, writes; the service time
//      times the tier's latency factor).
// countTokens is answered at once, without quota or capacity. Responses are
// delayed with timers only; nothing blocks.
//
// Batch Mode: batchGenerateContent reads the envelope
// (SimulatorRequestReader::readBatch), answers every member at once as
// generateContent would (SimulatorPlanner; an invalid member gets its error)
// and stores the job in SimulatorBatches; GET/list/cancel/delete under
// /v1beta/batches read it. A timer advances the jobs when the next one is
// due, so the batchJobs gauges follow the states without a poll.
//
// One RNG seeded by SimulatorConfig::seed (reseeded by applyConfig) decides,
// per request and in this order: pack-member drops, flex shedding (flex
// requests only, when flexShedRate > 0), the fault, the mid-stream error
// (when midStreamErrorRate > 0), the jitter.
//
// Thread: created by GeminiSimulator, then lives in and is used only from the
// simulator's own thread ("sluice-simulator").
class SimulatorServer : public QObject
{
    Q_OBJECT
public:
    explicit SimulatorServer(std::shared_ptr<SimulatorShared> shared, QObject *parent = nullptr);
    ~SimulatorServer() override;

    bool listen(const QHostAddress &address, quint16 port, QString *error, quint16 *boundPort);
    // Swaps the config in, reseeds the RNG and starts empty quota windows
    // (and a new quota day).
    void applyConfig(const SimulatorConfig &config);
    void shutdown();

private:
    void onNewConnection();
    void onRequest(SimHttpConnection *conn, SimHttpConnection::Request &req);
    void handleModels(SimHttpConnection *conn, SimHttpConnection::Request &req);
    void handleModelCall(SimHttpConnection *conn, SimHttpConnection::Request &req, const QString &model,
                         const QString &method);
    void handleControl(SimHttpConnection *conn, SimHttpConnection::Request &req, bool configRoute);
    void handleBatchCreate(SimHttpConnection *conn, SimHttpConnection::Request &req, const QString &model);
    void handleBatches(SimHttpConnection *conn, SimHttpConnection::Request &req);
    // False when the key is wrong (and its 400 was sent).
    bool checkApiKey(SimHttpConnection *conn, const SimHttpConnection::Request &req, bool streamRoute);
    // False when the quota refused the request (and its 429 was sent).
    bool admitQuota(SimHttpConnection *conn, const QString &model, int inputTokens, bool streamRoute,
                    SimulatorRequestReader::ServiceTier tier = SimulatorRequestReader::ServiceTier::Standard);
    // Moves the batch jobs that are due, publishes the gauges, re-arms the timer.
    void advanceBatches();
    // False when a fault took the request over (dropped, held, 500, 503).
    bool passFaults(SimHttpConnection *conn, bool streamRoute);

    void reply(SimHttpConnection *conn, int status, const QByteArray &body,
               const SimHttpConnection::Headers &headers = {}, bool eventStreamType = false);
    double jitter();
    template <typename Fn> void stat(Fn &&fn)
    {
        QMutexLocker lock(&m_shared->mutex);
        fn(m_shared->stats);
    }

    std::shared_ptr<SimulatorShared> m_shared;
    SimulatorConfig m_config;
    std::mt19937_64 m_rng;
    SimulatorRequestReader m_reader;
    SimulatorPlanner m_planner;      // reads m_config, draws from m_rng
    SimulatorQuota m_quota;
    SimulatorScheduler *m_scheduler; // child
    SimulatorBatches m_batches;
    QTimer *m_batchTimer;            // child; fires when the next batch job is due
    QTcpServer *m_server = nullptr;
    QSet<SimHttpConnection *> m_connections;
};
