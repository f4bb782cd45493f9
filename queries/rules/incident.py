"""The incident banner as data: the top independent causes, firing alerts and the scheduling
backlog, in at most two lines that fit the terminal, and the diagnosis step of the top cause."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.model.finding import Finding
from k8stop.queries.model.level import Level
from k8stop.queries.report import Report
from k8stop.queries.rules.guided import STEPS, clip

# Pods waiting to be scheduled before the banner mentions them (a few are normal churn).
PENDING_PODS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Incident:
    level: Level  # the worst independent cause; OK when nothing is wrong
    lines: tuple[str, ...]  # at most two, each at most `width` characters
    step: int  # guided-diagnosis step of the top cause (0 when none)


def _cause(f: Finding) -> str:
    return f"{f.component} {f.subject}"


def _pending(report: Report) -> float:
    cp = report.snapshot.control_plane
    if cp is None or cp.scheduler is None:
        return 0.0
    return sum(n for queue, n in cp.scheduler.pending_by_queue if queue in ("active", "backoff", "unschedulable"))


def incident(report: Report, width: int = 80) -> Incident:
    causes = [f for f in report.findings if f.caused_by is None and f.severity > Level.INFO]
    alerts = report.snapshot.alerts
    firing = [a for a in alerts.alerts if a.state == "firing" and a.severity not in ("none", "")] if alerts else []
    pending = _pending(report)
    extras = []
    if firing:
        extras.append(f"{len(firing)} alert{'s' if len(firing) != 1 else ''} firing")
    if pending >= PENDING_PODS_SHOWN:
        extras.append(f"{pending:,.0f} pods pending")
    if not causes and not extras:
        return Incident(Level.OK, (), 0)
    level = max((f.severity for f in causes), default=Level.WARNING)
    lines = []
    if causes:
        top = causes[0]
        more = f" (+{len(causes) - 1} more cause{'s' if len(causes) > 2 else ''})" if len(causes) > 1 else ""
        lines.append(clip(f"{top.severity.severity_word.upper()} {_cause(top)}: {top.title}{more}", width))
    second = [_cause(f) for f in causes[1:3]]
    tail = "; ".join(part for part in (("also " + ", ".join(second)) if second else "", " · ".join(extras)) if part)
    if tail:
        lines.append(clip(tail, width))
    step = next((i for i, s in enumerate(STEPS) if causes and causes[0].component in s.components), 0)
    return Incident(level, tuple(lines[:2]), step)
