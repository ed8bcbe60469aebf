#include "core/loadtest/locustrunner.h"

#include "loadtest/locustfile.h"

#include <QFileInfo>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcessEnvironment>

#include <algorithm>
#include <csignal>

Q_LOGGING_CATEGORY(lcLocust, "sluice.locust")

QJsonObject LoadTestPlan::toJson() const
{
    QJsonObject mixJson;
    for (auto it = mix.begin(); it != mix.end(); ++it)
        mixJson.insert(it.key(), it.value());
    return {{QStringLiteral("tool"), QStringLiteral("locust")},
            {QStringLiteral("version"), QStringLiteral("2.12.1")},
            {QStringLiteral("target"), target.toString()},
            {QStringLiteral("startUsers"), startUsers > 0 ? startUsers : usersPerStep},
            {QStringLiteral("usersPerStep"), usersPerStep},
            {QStringLiteral("steps"), steps},
            {QStringLiteral("stepSeconds"), stepSeconds},
            {QStringLiteral("model"), model},
            {QStringLiteral("requestMix"), mixJson}};
}

QJsonObject LoadTestProgress::toJson() const
{
    return {{QStringLiteral("step"), step},
            {QStringLiteral("steps"), steps},
            {QStringLiteral("users"), users},
            {QStringLiteral("elapsedSeconds"), elapsedSeconds},
            {QStringLiteral("requestsPerSecond"), requestsPerSecond},
            {QStringLiteral("failuresPerSecond"), failuresPerSecond},
            {QStringLiteral("p50Ms"), p50Ms},
            {QStringLiteral("p95Ms"), p95Ms},
            {QStringLiteral("p99Ms"), p99Ms},
            {QStringLiteral("requests"), double(requests)},
            {QStringLiteral("failures"), double(failures)}};
}

LocustRunner::LocustRunner(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<LoadTestProgress>();
    m_poll.setInterval(1000);
    connect(&m_poll, &QTimer::timeout, this, &LocustRunner::poll);
    m_kill.setSingleShot(true);
    connect(&m_kill, &QTimer::timeout, this, [this] {
        if (m_process && m_process->state() != QProcess::NotRunning) {
            qCWarning(lcLocust) << "Locust did not stop within" << m_plan.stopGraceMs << "ms of SIGTERM; killing it";
            m_process->kill();
        }
    });
}

LocustRunner::~LocustRunner()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(3000);
    }
}

QString LocustRunner::defaultLocustfile()
{
    const QString env = qEnvironmentVariable("SLUICE_LOCUSTFILE");
    return env.isEmpty() ? LocustFile::resourcePath() : env;
}

QString LocustRunner::historyPath() const
{
    return m_dir ? m_dir->filePath(QStringLiteral("sluice_stats_history.csv")) : QString();
}

bool LocustRunner::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

bool LocustRunner::start(const LoadTestPlan &plan, QString *error)
{
    if (isRunning()) {
        *error = QStringLiteral("a load test is already running");
        return false;
    }
    const QFileInfo locust(plan.locustPath);
    if (!locust.exists() || !locust.isExecutable()) {
        *error = QStringLiteral("Locust is not installed at %1; install Debian's python3-locust (apt-get install python3-locust)")
                     .arg(plan.locustPath);
        return false;
    }
    if (plan.steps < 1 || plan.stepSeconds < 1 || plan.usersPerStep < 1 || plan.startUsers < 0) {
        *error = QStringLiteral("the load-test plan needs steps >= 1, stepSeconds >= 1, usersPerStep >= 1 (got %1, %2, %3)")
                     .arg(plan.steps).arg(plan.stepSeconds).arg(plan.usersPerStep);
        return false;
    }
    if (!plan.target.isValid() || plan.target.scheme().isEmpty()) {
        *error = QStringLiteral("the load-test target '%1' is not a URL").arg(plan.target.toString());
        return false;
    }
    m_dir = std::make_unique<QTemporaryDir>();
    if (!m_dir->isValid()) {
        *error = QStringLiteral("cannot create a temporary folder for Locust's output: %1").arg(m_dir->errorString());
        return false;
    }
    // Locust needs a real file: copy the locustfile (embedded in the binary by default) next to its output.
    const QString source = plan.locustfile.isEmpty() ? defaultLocustfile() : plan.locustfile;
    const QString locustfile = m_dir->filePath(QStringLiteral("locustfile.py"));
    if (!QFile::exists(source) || !QFile::copy(source, locustfile)) {
        *error = QStringLiteral("the locustfile %1 cannot be read").arg(source);
        return false;
    }

    m_plan = plan;
    m_steps.clear();
    m_header.clear();
    m_pending.clear();
    m_stderrTail.clear();
    m_firstTimestamp = -1;
    m_currentStep = -1;
    m_stepStart = m_lastRow = {};
    m_stopping = false;
    m_history.close();
    m_history.setFileName(historyPath());

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SLUICE_STEPS"), QString::number(plan.steps));
    env.insert(QStringLiteral("SLUICE_STEP_USERS"), QString::number(plan.usersPerStep));
    env.insert(QStringLiteral("SLUICE_START_USERS"), QString::number(plan.usersAt(0)));
    env.insert(QStringLiteral("SLUICE_STEP_SECONDS"), QString::number(plan.stepSeconds));
    env.insert(QStringLiteral("SLUICE_SPAWN_RATE"), QString::number(plan.spawnRate));
    env.insert(QStringLiteral("SLUICE_MODEL"), plan.model);
    for (auto it = plan.mix.begin(); it != plan.mix.end(); ++it)
        env.insert(it.key(), it.value());
    env.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("1"));

    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(env);
    m_process->setWorkingDirectory(m_dir->path());
    connect(m_process.get(), &QProcess::readyReadStandardError, this, [this] {
        m_stderrTail += m_process->readAllStandardError();
        if (m_stderrTail.size() > 8192)
            m_stderrTail = m_stderrTail.right(8192);
    });
    connect(m_process.get(), &QProcess::readyReadStandardOutput, this, [this] { m_process->readAllStandardOutput(); });
    connect(m_process.get(), &QProcess::finished, this, &LocustRunner::onFinished);
    connect(m_process.get(), &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            emit finished(false, QStringLiteral("Locust could not be started (%1): %2").arg(m_plan.locustPath, m_process->errorString()));
    });
    const QStringList args{QStringLiteral("-f"), locustfile,
                           QStringLiteral("--headless"),
                           QStringLiteral("--host"), plan.target.toString(QUrl::StripTrailingSlash),
                           QStringLiteral("--csv"), m_dir->filePath(QStringLiteral("sluice")),
                           QStringLiteral("--csv-full-history"),
                           QStringLiteral("--only-summary"),
                           QStringLiteral("--loglevel"), QStringLiteral("WARNING"),
                           // Rejections (429/503) are failures by design; only a crash is an error.
                           QStringLiteral("--exit-code-on-error"), QStringLiteral("0")};
    qCInfo(lcLocust).noquote() << "starting" << plan.locustPath << args.join(QLatin1Char(' '));
    m_clock.start();
    m_process->start(plan.locustPath, args);
    m_poll.start();
    return true;
}

void LocustRunner::stop()
{
    if (!isRunning())
        return;
    m_stopping = true;
    m_process->terminate(); // SIGTERM: Locust's own handler writes its final rows
    m_kill.start(m_plan.stopGraceMs);
}

bool LocustRunner::parseRow(const QByteArray &line, const QList<QByteArray> &header, Row *row)
{
    const QList<QByteArray> f = line.split(',');
    if (f.size() != header.size())
        return false;
    const auto col = [&](const char *name) -> QByteArray {
        const int i = int(header.indexOf(QByteArray(name)));
        return i >= 0 ? f.at(i) : QByteArray();
    };
    if (col("Name") != "Aggregated")
        return false;
    const auto num = [](const QByteArray &b) {
        bool ok = false;
        const double d = b.toDouble(&ok);
        return ok ? d : 0.0; // Locust writes "N/A" before the first response
    };
    row->timestamp = col("Timestamp").toLongLong();
    row->users = col("User Count").toInt();
    row->rps = num(col("Requests/s"));
    row->failuresPerSecond = num(col("Failures/s"));
    row->p50 = num(col("50%"));
    row->p95 = num(col("95%"));
    row->p99 = num(col("99%"));
    row->requests = quint64(num(col("Total Request Count")));
    row->failures = quint64(num(col("Total Failure Count")));
    return row->timestamp > 0;
}

void LocustRunner::poll()
{
    if (!m_history.isOpen()) {
        if (!QFile::exists(m_history.fileName()) || !m_history.open(QIODevice::ReadOnly))
            return;
    }
    m_pending += m_history.readAll();
    int eol;
    while ((eol = int(m_pending.indexOf('\n'))) >= 0) {
        QByteArray line = m_pending.left(eol).trimmed();
        m_pending.remove(0, eol + 1);
        if (line.isEmpty())
            continue;
        if (m_header.isEmpty()) {
            m_header = line.split(',');
            continue;
        }
        Row row;
        if (!parseRow(line, m_header, &row))
            continue;
        if (m_firstTimestamp < 0) {
            m_firstTimestamp = row.timestamp;
            m_stepStart = row;
            m_currentStep = 0;
        }
        const int step = std::clamp(int((row.timestamp - m_firstTimestamp) / m_plan.stepSeconds), 0, m_plan.steps - 1);
        if (step > m_currentStep) {
            closeStep(m_currentStep, m_lastRow);
            m_currentStep = step;
        }
        m_lastRow = row;
        LoadTestProgress p;
        p.step = m_currentStep;
        p.steps = m_plan.steps;
        p.users = row.users;
        p.elapsedSeconds = double(m_clock.elapsed()) / 1000.0;
        p.requestsPerSecond = row.rps;
        p.failuresPerSecond = row.failuresPerSecond;
        p.p50Ms = row.p50;
        p.p95Ms = row.p95;
        p.p99Ms = row.p99;
        p.requests = row.requests;
        p.failures = row.failures;
        emit progressed(p);
    }
}

void LocustRunner::closeStep(int step, const Row &last)
{
    if (step < 0 || step < int(m_steps.size()))
        return;
    BaselineStep s;
    s.users = last.users > 0 ? last.users : m_plan.usersAt(step);
    const double seconds = std::max<double>(1.0, double(last.timestamp - m_stepStart.timestamp));
    const double requests = double(last.requests - std::min(last.requests, m_stepStart.requests));
    const double failures = double(last.failures - std::min(last.failures, m_stepStart.failures));
    s.offeredRps = requests / seconds;
    s.achievedRps = (requests - failures) / seconds;
    s.errorRate = requests > 0 ? failures / requests : 0.0;
    s.p50Ms = last.p50;
    s.p95Ms = last.p95;
    s.p99Ms = last.p99;
    m_steps << s;
    m_stepStart = last;
    emit stepCompleted(step, s);
}

void LocustRunner::onFinished(int exitCode, QProcess::ExitStatus status)
{
    m_poll.stop();
    m_kill.stop();
    poll(); // the final rows written at quit
    m_history.close();
    if (m_currentStep >= 0)
        closeStep(m_currentStep, m_lastRow);
    m_stderrTail += m_process->readAllStandardError();
    const QString tail = QString::fromUtf8(m_stderrTail).trimmed().right(2000);
    if (status == QProcess::CrashExit && !m_stopping) {
        emit finished(false, QStringLiteral("Locust crashed: %1").arg(tail));
    } else if (exitCode != 0 && !m_stopping) {
        emit finished(false, QStringLiteral("Locust exited with status %1: %2").arg(exitCode).arg(tail));
    } else if (m_steps.isEmpty()) {
        emit finished(false, QStringLiteral("Locust wrote no statistics to %1%2")
                                 .arg(historyPath(), tail.isEmpty() ? QString() : QStringLiteral(": ") + tail));
    } else {
        qCInfo(lcLocust) << "finished:" << m_steps.size() << "steps";
        emit finished(true, QString());
    }
}
