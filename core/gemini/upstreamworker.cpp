#include "core/gemini/upstreamworker.h"

#include "core/gemini/geminierror.h"
#include "core/quota/quotalimits.h"
#include "core/gemini/geminiresponse.h"
#include "core/gemini/retrybackoff.h"
#include "core/http/http1connectionpool.h"
#include "core/http/sseparser.h"

#include <QHostAddress>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>
#include <QTimerEvent>

#include <limits>
#include <optional>

// Per-attempt lines are debug output, off unless QT_LOGGING_RULES enables them.
Q_LOGGING_CATEGORY(lcUpstream, "sluice.upstream", QtInfoMsg)

using namespace std::chrono;

struct UpstreamWorker::Active : Http1ConnectionPool::Exchange, std::enable_shared_from_this<Active> {
    UpstreamWorker *worker = nullptr;
    UpstreamCall call;
    int attempts = 0;
    Status lastStatus;
    QByteArray protocol;
    QPointer<QNetworkReply> reply;
    QTimer *retryTimer = nullptr;   // owned by the worker while waiting to retry
    std::optional<SseParser> sse;
    QList<QJsonObject> chunks;
    bool timedOut = false;          // our deadline timer aborted the attempt
    bool cancelled = false;         // shutdown aborted it, or its client left (clientGone)
    bool clientGone = false;        // the sink was cancelled: aborted for the client, not by shutdown
    bool done = false;
    qint64 streamed = 0;            // body bytes passed to call.sink (then never retried)
    bool streamErrorSent = false;   // ... among them the upstream's error event
    // Native transport
    QByteArray request;             // serialized once per call, sent by every attempt
    std::multimap<SteadyTime, Active *>::iterator deadlineEntry;
    bool watched = false;           // in m_deadlines

    void bodyReceived(QByteArray bytes) override { worker->streamBody(this, bytes); }
    void responseReceived(Http1Connection::Response response) override
    {
        auto self = shared_from_this();
        worker->unwatchDeadline(this);
        protocol = QByteArrayLiteral("http/1.1");
        worker->onAnswer(self, response.status, response.body, response.header("retry-after"));
    }
    void failed(const QString &message) override
    {
        auto self = shared_from_this();
        worker->unwatchDeadline(this);
        worker->onTransportError(self, message);
    }
};

namespace {

// Whether `part` goes on the wire as it is, both from QUrl (which QNAM's
// request target comes from) and from plain concatenation: unreserved
// characters and the given delimiters, no '%' (QUrl::setPath() would encode
// it again) and no dot segment (QNAM normalizes those away).
bool sentVerbatim(const QString &part, QLatin1StringView delimiters)
{
    for (QChar ch : part) {
        const char16_t c = ch.unicode();
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                             || c == '-' || c == '.' || c == '_' || c == '~';
        if (!unreserved && !(c < 0x80 && delimiters.contains(QLatin1Char(char(c)))))
            return false;
    }
    return !part.contains(QLatin1String("/."));
}

} // namespace

UpstreamWorker::UpstreamWorker(std::shared_ptr<const UpstreamSettings> settings, QObject *parent)
    : QObject(parent), m_settings(std::move(settings))
{
    if (m_settings->transport == UpstreamTransport::Native) {
        const QUrl &base = m_settings->baseUrl;
        const QByteArray host = base.host(QUrl::FullyEncoded).toLatin1();
        m_hostHeader = host.contains(':') ? '[' + host + ']' : host;
        if (base.port(80) != 80)
            m_hostHeader += ':' + QByteArray::number(base.port());
        QString prefix = base.path();
        while (prefix.endsWith(QLatin1Char('/')))
            prefix.chop(1);
        m_verbatimPrefix = sentVerbatim(prefix, QLatin1StringView("/"));
        if (m_verbatimPrefix)
            m_pathPrefix = prefix.toLatin1();
    }
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
    a->worker = this;
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

Http1ConnectionPool *UpstreamWorker::pool()
{
    if (!m_pool) {
        Http1ConnectionPool::Config c;
        c.host = m_settings->baseUrl.host();
        c.port = quint16(m_settings->baseUrl.port(80));
        c.maxConnections = m_settings->maxConnectionsPerWorker;
        c.idleTimeout = m_settings->idleConnectionTimeout;
        m_pool = new Http1ConnectionPool(c, this);
    }
    return m_pool;
}

void UpstreamWorker::start(std::shared_ptr<Active> a)
{
    if (m_shutdown) {
        m_active.insert(a);
        complete(a, Status::error(StatusCode::Unavailable, m_shutdownReason));
        return;
    }
    m_active.insert(a);
    if (a->call.sink) {
        // The client may leave at any time: abort the call then (queued to
        // this thread; a call already done ignores it).
        std::weak_ptr<Active> weak = a;
        a->call.sink->setAbort([this, weak] {
            QMetaObject::invokeMethod(this, [this, weak] {
                if (auto live = weak.lock())
                    cancelForClient(live);
            }, Qt::QueuedConnection);
        });
        if (a->call.sink->isCancelled()) {
            complete(a, Status::error(StatusCode::Cancelled, QStringLiteral("the client went away before its upstream call was sent")));
            return;
        }
    }
    attempt(a);
}

void UpstreamWorker::streamBody(Active *a, const QByteArray &bytes)
{
    if (bytes.isEmpty() || !a->sse || a->done)
        return;
    if (a->call.sink) {
        // The client first; parsing (for usage, errors, the result) after.
        a->streamed += bytes.size();
        a->call.sink->data(bytes);
    }
    a->chunks += a->sse->feed(bytes);
}

void UpstreamWorker::cancelForClient(const std::shared_ptr<Active> &a)
{
    if (a->done)
        return;
    a->cancelled = true;
    a->clientGone = true;
    if (a->retryTimer) {
        a->retryTimer->stop();
        a->retryTimer->deleteLater();
        a->retryTimer = nullptr;
    }
    const bool onTheWire = a->isPending();
    unwatchDeadline(a.get());
    if (m_pool && onTheWire)
        m_pool->cancel(a.get()); // closes its connection: the upstream sees the client go
    if (a->reply) {
        a->reply->abort(); // finishes synchronously → onFinished → onAbandoned
        return;
    }
    if (onTheWire) {
        onAbandoned(a);
        return;
    }
    // Waiting for the budget or a retry: nothing on the wire.
    complete(a, Status::error(StatusCode::Cancelled, QStringLiteral("the client went away before its upstream call was sent")));
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
    if (!admittedByBudget(a, now))
        return;

    ++a->attempts;
    a->timedOut = false;
    a->chunks.clear();
    a->sse.reset();
    if (a->call.sse)
        a->sse.emplace();
    if (m_settings->attemptCounter)
        m_settings->attemptCounter->fetch_add(1, std::memory_order_relaxed);

    if (m_settings->transport == UpstreamTransport::Native)
        sendNative(a);
    else
        sendQnam(a, now);
}

QUrl UpstreamWorker::callUrl(const UpstreamCall &call) const
{
    QUrl url = m_settings->baseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + call.path);
    if (!call.query.isEmpty())
        url.setQuery(call.query);
    return url;
}

QByteArray UpstreamWorker::requestTarget(const UpstreamCall &call) const
{
    if (m_verbatimPrefix && sentVerbatim(call.path, QLatin1StringView("/:"))
        && sentVerbatim(call.query, QLatin1StringView("=&"))) {
        // The usual case ("/v1beta/models/gemini-2.0-flash:generateContent"): no QUrl needed.
        QByteArray target = m_pathPrefix + call.path.toLatin1();
        if (!call.query.isEmpty())
            target += '?' + call.query.toLatin1();
        return target;
    }
    // What QNAM would send for the same call (QHttpNetworkRequest::uri()).
    QUrl url = callUrl(call);
    if (url.path().isEmpty())
        url.setPath(QStringLiteral("/"));
    return url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority | QUrl::RemoveUserInfo | QUrl::RemoveFragment
                         | QUrl::NormalizePathSegments | QUrl::FullyEncoded);
}

void UpstreamWorker::sendQnam(const std::shared_ptr<Active> &a, SteadyTime now)
{
    const QUrl url = callUrl(a->call);
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
        connect(reply, &QNetworkReply::readyRead, this, [this, a, reply] {
            // Only a 2xx body is a stream of events; errors are read whole at the end.
            const int http = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (a->sse && http >= 200 && http < 300)
                streamBody(a.get(), reply->readAll());
        });
    }
    connect(reply, &QNetworkReply::finished, this, [this, a, reply] { onFinished(a, reply); });

    const auto remaining = duration_cast<milliseconds>(a->call.deadline - now) + milliseconds(1);
    QTimer::singleShot(remaining, reply, [a, reply] {
        a->timedOut = true;
        reply->abort();
    });
}

void UpstreamWorker::sendNative(const std::shared_ptr<Active> &a)
{
    if (a->request.isEmpty())
        a->request = nativeRequest(a->call);
    qCDebug(lcUpstream).noquote() << a->call.verb << m_settings->baseUrl.toDisplayString() + a->call.path
                                  << "attempt" << a->attempts << "(native)";
    watchDeadline(a.get());
    pool()->start(a.get(), a->request, a->call.sse);
}

QByteArray UpstreamWorker::nativeRequest(const UpstreamCall &call) const
{
    const bool hasBody = call.verb != "GET";
    QByteArray out;
    out.reserve(320 + m_pathPrefix.size() + call.path.size() + call.query.size() + m_settings->apiKey.size()
                + (hasBody ? call.body.size() : 0));
    out += call.verb;
    out += ' ';
    out += requestTarget(call);
    out += " HTTP/1.1\r\nHost: ";
    out += m_hostHeader;
    out += "\r\n";
    if (hasBody) {
        out += "Content-Type: application/json\r\nContent-Length: ";
        out += QByteArray::number(call.body.size());
        out += "\r\n";
    }
    out += call.sse ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n";
    if (!m_settings->apiKey.isEmpty()) {
        out += "x-goog-api-key: ";
        out += m_settings->apiKey;
        out += "\r\n";
    }
    out += "Connection: keep-alive\r\n\r\n";
    if (hasBody)
        out += call.body;
    return out;
}

void UpstreamWorker::watchDeadline(Active *a)
{
    a->deadlineEntry = m_deadlines.emplace(a->call.deadline, a);
    a->watched = true;
    // Deadlines mostly grow with time, so the timer armed for an earlier one
    // rarely needs moving.
    if (!m_deadlineTimer.isActive() || a->call.deadline < m_deadlineTimerAt)
        armDeadlineTimer();
}

void UpstreamWorker::unwatchDeadline(Active *a)
{
    if (!a->watched)
        return;
    m_deadlines.erase(a->deadlineEntry);
    a->watched = false;
    // The timer stays armed; when it fires it re-arms for the earliest left.
}

void UpstreamWorker::armDeadlineTimer()
{
    if (m_deadlines.empty()) {
        m_deadlineTimer.stop();
        return;
    }
    m_deadlineTimerAt = m_deadlines.begin()->first;
    const auto wait = m_deadlineTimerAt - m_settings->clock->now();
    // Rounded up, so the deadline has passed when it fires (the QNAM path adds 1 ms too).
    const auto ms = std::max<qint64>(0, duration_cast<milliseconds>(wait).count() + 1);
    m_deadlineTimer.start(int(std::min<qint64>(ms, std::numeric_limits<int>::max())), Qt::PreciseTimer, this);
}

void UpstreamWorker::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_deadlineTimer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    m_deadlineTimer.stop();
    const SteadyTime now = m_settings->clock->now();
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        std::shared_ptr<Active> a = m_deadlines.begin()->second->shared_from_this();
        unwatchDeadline(a.get());
        if (m_pool)
            m_pool->cancel(a.get());
        a->timedOut = true;
        onAbandoned(a);
    }
    armDeadlineTimer();
}

void UpstreamWorker::onFinished(const std::shared_ptr<Active> &a, QNetworkReply *reply)
{
    reply->deleteLater();
    a->reply = nullptr;
    if (a->done)
        return;
    if (a->cancelled || a->timedOut) {
        onAbandoned(a);
        return;
    }
    const QVariant httpAttr = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    const int http = httpAttr.isValid() ? httpAttr.toInt() : 0;
    if (http == 0) {
        onTransportError(a, reply->errorString());
        return;
    }
    a->protocol = reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool() ? QByteArrayLiteral("h2")
                                                                                      : QByteArrayLiteral("http/1.1");
    onAnswer(a, http, reply->readAll(), reply->rawHeader("Retry-After"));
}

void UpstreamWorker::onAbandoned(const std::shared_ptr<Active> &a)
{
    if (a->done)
        return;
    CircuitBreaker *breaker = m_settings->breaker;
    if (a->cancelled) {
        recordCall(*a, UpstreamAttemptOutcome::Cancelled, 0); // it was on the wire: the upstream may count it
        if (breaker)
            breaker->recordAbandoned();
        if (a->clientGone) {
            complete(a, Status::error(StatusCode::Cancelled,
                                      QStringLiteral("the client went away; its upstream call was aborted")));
            return;
        }
        complete(a, Status::error(StatusCode::Unavailable, m_shutdownReason.isEmpty() ? QStringLiteral("upstream client shutting down")
                                                                                       : m_shutdownReason));
        return;
    }
    // Our own deadline cut the attempt short: that says more about the
    // caller's budget than about the upstream's health.
    if (breaker)
        breaker->recordAbandoned();
    if (a->timedOut)
        recordCall(*a, UpstreamAttemptOutcome::Timeout, 0);
    complete(a, Status::error(StatusCode::DeadlineExceeded,
                              QStringLiteral("deadline passed before the upstream answered")));
}

void UpstreamWorker::onTransportError(const std::shared_ptr<Active> &a, const QString &why)
{
    recordCall(*a, UpstreamAttemptOutcome::ConnectionError, 0);
    if (m_settings->breaker)
        m_settings->breaker->recordFailure();
    fail(a, Status::error(StatusCode::Unavailable, QStringLiteral("upstream transport error: %1").arg(why)), true);
}

void UpstreamWorker::onAnswer(const std::shared_ptr<Active> &a, int http, const QByteArray &body,
                              const QByteArray &retryAfter)
{
    CircuitBreaker *breaker = m_settings->breaker;
    recordCall(*a, upstreamAttemptOutcomeFor(http), http);
    if (http < 200 || http >= 300) {
        const GeminiError err = GeminiError::fromHttp(http, body, retryAfter);
        const bool unhealthy = http >= 500 || http == 408;
        if (breaker)
            unhealthy ? breaker->recordFailure() : breaker->recordSuccess();
        if (http == 429)
            learnQuota(*a, err);
        fail(a, err.toStatus(), GeminiError::isRetryableHttp(http));
        return;
    }

    if (breaker)
        breaker->recordSuccess();

    UpstreamOutcome out;
    if (a->sse) {
        // `body` is what the stream handler has not fed yet.
        streamBody(a.get(), body);
        a->chunks += a->sse->finish();
        for (const QJsonObject &ev : std::as_const(a->chunks)) {
            if (auto err = GeminiError::fromEnvelope(ev, 0)) {
                // An error sent inside a 200 stream: classify it by its own code.
                err->httpStatus = err->code;
                Status s = err->toStatus();
                a->streamErrorSent = a->streamed > 0; // the client has it already
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
    } else if (a->call.rawAnswer) {
        out.raw = body; // the caller reads it (and reports it unparseable with unparseableAnswer())
    } else {
        QString why;
        auto parsed = GeminiResponse::parse(body, &why);
        if (!parsed) {
            complete(a, unparseableAnswer(why, http));
            return;
        }
        out.body = parsed->json();
    }
    out.httpStatus = http;
    out.status = Status::success();
    out.protocol = a->protocol;
    out.attempts = a->attempts;
    out.streamedBytes = a->streamed;
    if (a->call.sink)
        a->call.sink->setAbort({});
    a->done = true;
    m_active.erase(a);
    m_load.fetch_sub(1, std::memory_order_relaxed);
    auto done = std::move(a->call.done);
    done(std::move(out));
}

bool UpstreamWorker::admittedByBudget(const std::shared_ptr<Active> &a, SteadyTime now)
{
    UpstreamBudget *budget = m_settings->budget;
    if (!budget || a->call.budgetModel.isEmpty() || (a->call.prepaid && a->attempts == 0))
        return true;
    const ModelBudget::Grant g = budget->acquire(a->call.budgetModel, 1, std::max<long long>(1, a->call.budgetTokens));
    if (g.granted)
        return true;
    if (g.at >= a->call.deadline) {
        const QString limit = g.limit > 0 ? QStringLiteral(" (limit %1, %2)").arg(g.limit).arg(quotaSourceName(g.source))
                                          : QString();
        Status s = Status::rejected(RejectReason::QuotaExhausted,
                                    QStringLiteral("the upstream budget of %1 has no room for this call before its deadline: "
                                                   "%2 quota%3; retry after the indicated delay")
                                        .arg(a->call.budgetModel, quotaDimensionName(g.binding).toUpper(), limit),
                                    std::max(milliseconds(1), duration_cast<milliseconds>(g.at - now)));
        if (!a->lastStatus.ok() && a->lastStatus.upstreamHttpStatus == 429) {
            // The upstream's own 429 said it first: keep its envelope, with the budget's time.
            const milliseconds retryAfter = s.retryAfter;
            s = a->lastStatus;
            s.retryAfter = std::max(s.retryAfter, retryAfter);
        }
        complete(a, std::move(s));
        return false;
    }
    // Wait for the budget: this is not an attempt.
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    timer->setTimerType(Qt::PreciseTimer);
    a->retryTimer = timer;
    connect(timer, &QTimer::timeout, this, [this, a, timer] {
        timer->deleteLater();
        if (!a->done)
            attempt(a);
    });
    timer->start(std::max<qint64>(1, duration_cast<milliseconds>(g.at - now).count() + 1));
    return false;
}

void UpstreamWorker::learnQuota(const Active &a, const GeminiError &error)
{
    UpstreamBudget *budget = m_settings->budget;
    if (!budget || a.call.budgetModel.isEmpty())
        return;
    std::optional<Nanos> delay;
    if (error.retryDelay)
        delay = *error.retryDelay;
    bool learned = false;
    for (const GeminiError::QuotaViolation &v : error.quotaViolations()) {
        if (const auto d = quotaDimensionFor(v.quotaId, v.quotaMetric)) {
            budget->quotaExceeded(v.model.isEmpty() ? a.call.budgetModel : v.model, *d, v.quotaValue, delay);
            learned = true;
        }
    }
    // A 429 that names no quota still says the calls per minute were too many.
    if (!learned)
        budget->quotaExceeded(a.call.budgetModel, QuotaDimension::Rpm, std::nullopt, delay);
}

void UpstreamWorker::recordCall(const Active &a, UpstreamAttemptOutcome outcome, int httpStatus)
{
    if (InferenceMetricsCollector *m = m_settings->metrics)
        m->recordUpstreamAttempt(a.call.budgetModel, a.attempts > 1 ? UpstreamCallKind::Retry : a.call.kind, outcome,
                                 httpStatus);
}

Status UpstreamWorker::unparseableAnswer(const QString &why, int http)
{
    Status s = Status::error(StatusCode::Internal, QStringLiteral("unparseable upstream answer: %1").arg(why));
    s.upstreamHttpStatus = http;
    return s;
}

void UpstreamWorker::fail(const std::shared_ptr<Active> &a, Status status, bool retryable)
{
    a->lastStatus = status;
    if (a->streamed > 0) {
        // Part of the answer is with the client: a second attempt would
        // repeat it. The stream ends with this error.
        complete(a, std::move(status));
        return;
    }
    const SteadyTime now = m_settings->clock->now();
    if (status.upstreamHttpStatus == 429 && m_settings->budget && !a->call.budgetModel.isEmpty() && !m_shutdown
        && a->attempts < a->call.retry.maxAttempts) {
        // The budget has learned from this 429: its room, not the RetryInfo
        // alone, says when the next attempt may go (or that it cannot before
        // the deadline, and the call ends now).
        attempt(a);
        return;
    }
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
    // The pool must not call back an exchange that is gone.
    unwatchDeadline(a.get());
    if (m_pool && a->isPending())
        m_pool->cancel(a.get());
    a->done = true;
    m_active.erase(a);
    m_load.fetch_sub(1, std::memory_order_relaxed);
    UpstreamOutcome out;
    out.status = std::move(status);
    out.protocol = a->protocol;
    out.attempts = a->attempts;
    out.streamedBytes = a->streamed;
    out.streamErrorSent = a->streamErrorSent;
    if (a->call.sink)
        a->call.sink->setAbort({});
    auto done = std::move(a->call.done);
    if (done)
        done(std::move(out));
}

void UpstreamWorker::shutdown(const QString &reason)
{
    if (m_shutdown)
        return;
    m_shutdown = true;
    m_shutdownReason = reason;
    const auto active = m_active; // complete() edits m_active
    // Native attempts in flight end like aborted QNAM replies; closing the
    // pool first keeps it from starting queued ones as others are cancelled.
    std::unordered_set<Active *> nativeInFlight;
    for (const auto &a : active) {
        if (a->isPending())
            nativeInFlight.insert(a.get());
    }
    if (m_pool)
        m_pool->closeAll();
    for (const auto &a : active) {
        a->cancelled = true;
        if (a->retryTimer) {
            a->retryTimer->stop();
            a->retryTimer->deleteLater();
            a->retryTimer = nullptr;
        }
        if (a->reply)
            a->reply->abort(); // finishes synchronously → onFinished → complete
        if (nativeInFlight.count(a.get()))
            onAbandoned(a); // → complete
        complete(a, Status::error(StatusCode::Unavailable, m_shutdownReason));
    }
    m_deadlineTimer.stop();
}
