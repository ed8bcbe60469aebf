// bench_quota: answers per minute a fleet of agents gets through a quota,
// directly from the upstream and through Sluice, counted where the truth is:
// the agents count their answers, the upstream (a separate `sluice
// --simulate-gemini` process with a quota) counts the calls it served and
// the 429s it sent (/sim/v1/stats). Prints one row per case; not a test.
//
// Usage: bench_quota SLUICE_BINARY [seconds per case, default 60] [case ...]
//        bench_quota --fleet URL SECONDS AGENTS [maxOutputTokens]
//          (only the agents, against a gateway or simulator already running)
// Cases (default: all, in this order):
//   direct            200 agents call the simulator (rpmLimit 60) directly
//   configured        200 agents through `sluice --server --rpm-limit 60`
//   learned           200 agents through `sluice --server` (no limit set),
//                     agents set maxOutputTokens 48
//   noquota-auto      50 agents through the default configuration, simulator without quota
//   noquota-fanout    the same with --packing fanout
//   tpm-direct        100 agents with long prompts (60 words), simulator tpmLimit 20000, directly
//   tpm-configured    the same through `sluice --server --tpm-limit 20000`
//   tpm-shared-direct 100 agents sharing a 150-word systemInstruction (a
//                     fleet's common instructions), short questions,
//                     simulator tpmLimit 20000, directly
//   tpm-shared        the same through `sluice --server --tpm-limit 20000`
//
// Agents are closed loops, one keep-alive connection each: the next request
// goes when the answer is in; a 429 or 503 is retried after its Retry-After
// (or RetryInfo) as an SDK does. Answers count when they arrive within the
// case's window.

#include "core/gemini/geminierror.h"
#include "core/http/http1responseparser.h"
#include "core/metrics/latencyhistogram.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

using namespace std::chrono;

namespace {

struct Case {
    const char *name;
    int agents;
    bool throughSluice;
    QStringList sluiceArgs;
    QJsonObject simConfig;
    int maxOutputTokens;
    int promptWords;
    int systemWords = 0; // a systemInstruction of this many words, the same for every agent
};

struct Tally {
    qint64 answers = 0;
    qint64 refusals = 0;      // 429/503 the agents saw
    qint64 errors = 0;        // anything else
    LatencyHistogram latency; // answered requests
};

// One agent: a keep-alive connection and a closed loop of requests.
class Agent : public QObject
{
public:
    Agent(int id, const QUrl &base, int maxOutputTokens, int promptWords, int systemWords, Tally *tally,
          QObject *parent)
        : QObject(parent), m_id(id), m_base(base), m_maxOutputTokens(maxOutputTokens), m_promptWords(promptWords),
          m_systemWords(systemWords),
          m_tally(tally)
    {
        connect(&m_socket, &QTcpSocket::readyRead, this, [this] { onData(); });
        connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
            if (m_waiting) {
                m_waiting = false;
                ++m_tally->errors;
                QTimer::singleShot(100, this, [this] { send(); });
            }
        });
    }

    void start() { send(); }
    void stop() { m_stopped = true; }

private:
    void send()
    {
        if (m_stopped)
            return;
        if (m_socket.state() != QAbstractSocket::ConnectedState) {
            m_socket.abort();
            m_socket.connectToHost(m_base.host(), quint16(m_base.port()));
            if (!m_socket.waitForConnected(5000)) {
                ++m_tally->errors;
                QTimer::singleShot(200, this, [this] { send(); });
                return;
            }
        }
        QString prompt = QStringLiteral("Agent %1 asks question %2:").arg(m_id).arg(m_next++);
        for (int w = 0; w < m_promptWords; ++w)
            prompt += QStringLiteral(" context%1").arg(w);
        QJsonObject body{{QStringLiteral("contents"),
                          QJsonArray{QJsonObject{{QStringLiteral("parts"),
                                                  QJsonArray{QJsonObject{{QStringLiteral("text"), prompt}}}}}}}};
        if (m_systemWords > 0) {
            QString system = QStringLiteral("You are one agent of a fleet. Follow these rules:");
            for (int w = 0; w < m_systemWords; ++w)
                system += QStringLiteral(" rule%1").arg(w);
            body.insert(QStringLiteral("systemInstruction"),
                        QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), system}}}}});
        }
        if (m_maxOutputTokens > 0)
            body.insert(QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("maxOutputTokens"), m_maxOutputTokens}});
        const QByteArray json = QJsonDocument(body).toJson(QJsonDocument::Compact);
        QByteArray request = "POST /v1beta/models/gemini-2.0-flash:generateContent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/json\r\nContent-Length: "
                           + QByteArray::number(json.size()) + "\r\n\r\n" + json;
        m_parser.reset();
        m_sentAt.start();
        m_waiting = true;
        m_socket.write(request);
    }

    void onData()
    {
        const Http1ResponseParser::Progress p = m_parser.feed(m_socket.readAll());
        if (p == Http1ResponseParser::Progress::NeedMore)
            return;
        m_waiting = false;
        if (p == Http1ResponseParser::Progress::Error) {
            ++m_tally->errors;
            m_socket.abort();
            QTimer::singleShot(100, this, [this] { send(); });
            return;
        }
        const int status = m_parser.statusCode();
        if (status == 200) {
            ++m_tally->answers;
            m_tally->latency.record(Nanos(m_sentAt.nsecsElapsed()));
            send();
            return;
        }
        if (status == 429 || status == 503) {
            ++m_tally->refusals;
            const GeminiError e = GeminiError::fromHttp(status, m_parser.body(), m_parser.header("retry-after"));
            const qint64 waitMs = e.retryDelay ? std::max<qint64>(1, e.retryDelay->count()) : 1000;
            QTimer::singleShot(int(std::min<qint64>(waitMs, 120000)), this, [this] { send(); });
            return;
        }
        ++m_tally->errors;
        QTimer::singleShot(100, this, [this] { send(); });
    }

    int m_id;
    QUrl m_base;
    int m_maxOutputTokens;
    int m_promptWords;
    int m_systemWords;
    Tally *m_tally;
    QTcpSocket m_socket;
    Http1ResponseParser m_parser;
    QElapsedTimer m_sentAt;
    int m_next = 0;
    bool m_waiting = false;
    bool m_stopped = false;
};

// A child process that prints "listening on http://HOST:PORT".
struct Child {
    QProcess process;
    QUrl url;

    bool start(const QString &program, const QStringList &args)
    {
        process.setProcessChannelMode(QProcess::SeparateChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("GEMINI_API_KEY"));
        process.setProcessEnvironment(env);
        process.start(program, args);
        if (!process.waitForStarted(10000))
            return false;
        QElapsedTimer t;
        t.start();
        QByteArray out;
        while (t.elapsed() < 20000) {
            process.waitForReadyRead(200);
            out += process.readAllStandardOutput();
            const qsizetype at = out.indexOf("listening on ");
            if (at >= 0 && out.indexOf('\n', at) > at) {
                url = QUrl(QString::fromUtf8(out.mid(at + 13, out.indexOf('\n', at) - at - 13).trimmed()));
                return url.isValid();
            }
            if (process.state() == QProcess::NotRunning)
                break;
        }
        std::fprintf(stderr, "%s did not start: %s\n", qPrintable(program),
                     process.readAllStandardError().constData());
        return false;
    }
    ~Child()
    {
        if (process.state() != QProcess::NotRunning) {
            process.terminate();
            if (!process.waitForFinished(10000))
                process.kill();
            process.waitForFinished(3000);
        }
    }
};

QJsonObject simStats(const QUrl &sim)
{
    QTcpSocket s;
    s.connectToHost(sim.host(), quint16(sim.port()));
    if (!s.waitForConnected(3000))
        return {};
    s.write("GET /sim/v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    Http1ResponseParser p;
    while (s.waitForReadyRead(3000)) {
        if (p.feed(s.readAll()) != Http1ResponseParser::Progress::NeedMore)
            break;
    }
    return QJsonDocument::fromJson(p.body()).object();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: bench_quota SLUICE_BINARY [seconds per case] [case ...]\n");
        return 2;
    }
    if (args.at(1) == QLatin1String("--fleet") && args.size() >= 5) {
        Tally tally;
        std::vector<std::unique_ptr<Agent>> agents;
        for (int i = 0; i < args.at(4).toInt(); ++i)
            agents.push_back(std::make_unique<Agent>(i, QUrl(args.at(2)), args.value(5).toInt(), 0, 0, &tally, nullptr));
        for (auto &a : agents)
            a->start();
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < args.at(3).toInt() * 1000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
        std::printf("%lld answers, %lld refused, %lld errors, p50 %.0f ms\n", tally.answers, tally.refusals, tally.errors,
                    tally.latency.count() ? double(tally.latency.quantileNs(0.5)) / 1e6 : 0.0);
        return 0;
    }
    const QString sluice = args.at(1);
    const int seconds = args.size() > 2 ? std::max(5, args.at(2).toInt()) : 60;
    const QStringList only = args.mid(3);

    // The simulator's defaults (450 ms + 180 tokens/s, jitter, 32 at once, 48-word answers).
    const QJsonObject rpm60{{QStringLiteral("rpmLimit"), 60}};
    const QJsonObject noQuota{};
    const QJsonObject tpm{{QStringLiteral("tpmLimit"), 20000}};
    const std::vector<Case> cases{
        {"direct", 200, false, {}, rpm60, 0, 0},
        {"configured", 200, true, {QStringLiteral("--rpm-limit"), QStringLiteral("60")}, rpm60, 0, 0},
        {"learned", 200, true, {}, rpm60, 48, 0},
        {"noquota-auto", 50, true, {}, noQuota, 0, 0},
        {"noquota-fanout", 50, true, {QStringLiteral("--packing"), QStringLiteral("fanout")}, noQuota, 0, 0},
        {"tpm-direct", 100, false, {}, tpm, 0, 60},
        {"tpm-configured", 100, true, {QStringLiteral("--tpm-limit"), QStringLiteral("20000")}, tpm, 0, 60},
        {"tpm-shared-direct", 100, false, {}, tpm, 0, 0, 150},
        {"tpm-shared", 100, true, {QStringLiteral("--tpm-limit"), QStringLiteral("20000")}, tpm, 0, 0, 150},
    };

    std::printf("%-15s %6s %9s %8s %9s %9s %10s %9s %9s %9s\n", "case", "agents", "answers", "per min", "refused",
                "upstream", "up 429s", "ans/call", "p50 ms", "p95 ms");
    QTemporaryDir dir;
    for (const Case &c : cases) {
        if (!only.isEmpty() && !only.contains(QLatin1String(c.name)))
            continue;
        const QString simConfigPath = dir.filePath(QStringLiteral("%1.json").arg(QLatin1String(c.name)));
        QFile f(simConfigPath);
        if (!f.open(QIODevice::WriteOnly))
            return 1;
        f.write(QJsonDocument(c.simConfig).toJson());
        f.close();

        Child sim;
        if (!sim.start(sluice, {QStringLiteral("--simulate-gemini"), QStringLiteral("--port"), QStringLiteral("0"),
                                QStringLiteral("--sim-config"), simConfigPath}))
            return 1;
        std::unique_ptr<Child> gateway;
        QUrl target = sim.url;
        if (c.throughSluice) {
            gateway = std::make_unique<Child>();
            QStringList gargs{QStringLiteral("--server"), QStringLiteral("--port"), QStringLiteral("0"),
                              QStringLiteral("--upstream"), sim.url.toString(), QStringLiteral("--log-level"),
                              QStringLiteral("warning"), QStringLiteral("--max-queue"), QStringLiteral("8192")};
            gargs += c.sluiceArgs;
            if (!gateway->start(sluice, gargs))
                return 1;
            target = gateway->url;
        }

        Tally tally;
        std::vector<std::unique_ptr<Agent>> agents;
        for (int i = 0; i < c.agents; ++i)
            agents.push_back(std::make_unique<Agent>(i, target, c.maxOutputTokens, c.promptWords, c.systemWords, &tally, nullptr));
        for (auto &a : agents)
            a->start();
        QElapsedTimer t;
        t.start();
        // Progress once every 10 s, so a long run shows it is alive.
        while (t.elapsed() < seconds * 1000) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 100);
            if (t.elapsed() / 10000 != (t.elapsed() - 100) / 10000)
                std::fprintf(stderr, "  %s: %llds, %lld answers\n", c.name, qint64(t.elapsed() / 1000), tally.answers);
        }
        for (auto &a : agents)
            a->stop();
        const Tally result = tally; // what arrived within the window
        const QJsonObject st = simStats(sim.url);
        agents.clear();

        const qint64 calls = qint64(st.value(QStringLiteral("callsPerRoute")).toObject()
                                        .value(QStringLiteral("generateContent")).toDouble());
        const qint64 limited = qint64(st.value(QStringLiteral("rateLimited")).toDouble());
        const qint64 served = calls - limited;
        std::printf("%-15s %6d %9lld %8.0f %9lld %9lld %10lld %9.2f %9.0f %9.0f\n", c.name, c.agents, result.answers,
                    double(result.answers) * 60.0 / seconds, result.refusals, calls, limited,
                    served > 0 ? double(result.answers) / double(served) : 0.0,
                    result.latency.count() ? double(result.latency.quantileNs(0.5)) / 1e6 : 0.0,
                    result.latency.count() ? double(result.latency.quantileNs(0.95)) / 1e6 : 0.0);
        std::fflush(stdout);
    }
    return 0;
}
