#include "server/simulator/simulatorbatches.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRandomGenerator>

#include <algorithm>

namespace {

const QString kBatchType = QStringLiteral("type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch");
const QString kOutputType =
    QStringLiteral("type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput");

// proto3 JSON: an int64 is a string, and 0 is left out.
void insertCount(QJsonObject &o, const char *key, qsizetype n)
{
    if (n > 0)
        o.insert(QLatin1String(key), QString::number(n));
}

} // namespace

SimulatorBatches::SimulatorBatches() : m_idRng(QRandomGenerator::global()->generate64())
{
}

QString SimulatorBatches::newId()
{
    // 36 characters of [a-z0-9], like the recorded "tti3ik8qob66dxcvynlg5swnutyntbi926ac".
    static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::uniform_int_distribution<int> pick(0, 35);
    QString id;
    do {
        id.clear();
        for (int i = 0; i < 36; ++i)
            id += QLatin1Char(kAlphabet[pick(m_idRng)]);
    } while (m_jobs.contains(id));
    return id;
}

const SimulatorBatches::Job *SimulatorBatches::create(const QString &model, const QString &displayName,
                                                      QList<Member> members, Clock::duration pending,
                                                      Clock::duration run, Clock::time_point now,
                                                      WallClock::time_point wallNow)
{
    if (int(m_jobs.size()) >= kMaxJobs) {
        const auto oldest = std::find_if(m_order.begin(), m_order.end(),
                                         [this](const QString &id) { return m_jobs.value(id).finished(); });
        if (oldest == m_order.end())
            return nullptr;
        m_jobs.remove(*oldest);
        m_order.erase(oldest);
    }
    Job job;
    job.id = newId();
    job.model = model;
    job.displayName = displayName;
    job.members = std::move(members);
    job.createdAt = now;
    job.runAt = now + pending;
    job.doneAt = job.runAt + run;
    job.createTime = wallNow;
    job.updateTime = wallNow;
    const QString id = job.id;
    m_order.push_back(id);
    return &*m_jobs.insert(id, std::move(job));
}

SimulatorBatches::Transitions SimulatorBatches::advance(Clock::time_point now)
{
    Transitions t;
    for (auto it = m_jobs.begin(); it != m_jobs.end(); ++it) {
        Job &job = *it;
        if (job.state == State::Pending && job.runAt <= now) {
            job.state = State::Running;
            ++t.started;
        }
        if (job.state == State::Running && job.doneAt <= now) {
            job.state = State::Succeeded;
            ++t.succeeded;
        }
    }
    return t;
}

std::optional<SimulatorBatches::Clock::time_point> SimulatorBatches::nextDeadline() const
{
    std::optional<Clock::time_point> next;
    for (const Job &job : m_jobs) {
        std::optional<Clock::time_point> at;
        if (job.state == State::Pending)
            at = job.runAt;
        else if (job.state == State::Running)
            at = job.doneAt;
        if (at && (!next || *at < *next))
            next = at;
    }
    return next;
}

const SimulatorBatches::Job *SimulatorBatches::find(const QString &id) const
{
    const auto it = m_jobs.constFind(id);
    return it == m_jobs.cend() ? nullptr : &*it;
}

SimulatorBatches::CancelResult SimulatorBatches::cancel(const QString &id, WallClock::time_point wallNow)
{
    const auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return CancelResult::NotFound;
    if (it->finished())
        return CancelResult::AlreadyFinished;
    it->state = State::Cancelled;
    it->updateTime = wallNow;
    it->endTime = wallNow;
    return CancelResult::Cancelled;
}

bool SimulatorBatches::remove(const QString &id)
{
    if (!m_jobs.remove(id))
        return false;
    m_order.erase(std::find(m_order.begin(), m_order.end(), id));
    return true;
}

QList<const SimulatorBatches::Job *> SimulatorBatches::list() const
{
    QList<const Job *> jobs;
    jobs.reserve(qsizetype(m_order.size()));
    for (auto it = m_order.rbegin(); it != m_order.rend(); ++it)
        jobs.append(find(*it));
    return jobs;
}

int SimulatorBatches::count(State state) const
{
    return int(std::count_if(m_jobs.cbegin(), m_jobs.cend(), [state](const Job &j) { return j.state == state; }));
}

QString SimulatorBatches::stateName(State state)
{
    switch (state) {
    case State::Pending:
        return QStringLiteral("BATCH_STATE_PENDING");
    case State::Running:
        return QStringLiteral("BATCH_STATE_RUNNING");
    case State::Succeeded:
        return QStringLiteral("BATCH_STATE_SUCCEEDED");
    case State::Cancelled:
        return QStringLiteral("BATCH_STATE_CANCELLED");
    }
    return QStringLiteral("BATCH_STATE_UNSPECIFIED");
}

QString SimulatorBatches::timestamp(WallClock::time_point t)
{
    const qint64 ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    const qint64 secs = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
    const qint64 frac = ns - secs * 1000000000;
    return QDateTime::fromSecsSinceEpoch(secs, Qt::UTC).toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss"))
        + QLatin1Char('.') + QStringLiteral("%1").arg(frac, 9, 10, QLatin1Char('0')) + QLatin1Char('Z');
}

QJsonObject SimulatorBatches::operationJson(const Job &job)
{
    const QString name = QStringLiteral("batches/") + job.id;
    QJsonObject stats;
    qsizetype failed = 0;
    for (const Member &m : job.members)
        failed += m.error.isEmpty() ? 0 : 1;
    const qsizetype total = job.members.size();
    insertCount(stats, "requestCount", total);
    if (job.state == State::Pending || job.state == State::Running)
        insertCount(stats, "pendingRequestCount", total);
    if (job.state == State::Succeeded) {
        insertCount(stats, "successfulRequestCount", total - failed);
        insertCount(stats, "failedRequestCount", failed);
    }

    // A succeeded job's times come from its schedule, not from when advance() ran.
    WallClock::time_point update = job.updateTime;
    std::optional<WallClock::time_point> end = job.endTime;
    if (job.state == State::Running || job.state == State::Succeeded)
        update = job.createTime + std::chrono::duration_cast<WallClock::duration>(job.runAt - job.createdAt);
    if (job.state == State::Succeeded) {
        end = job.createTime + std::chrono::duration_cast<WallClock::duration>(job.doneAt - job.createdAt);
        update = *end;
    }

    QJsonObject metadata{
        {QStringLiteral("@type"), kBatchType},
        {QStringLiteral("model"), QStringLiteral("models/") + job.model},
        {QStringLiteral("createTime"), timestamp(job.createTime)},
        {QStringLiteral("updateTime"), timestamp(update)},
        {QStringLiteral("batchStats"), stats},
        {QStringLiteral("state"), stateName(job.state)},
        {QStringLiteral("name"), name},
    };
    if (!job.displayName.isEmpty())
        metadata.insert(QStringLiteral("displayName"), job.displayName);
    if (end)
        metadata.insert(QStringLiteral("endTime"), timestamp(*end));

    QJsonObject operation{{QStringLiteral("name"), name}};
    if (job.state == State::Succeeded) {
        QJsonArray responses;
        for (const Member &m : job.members) {
            QJsonObject entry;
            if (m.error.isEmpty())
                entry.insert(QStringLiteral("response"), m.response);
            else
                entry.insert(QStringLiteral("error"), m.error);
            if (!m.metadata.isUndefined() && !m.metadata.isNull())
                entry.insert(QStringLiteral("metadata"), m.metadata);
            responses.append(entry);
        }
        const QJsonObject inlined{{QStringLiteral("inlinedResponses"), responses}};
        metadata.insert(QStringLiteral("output"), QJsonObject{{QStringLiteral("inlinedResponses"), inlined}});
        operation.insert(QStringLiteral("done"), true);
        operation.insert(QStringLiteral("response"),
                         QJsonObject{{QStringLiteral("@type"), kOutputType}, {QStringLiteral("inlinedResponses"), inlined}});
    } else if (job.state == State::Cancelled) {
        operation.insert(QStringLiteral("done"), true);
    }
    operation.insert(QStringLiteral("metadata"), metadata);
    return operation;
}
