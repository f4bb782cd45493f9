"""Grading the fleet overview: each cluster's worst KPIs against the same bounds as the
scorecard, its top finding in one line, and the clusters worst first."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import Alert
from k8stop.queries.model.fleet import FleetCell, FleetFacts, FleetRow
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_count, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.prom.fleet import FleetMeasures, Measured
from k8stop.queries.rules import bounds
from k8stop.queries.rules.alerts import severity_of
from k8stop.queries.rules.grading import Bound

# tag -> the top finding's words ({subject}, {value}: short, the overview's last column is
# narrow at 80 columns) and how its value reads
_WORDS: dict[str, tuple[str, Callable[[Value], str]]] = {
    "api": ("API {subject} p99 {value}", fmt_seconds),
    "etcd": ("etcd {subject} fsync {value}", fmt_seconds),  # WAL fsync p99
    "node": ("node {subject} {value}", fmt_ratio),
    "restarts": ("{subject} restarted {value}x", lambda v: fmt_count(v.number) if v.known else "n/a"),
}


def fleet_bounds(t: Thresholds) -> dict[str, Bound]:
    return {
        "api": Bound(t.apiserver_p99_target, t.apiserver_p99_slo, "seed §1.1; SIG-scalability SLO"),
        "etcd": bounds.etcd_wal_fsync(t),
        "node": bounds.node_saturation(t),
        "restarts": Bound(t.restarts_1h, None, "k8stop's restarts_1h"),
    }


def _cell(measured: Measured | None, bound: Bound) -> FleetCell:
    if measured is None:
        return FleetCell()
    level = bound.grade(measured.value)
    passed = bound.limit if level is Level.FAIL and bound.limit is not None else bound.target
    magnitude = measured.value.number / passed if measured.value.known and passed > 0 else 0.0
    return FleetCell(measured.value, level, measured.subject, magnitude)


def _alerts_cell(firing: Iterable[Alert]) -> FleetCell:
    alerts = list(firing)
    if not alerts:
        return FleetCell(Value.of(0.0), Level.OK)
    worst = max(alerts, key=severity_of)
    return FleetCell(Value.of(float(len(alerts))), severity_of(worst), worst.name, float(len(alerts)))


def _top(cells: dict[str, FleetCell], alerts: FleetCell) -> str:
    """The worst cell as a sentence: 'etcd 10.0.0.2:2379 fsync 200 ms'."""
    tag, cell = max(cells.items(), key=lambda kv: (int(kv[1].level), kv[1].magnitude))
    if alerts.level > cell.level and alerts.level >= Level.WARN:
        return f"alert {alerts.subject} firing"
    if cell.level < Level.WARN:
        return ""
    words, fmt = _WORDS[tag]
    return " ".join(words.format(subject=cell.subject, value=fmt(cell.value)).split())


def fleet_rows(measures: FleetMeasures, clusters: Iterable[str], t: Thresholds) -> FleetFacts:
    """One row per cluster (detected or measured), worst first."""
    limits = fleet_bounds(t)
    names = sorted(set(clusters) | set(measures.values) | (set(measures.alerts) - {""}))
    rows = []
    for name in names:
        measured = measures.values.get(name, {})
        cells = {tag: _cell(measured.get(tag), bound) for tag, bound in limits.items()}
        alerts = _alerts_cell(measures.alerts.get(name, ()))
        rows.append(
            FleetRow(name, cells["api"], cells["etcd"], cells["node"], cells["restarts"], alerts, _top(cells, alerts))
        )
    return FleetFacts(measures.label, tuple(sorted(rows, key=FleetRow.rank)))
