#include "core/loadtest/locustrunner.h"

#include "loadtest/locustfile.h"

#include <QDateTime>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcessEnvironment>
#include <QSaveFile>
#include <QTcpServer>
#include <QThread>

#include <algorithm>
#include <csignal>

#ifdef Q_OS_LINUX
#include <sys/prctl.h>
#endif

Q_LOGGING_CATEGORY(lcLocust, "sluice.locust")

QJsonObject LoadTestPlan::toJson() const
{
    QJsonObject mixJson;
    for (auto it = mix.begin(); it != mix.end(); ++it)
        mixJson.insert(it.key(), it.value());
    if (driven) // the steps are the knee search's: they are in the baseline's steps[] and search
        return {{QStringLiteral("tool"), QStringLiteral("locust")},
                {QStringLiteral("version"), QStringLiteral("2.12.1")},
                {QStringLiteral("mode"), QStringLiteral("knee-search")},
                {QStringLiteral("target"), target.toString()},
                {QStringLiteral("startUsers"), startUsers},
                {QStringLiteral("workers"), workers},
                {QStringLiteral("model"), model},
                {QStringLiteral("requestMix"), mixJson}};
    return {{QStringLiteral("tool"), QStringLiteral("locust")},
            {QStringLiteral("version"), QStringLiteral("2.12.1")},
            {QStringLiteral("mode"), QStringLiteral("steps")},
            {QStringLiteral("target"), target.toString()},
            {QStringLiteral("startUsers"), startUsers > 0 ? startUsers : usersPerStep},
            {QStringLiteral("usersPerStep"), usersPerStep},
            {QStringLiteral("steps"), steps},
            {QStringLiteral("stepSeconds"), stepSeconds},
            {QStringLiteral("workers"), workers},
            {QStringLiteral("model"), model},
            {QStringLiteral("requestMix"), mixJson}};
}

int LoadTestPlan::defaultWorkers()
{
    return std::max(0, QThread::idealThreadCount() - 1);
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
    m_poll.setInterval(500);
    connect(&m_poll, &QTimer::timeout, this, &LocustRunner::poll);
    m_term.setSingleShot(true);
    connect(&m_term, &QTimer::timeout, this, [this] {
        terminateAll();
        m_kill.start(m_plan.stopGraceMs);
    });
    m_kill.setSingleShot(true);
    connect(&m_kill, &QTimer::timeout, this, [this] {
        for (const auto &c : m_children) {
            if (!c->ended && c->process->state() != QProcess::NotRunning) {
                qCWarning(lcLocust).noquote() << describe(*c) << "did not stop within" << m_plan.stopGraceMs
                                              << "ms of SIGTERM; killing it";
                c->process->kill();
            }
        }
    });
}

LocustRunner::~LocustRunner()
{
    for (const auto &c : m_children) {
        if (c->process->state() != QProcess::NotRunning) {
            c->process->disconnect(this);
            c->process->kill();
        }
    }
    for (const auto &c : m_children)
        if (c->process->state() != QProcess::NotRunning)
            c->process->waitForFinished(3000);
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

QString LocustRunner::samplesPath() const
{
    return m_dir ? m_dir->filePath(QStringLiteral("sluice_samples.jsonl")) : QString();
}

bool LocustRunner::isRunning() const
{
    return !m_finished;
}

QList<qint64> LocustRunner::processIds() const
{
    QList<qint64> pids;
    for (const auto &c : m_children)
        if (!c->ended && c->pid > 0)
            pids << c->pid;
    return pids;
}

QString LocustRunner::describe(const Child &child) const
{
    switch (child.role) {
    case LocustProcessRole::Single: return QStringLiteral("Locust");
    case LocustProcessRole::Master: return QStringLiteral("the Locust master");
    case LocustProcessRole::Worker: return QStringLiteral("Locust worker %1").arg(child.index);
    }
    return QStringLiteral("Locust");
}

namespace {

// A port for the Locust master on 127.0.0.1 that nothing listens on now.
quint16 freeLoopbackPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

} // namespace

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
    if (!plan.driven && (plan.steps < 1 || plan.stepSeconds < 1 || plan.usersPerStep < 1 || plan.startUsers < 0)) {
        *error = QStringLiteral("the load-test plan needs steps >= 1, stepSeconds >= 1, usersPerStep >= 1 (got %1, %2, %3)")
                     .arg(plan.steps).arg(plan.stepSeconds).arg(plan.usersPerStep);
        return false;
    }
    if (plan.driven && plan.startUsers < 0) {
        *error = QStringLiteral("the driven load test needs startUsers >= 0 (got %1)").arg(plan.startUsers);
        return false;
    }
    if (plan.workers < 0 || plan.workers > 256) {
        *error = QStringLiteral("Locust workers must be from 0 (one process) to 256, got %1").arg(plan.workers);
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
    m_children.clear();
    m_steps.clear();
    m_header.clear();
    m_pending.clear();
    m_samplesPending.clear();
    m_samples.clear();
    m_samples.setLagSeconds(plan.workers > 0 ? 2 : 1);
    m_samples.setMachineCores(std::max(1, QThread::idealThreadCount()));
    m_failure.clear();
    m_firstTimestamp = -1;
    m_currentStep = -1;
    m_stepStart = m_lastRow = {};
    m_stopping = false;
    m_history.close();
    m_history.setFileName(historyPath());
    m_samplesFile.close();
    m_samplesFile.setFileName(samplesPath());

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (plan.driven) {
        env.remove(QStringLiteral("SLUICE_STEPS"));
        env.insert(QStringLiteral("SLUICE_SHAPE_FILE"), m_dir->filePath(QStringLiteral("shape")));
        if (!setUsersFile(plan.startUsers, error))
            return false;
    } else {
        env.insert(QStringLiteral("SLUICE_STEPS"), QString::number(plan.steps));
        env.insert(QStringLiteral("SLUICE_STEP_USERS"), QString::number(plan.usersPerStep));
        env.insert(QStringLiteral("SLUICE_START_USERS"), QString::number(plan.usersAt(0)));
        env.insert(QStringLiteral("SLUICE_STEP_SECONDS"), QString::number(plan.stepSeconds));
        env.insert(QStringLiteral("SLUICE_SPAWN_RATE"), QString::number(plan.spawnRate));
        env.remove(QStringLiteral("SLUICE_SHAPE_FILE"));
    }
    env.insert(QStringLiteral("SLUICE_SAMPLES_FILE"), samplesPath());
    env.insert(QStringLiteral("SLUICE_MODEL"), plan.model);
    for (auto it = plan.mix.begin(); it != plan.mix.end(); ++it)
        env.insert(it.key(), it.value());
    env.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("1"));

    QStringList args{QStringLiteral("-f"), locustfile,
                     QStringLiteral("--headless"),
                     QStringLiteral("--host"), plan.target.toString(QUrl::StripTrailingSlash),
                     QStringLiteral("--csv"), m_dir->filePath(QStringLiteral("sluice")),
                     QStringLiteral("--csv-full-history"),
                     QStringLiteral("--only-summary"),
                     QStringLiteral("--loglevel"), QStringLiteral("WARNING"),
                     // Rejections (429/503) are failures by design; only a crash is an error.
                     QStringLiteral("--exit-code-on-error"), QStringLiteral("0")};
    quint16 masterPort = 0;
    if (plan.workers > 0) {
        masterPort = freeLoopbackPort();
        if (masterPort == 0) {
            *error = QStringLiteral("no free port on 127.0.0.1 for the Locust master");
            return false;
        }
        args << QStringLiteral("--master") << QStringLiteral("--master-bind-host") << QStringLiteral("127.0.0.1")
             << QStringLiteral("--master-bind-port") << QString::number(masterPort)
             << QStringLiteral("--expect-workers") << QString::number(plan.workers)
             << QStringLiteral("--expect-workers-max-wait") << QString::number(plan.expectWorkersSeconds);
    }
    m_finished = false;
    m_clock.start();
    if (!startChild(plan.workers > 0 ? LocustProcessRole::Master : LocustProcessRole::Single, 0, args, env)) {
        *error = m_failure;
        m_finished = true;
        return false;
    }
    for (int i = 1; i <= plan.workers; ++i) {
        const QStringList workerArgs{QStringLiteral("-f"), locustfile,
                                     QStringLiteral("--worker"),
                                     QStringLiteral("--master-host"), QStringLiteral("127.0.0.1"),
                                     QStringLiteral("--master-port"), QString::number(masterPort),
                                     QStringLiteral("--loglevel"), QStringLiteral("WARNING")};
        if (!startChild(LocustProcessRole::Worker, i, workerArgs, env)) {
            *error = m_failure;
            m_stopping = true;
            terminateAll();
            m_kill.start(m_plan.stopGraceMs);
            return false;
        }
    }
    m_poll.start();
    return true;
}

bool LocustRunner::startChild(LocustProcessRole role, int index, const QStringList &args, const QProcessEnvironment &env)
{
    auto child = std::make_unique<Child>();
    child->role = role;
    child->index = index;
    child->process = std::make_unique<QProcess>();
    Child *c = child.get();
    QProcess *p = c->process.get();
    p->setProcessEnvironment(env);
    p->setWorkingDirectory(m_dir->path());
#ifdef Q_OS_LINUX
    // Should the thread that started Locust die without stopping it (a crash,
    // SIGKILL), the kernel sends the child SIGTERM: no orphan keeps loading the gateway.
    p->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    connect(p, &QProcess::readyReadStandardError, this, [c] {
        c->stderrTail += c->process->readAllStandardError();
        if (c->stderrTail.size() > 8192)
            c->stderrTail = c->stderrTail.right(8192);
    });
    connect(p, &QProcess::readyReadStandardOutput, this, [c] { c->process->readAllStandardOutput(); });
    connect(p, &QProcess::finished, this, [this, c](int exitCode, QProcess::ExitStatus status) {
        onChildFinished(c, exitCode, status);
    });
    connect(p, &QProcess::errorOccurred, this, [this, c](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart && !c->ended) {
            c->ended = true;
            fail(QStringLiteral("%1 could not be started (%2): %3").arg(describe(*c), m_plan.locustPath, c->process->errorString()));
            m_stopping = true;
            terminateAll();
            m_kill.start(m_plan.stopGraceMs);
            finish();
        }
    });
    qCInfo(lcLocust).noquote() << "starting" << describe(*c) << ":" << m_plan.locustPath << args.join(QLatin1Char(' '));
    m_children.push_back(std::move(child));
    p->start(m_plan.locustPath, args);
    if (p->state() == QProcess::NotRunning) {
        c->ended = true;
        fail(QStringLiteral("%1 could not be started (%2): %3").arg(describe(*c), m_plan.locustPath, p->errorString()));
        return false;
    }
    c->pid = p->processId();
    return true;
}

void LocustRunner::fail(const QString &error)
{
    if (m_failure.isEmpty())
        m_failure = error;
}

void LocustRunner::terminateAll()
{
    for (const auto &c : m_children)
        if (!c->ended && c->process->state() != QProcess::NotRunning)
            c->process->terminate();
}

bool LocustRunner::writeShape(const QByteArray &text, QString *error)
{
    // Replaced whole (rename), so the shape never reads half a line.
    QSaveFile f(m_dir->filePath(QStringLiteral("shape")));
    if (!f.open(QIODevice::WriteOnly) || f.write(text) < 0 || !f.commit()) {
        *error = QStringLiteral("cannot write Locust's shape file %1: %2").arg(f.fileName(), f.errorString());
        return false;
    }
    return true;
}

bool LocustRunner::setUsersFile(int users, QString *error)
{
    // All users at once: a step's warm-up starts when they are all running.
    return writeShape(QByteArray::number(users) + ' ' + QByteArray::number(std::max(users, 1)) + '\n', error);
}

bool LocustRunner::setUsers(int users, QString *error)
{
    if (!m_plan.driven || !m_dir) {
        *error = QStringLiteral("setUsers: this load test is not driven (it follows its step plan)");
        return false;
    }
    if (users < 0) {
        *error = QStringLiteral("setUsers: users must not be negative, got %1").arg(users);
        return false;
    }
    return setUsersFile(users, error);
}

void LocustRunner::stop()
{
    if (!isRunning() || m_stopping)
        return;
    m_stopping = true;
    QString ignored;
    if (m_plan.driven && writeShape("stop\n", &ignored)) {
        // The shape ends the test within a second; Locust then writes its last rows and quits.
        m_term.start(2000);
        return;
    }
    // SIGTERM: Locust's own handler writes its final rows; a master also tells its workers to quit.
    if (!m_children.empty() && !m_children.front()->ended)
        m_children.front()->process->terminate();
    m_term.start(2000);
}

void LocustRunner::sampleCpu()
{
    QList<ProcessCpuTime> processes;
    for (const auto &c : m_children)
        if (!c->ended && c->pid > 0)
            processes << ProcessCpuTime{c->pid, int(c->role), 0};
    if (!processes.isEmpty())
        m_samples.addCpu(ProcessCpuSampler::read(processes, double(QDateTime::currentMSecsSinceEpoch()) / 1000.0));
}

void LocustRunner::pollSamples()
{
    if (!m_samplesFile.isOpen()) {
        if (!QFile::exists(m_samplesFile.fileName()) || !m_samplesFile.open(QIODevice::ReadOnly))
            return;
    }
    m_samplesPending += m_samplesFile.readAll();
    bool added = false;
    int eol;
    while ((eol = int(m_samplesPending.indexOf('\n'))) >= 0) {
        const QByteArray line = m_samplesPending.left(eol).trimmed();
        m_samplesPending.remove(0, eol + 1);
        if (line.isEmpty())
            continue;
        LocustSample sample;
        QString error;
        if (!LocustSample::fromJsonLine(line, &sample, &error)) {
            qCWarning(lcLocust).noquote() << "ignoring a bad samples line:" << error;
            continue;
        }
        m_samples.add(sample);
        added = true;
    }
    if (added)
        emit sampled();
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
    sampleCpu();
    pollSamples();
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
        // The steps start with the load: a master writes rows while it waits
        // for its workers, before any user runs.
        if (m_firstTimestamp < 0 && (row.users > 0 || m_plan.workers == 0)) {
            m_firstTimestamp = row.timestamp;
            m_stepStart = row;
            m_currentStep = 0;
        }
        if (m_firstTimestamp < 0)
            continue;
        // A driven load's steps are its driver's (KneeSearchDriver); a stepped one's follow the clock.
        if (!m_plan.driven) {
            const int step = std::clamp(int((row.timestamp - m_firstTimestamp) / m_plan.stepSeconds), 0, m_plan.steps - 1);
            if (step > m_currentStep) {
                closeStep(m_currentStep, m_lastRow);
                m_currentStep = step;
            }
        }
        m_lastRow = row;
        LoadTestProgress p;
        p.step = m_plan.driven ? 0 : m_currentStep;
        p.steps = m_plan.driven ? 0 : m_plan.steps;
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
    s.generator = m_samples.generator(double(m_stepStart.timestamp), double(last.timestamp));
    m_steps << s;
    m_stepStart = last;
    emit stepCompleted(step, s);
}

void LocustRunner::onChildFinished(Child *c, int exitCode, QProcess::ExitStatus status)
{
    if (c->ended)
        return;
    c->ended = true;
    c->stderrTail += c->process->readAllStandardError();
    const QString tail = QString::fromUtf8(c->stderrTail).trimmed().right(2000);
    const bool first = c == m_children.front().get();
    if (status == QProcess::CrashExit && !m_stopping) {
        fail(QStringLiteral("%1 crashed: %2").arg(describe(*c), tail));
    } else if (exitCode != 0 && !m_stopping) {
        fail(QStringLiteral("%1 exited with status %2: %3").arg(describe(*c)).arg(exitCode).arg(tail));
    }
    // A worker that exits with 0 was told to quit by its master at the end of
    // the test; the master itself may take a moment longer to exit.
    if (first) {
        // The master tells its workers to quit; whoever is left gets SIGTERM, then SIGKILL.
        m_stopping = true;
        if (!m_term.isActive() && !m_kill.isActive())
            m_term.start(2000);
    } else if (!m_failure.isEmpty() && !m_children.front()->ended) {
        // A failed worker: stop the master and the others.
        m_stopping = true;
        terminateAll();
        m_kill.start(m_plan.stopGraceMs);
    }
    finish();
}

void LocustRunner::finish()
{
    for (const auto &c : m_children)
        if (!c->ended)
            return;
    if (m_finished)
        return;
    m_finished = true;
    m_poll.stop();
    m_term.stop();
    m_kill.stop();
    poll(); // the final rows written at quit
    m_history.close();
    m_samplesFile.close();
    if (!m_plan.driven && m_currentStep >= 0)
        closeStep(m_currentStep, m_lastRow);
    if (!m_failure.isEmpty()) {
        emit finished(false, m_failure);
    } else if (!m_plan.driven && m_steps.isEmpty()) {
        QString tail;
        for (const auto &c : m_children)
            tail += QString::fromUtf8(c->stderrTail).trimmed().right(2000);
        emit finished(false, QStringLiteral("Locust wrote no statistics to %1%2")
                                 .arg(historyPath(), tail.isEmpty() ? QString() : QStringLiteral(": ") + tail));
    } else {
        if (m_plan.driven)
            qCInfo(lcLocust) << "finished after" << m_clock.elapsed() / 1000 << "s";
        else
            qCInfo(lcLocust) << "finished:" << m_steps.size() << "steps";
        emit finished(true, QString());
    }
}
