#pragma once

#include "core/metrics/metricssnapshot.h"

#include <QList>
#include <QString>

#include <optional>

// What the console shows of the priority classes (X-Sluice-Priority; the
// snapshot's `classes`), derived from a MetricsSnapshot: pure functions,
// table-tested without a widget. The dashboard says the same
// (resources/dashboard/src/classes.ts).
//  - One row per class: the three known classes always, in priority order
//    (interactive, standard, background), then any other class the snapshot
//    names, in its order. A known class the snapshot does not carry (an
//    engine that does not report classes yet) reads "—" in every cell,
//    never a made-up 0.
//  - Queued is now; latency (admission to answer, successful requests) and
//    queue wait (admission to dispatch) are p50/p95 over the last 60 s, in
//    LatencyView's format; a class without a measurement in the window
//    reads "—" there (its 0 ms would read as instant), and a measured 0 ms
//    wait reads "0 ms". Completed, failed and rejected count since start.
//  - Failed (error, expired, cancelled) is highlighted when not 0, rejected
//    (refused at admission: queue, tenant limits, budget) likewise.
//
// Thread: pure functions, any thread.
namespace PriorityClassView {

// "interactive", "standard", "background": the classes in priority order.
QList<QString> knownClasses();

struct Row {
    QString name;          // the class, as the snapshot names it
    bool reported = false; // the snapshot carries it
    int queuedNow = 0;
    QString queued;        // "12", "—" when not reported
    QString latencyP50;    // "120 ms", "—"
    QString latencyP95;
    QString waitP50;       // queue wait
    QString waitP95;
    QString completed;     // "1 234", "—"
    QString failed;
    QString rejected;
    bool failedHighlighted = false;
    bool rejectedHighlighted = false;
    QString toolTip;       // the row's figures in words, with the 60 s counts
};
QList<Row> rows(const QList<PriorityClassState> &classes);

// A 60 s percentile of a class: "—" without a measurement, "0 ms" for a
// measured 0, else LatencyView::formatMs.
QString formatPercentile(const LatencySummary &summary, double ms);

// The class's queue depth for the chart, or nothing (a gap) when the
// snapshot does not carry it.
std::optional<int> queued(const QList<PriorityClassState> &classes, const QString &name);

// The note under the table: "" when classes are reported, else why there is nothing.
QString note(const QList<PriorityClassState> &classes);

} // namespace PriorityClassView
