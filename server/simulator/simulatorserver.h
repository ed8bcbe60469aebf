#pragma once

#include "server/simulator/simhttpconnection.h"
#include "server/simulator/simulatorconfig.h"
#include "server/simulator/simulatorquota.h"
#include "server/simulator/simulatorstats.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QSet>

#include <deque>
#include <memory>
#include <random>

class QTcpServer;

// State shared by a GeminiSimulator (any thread) and its SimulatorServer.
struct SimulatorShared {
    mutable QMutex mutex;
    SimulatorConfig config;
    SimulatorStats stats;
};

// The machinery behind GeminiSimulator: listening socket, routes, the FIFO of
// generations waiting for one of maxConcurrent slots, the quota windows and
// the fault dice. Responses are delayed with timers only; nothing blocks.
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
    void applyConfig(const SimulatorConfig &config);
    void shutdown();

private:
    // What answering one model request takes, decided before it is queued.
    struct Work {
        bool stream = false;
        bool sse = true;              // stream: SSE framing; false = one JSON array (no alt=sse)
        QByteArray body;              // unary
        QList<QByteArray> chunks;     // stream: one JSON object per event
        QList<double> chunkAtMs;      // stream: unscaled offsets of the chunks
        double serviceMs = 0;         // unscaled, before jitter
        int promptTokens = 0;
        int outputTokens = 0;
        QString serverTiming;
    };
    struct Job {
        QPointer<SimHttpConnection> conn;
        Work work;
        double scaledMs = 0;
        int next = 0;                 // next chunk to write
    };
    struct Failure {
        int status = 0;
        QByteArray body;
    };
    // What a generateContent request's generationConfig asks for, validated.
    struct GenerationSettings {
        int maxOutputTokens = 0;      // 0 = no limit
        int candidateCount = 1;
        bool jsonMode = false;        // responseMimeType application/json
        QJsonObject schema;           // responseSchema or responseJsonSchema, when set
        bool hasSchema = false;
        bool packSchema = false;      // schema is Sluice's pack schema
    };
    struct GenerateRequest; // the request planGenerate() reads (simulatorserver.cpp)

    void onNewConnection();
    void onRequest(SimHttpConnection *conn, SimHttpConnection::Request &req);
    void handleModels(SimHttpConnection *conn, SimHttpConnection::Request &req);
    void handleModelCall(SimHttpConnection *conn, SimHttpConnection::Request &req, const QString &model,
                         const QString &method);
    void handleControl(SimHttpConnection *conn, SimHttpConnection::Request &req, bool configRoute);

    bool scanGenerate(const QByteArray &body, GenerateRequest *out);
    static Failure readGenerate(const QJsonObject &body, GenerateRequest *out);
    static Failure readGenerationConfig(const QJsonValue &value, GenerationSettings *out);
    Failure planGenerate(const GenerateRequest &request, const QString &model, bool stream, Work *work);
    template <typename Members>
    QByteArray packAnswers(const Members &members, int variant, int *dropped);
    Failure planEmbed(const QJsonObject &body, bool batch, Work *work);
    Failure planCountTokens(const QJsonObject &body, Work *work);

    void enqueue(const std::shared_ptr<Job> &job);
    void pump();
    void start(const std::shared_ptr<Job> &job);
    void step(const std::shared_ptr<Job> &job);
    void release(const std::shared_ptr<Job> &job);

    void reply(SimHttpConnection *conn, int status, const QByteArray &body,
               const SimHttpConnection::Headers &headers = {}, bool eventStreamType = false);
    double jitter();
    QString nextResponseId();
    template <typename Fn> void stat(Fn &&fn)
    {
        QMutexLocker lock(&m_shared->mutex);
        fn(m_shared->stats);
    }

    std::shared_ptr<SimulatorShared> m_shared;
    SimulatorConfig m_config;
    QTcpServer *m_server = nullptr;
    QSet<SimHttpConnection *> m_connections;
    std::deque<std::shared_ptr<Job>> m_queue;
    int m_inFlight = 0;
    bool m_pumping = false;
    SimulatorQuota m_quota;
    std::mt19937_64 m_rng;
    quint64 m_idState = 0;
    // The generationConfig bytes of the last scanned request and what they
    // say: a packing gateway sends the very same bytes with every call.
    QByteArray m_lastGenerationConfig;
    GenerationSettings m_lastGenerationSettings;
};
