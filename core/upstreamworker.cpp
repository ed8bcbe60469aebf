#include "upstreamworker.h"

#include "geminierror.h"
#include "geminiresponse.h"
#include "retrybackoff.h"
#include "sseparser.h"

#include <QHostAddress>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>

#include <optional>

// Per-attempt lines are debug output, off unless QT_LOGGING_RULES enables them.
Q_LOGGING_CATEGORY(lcUpstream, "sluice.upstream", QtInfoMsg)

using namespace std::chrono;

struct UpstreamWorker::Active {
    UpstreamCall call;
    int attempts = 0;
    Status lastStatus;
    QByteArray protocol;
    QPointer<QNetworkReply> reply;
    QTimer *retryTimer = nullptr;   // owned by the worker while waiting to retry
    std::optional<SseParser> sse;
    QList<QJsonObject> chunks;
    bool timedOut = false;          // our deadline timer aborted the attempt
    bool cancelled = false;         // shutdown aborted it
    bool done = false;
};

UpstreamWorker::UpstreamWorker(std::shared_ptr<const UpstreamSettings> settings, QObject *parent)
    : QObject(parent), m_settings(std::move(settings))
{
}

UpstreamWorker::~UpstreamWorker()
{
    // Normally shutdown() already ran on the worker thread; this covers a worker
    // destroyed without it (calls still complete exactly once).
    shutdown();
}

void UpstreamWorker::post(UpstreamCall call)
{
    m_load.fetch_add(1, std::memory_order_relaxed);
    auto a = std::make_shared<Active>();
    a->call = std::move(call);
    QMetaObject::invokeMethod(this, [this, a] { start(a); }, Qt::QueuedConnection);
}

QNetworkAccessManager *UpstreamWorker::nam()
{
    if (!m_nam) {
        m_nam = new QNetworkAccessManager(this);
        // A loopback upstream (the simulator) must never go through a proxy
        // picked up from the environment.
        const QString host = m_settings->baseUrl.host();
        const QHostAddress addr(host);
        if (host == QLatin1String("localhost") || (!addr.isNull() && addr.isLoopback()))
            m_nam->setProxy(QNetworkProxy::NoProxy);
    }
    return m_nam;
}

void UpstreamWorker::start(std::shared_ptr<Active> a)
{
    if (m_shutdown) {
        m_active.insert(a);
        complete(a, Status::error(StatusCode::Unavailable, QStringLiteral("upstream client shutting down")));
        return;
    }
    m_active.insert(a);
    attempt(a);
}

void UpstreamWorker::attempt(const std::shared_ptr<Active> &a)
{
    a->retryTimer = nullptr;
    Clock &clock = *m_settings->clock;
    const SteadyTime now = clock.now();
    if (now >= a->call.deadline) {
        complete(a, a->attempts > 0 && !a->lastStatus.ok()
                        ? a->lastStatus
                        : Status::error(StatusCode::DeadlineExceeded,
                                        QStringLiteral("deadline passed before the upstream answered")));
        return;
    }
    CircuitBreaker *breaker = m_settings->breaker;
    if (breaker && !breaker->allowRequest()) {
        const auto snap = breaker->snapshot();
        complete(a, Status::rejected(RejectReason::CircuitOpen,
                                     QStringLiteral("upstream circuit breaker is open"),
                                     std::max(snap.retryAfter, milliseconds(1))));
        return;
    }

    QUrl url = m_settings->baseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + a->call.path);
    if (!a->call.query.isEmpty())
        url.setQuery(a->call.query);

    QNetworkRequest req(url);
    const bool https = url.scheme() == QLatin1String("https");
    req.setAttribute(QNetworkRequest::Http2AllowedAttribute, https || m_settings->http2Direct);
    if (!https && m_settings->http2Direct)
        req.setAttribute(QNetworkRequest::Http2DirectAttribute, true);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    if (!m_settings->apiKey.isEmpty())
        req.setRawHeader("x-goog-api-key", m_settings->apiKey);
    if (a->call.sse)
        req.setRawHeader("Accept", "text/event-stream");
    else
        req.setRawHeader("Accept", "application/json");

    ++a->attempts;
    a->timedOut = false;
    a->chunks.clear();
    a->sse.reset();
    if (a->call.sse)
        a->sse.emplace();
    if (m_settings->attemptCounter)
        m_settings->attemptCounter->fetch_add(1, std::memory_order_relaxed);

    qCDebug(lcUpstream).noquote() << a->call.verb << url.toDisplayString() << "attempt" << a->attempts;

    QNetworkReply *reply;
    if (a->call.verb == "GET") {
        reply = nam()->get(req);
    } else {
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        reply = nam()->post(req, a->call.body);
    }
    a->reply = reply;
    if (a->sse) {
        connect(reply, &QNetworkReply::readyRead, this, [a, reply] {
            // Only a 2xx body is a stream of events; errors are read whole at the end.
            const int http = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (a->sse && http >= 200 && http < 300)
                a->chunks += a->sse->feed(reply->readAll());
        });
    }
    connect(reply, &QNetworkReply::finished, this, [this, a, reply] { onFinished(a, reply); });

    const auto remaining = duration_cast<milliseconds>(a->call.deadline - now) + milliseconds(1);
    QTimer::singleShot(remaining, reply, [a, reply] {
        a->timedOut = true;
        reply->abort();
    });
}

void UpstreamWorker::onFinished(const std::shared_ptr<Active> &a, QNetworkReply *reply)
{
    reply->deleteLater();
    a->reply = nullptr;
    if (a->done)
        return;
    CircuitBreaker *breaker = m_settings->breaker;

    if (a->cancelled) {
        if (breaker)
            breaker->recordAbandoned();
        complete(a, Status::error(StatusCode::Unavailable, QStringLiteral("upstream client shutting down")));
        return;
    }
    if (a->timedOut) {
        // Our own deadline cut the attempt short: that says more about the
        // caller's budget than about the upstream's health.
        if (breaker)
            breaker->recordAbandoned();
        Status s = Status::error(StatusCode::DeadlineExceeded,
                                 QStringLiteral("deadline passed before the upstream answered"));
        complete(a, s);
        return;
    }

    const QVariant httpAttr = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    const int http = httpAttr.isValid() ? httpAttr.toInt() : 0;
    if (http == 0) {
        if (breaker)
            breaker->recordFailure();
        Status s = Status::error(StatusCode::Unavailable,
                                 QStringLiteral("upstream transport error: %1").arg(reply->errorString()));
        fail(a, std::move(s), true);
        return;
    }
    a->protocol = reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool() ? QByteArrayLiteral("h2")
                                                                                      : QByteArrayLiteral("http/1.1");

    if (http < 200 || http >= 300) {
        const GeminiError err = GeminiError::fromHttp(http, reply->readAll(), reply->rawHeader("Retry-After"));
        const bool unhealthy = http >= 500 || http == 408;
        if (breaker)
            unhealthy ? breaker->recordFailure() : breaker->recordSuccess();
        fail(a, err.toStatus(), GeminiError::isRetryableHttp(http));
        return;
    }

    if (breaker)
        breaker->recordSuccess();

    UpstreamOutcome out;
    if (a->sse) {
        a->chunks += a->sse->feed(reply->readAll());
        a->chunks += a->sse->finish();
        for (const QJsonObject &ev : std::as_const(a->chunks)) {
            if (auto err = GeminiError::fromEnvelope(ev, 0)) {
                // An error sent inside a 200 stream: classify it by its own code.
                err->httpStatus = err->code;
                Status s = err->toStatus();
                fail(a, std::move(s), GeminiError::isRetryableHttp(err->code));
                return;
            }
        }
        if (a->chunks.isEmpty()) {
            complete(a, Status::error(StatusCode::Internal, QStringLiteral("upstream stream had no events")));
            return;
        }
        out.chunks = a->chunks;
        out.body = GeminiResponse::aggregateStream(a->chunks);
    } else {
        QString why;
        auto parsed = GeminiResponse::parse(reply->readAll(), &why);
        if (!parsed) {
            Status s = Status::error(StatusCode::Internal, QStringLiteral("unparseable upstream answer: %1").arg(why));
            s.upstreamHttpStatus = http;
            complete(a, std::move(s));
            return;
        }
        out.body = parsed->json();
    }
    out.status = Status::success();
    out.protocol = a->protocol;
    out.attempts = a->attempts;
    a->done = true;
    m_active.erase(a);
    m_load.fetch_sub(1, std::memory_order_relaxed);
    auto done = std::move(a->call.done);
    done(std::move(out));
}

void UpstreamWorker::fail(const std::shared_ptr<Active> &a, Status status, bool retryable)
{
    a->lastStatus = status;
    const SteadyTime now = m_settings->clock->now();
    std::optional<milliseconds> serverDelay;
    if (status.retryAfter > milliseconds(0))
        serverDelay = status.retryAfter;
    const auto d = RetryBackoff::decide(a->call.retry, a->attempts, retryable && !m_shutdown, serverDelay, now,
                                        a->call.deadline, RetryBackoff::randomUnit());
    if (!d.retry) {
        complete(a, std::move(status));
        return;
    }
    qCDebug(lcUpstream) << "retrying in" << d.delay.count() << "ms after" << statusCodeName(status.code);
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    a->retryTimer = timer;
    connect(timer, &QTimer::timeout, this, [this, a, timer] {
        timer->deleteLater();
        if (!a->done)
            attempt(a);
    });
    timer->start(d.delay);
}

void UpstreamWorker::complete(const std::shared_ptr<Active> &a, Status status)
{
    if (a->done)
        return;
    a->done = true;
    m_active.erase(a);
    m_load.fetch_sub(1, std::memory_order_relaxed);
    UpstreamOutcome out;
    out.status = std::move(status);
    out.protocol = a->protocol;
    out.attempts = a->attempts;
    auto done = std::move(a->call.done);
    if (done)
        done(std::move(out));
}

void UpstreamWorker::shutdown()
{
    m_shutdown = true;
    const auto active = m_active; // complete() edits m_active
    for (const auto &a : active) {
        a->cancelled = true;
        if (a->retryTimer) {
            a->retryTimer->stop();
            a->retryTimer->deleteLater();
            a->retryTimer = nullptr;
        }
        if (a->reply)
            a->reply->abort(); // finishes synchronously → onFinished → complete
        complete(a, Status::error(StatusCode::Unavailable, QStringLiteral("upstream client shutting down")));
    }
}
