"""Why pods do not schedule: the scheduler's FailedScheduling messages grouped by reason.

"0/1200 nodes are available: 1000 Insufficient cpu, 200 node(s) had untolerated taint {...}.
preemption: ..." names, per reason, how many nodes it ruled out; the same reason across many
pending pods is one capacity or constraint problem, so reasons are counted over pods."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from k8stop.queries.model.facts import ControlPlaneFacts, EventRecord, KubeSummary

_AVAILABLE = re.compile(r"^\s*\d+/(?P<total>\d+) nodes are available:\s*(?P<body>.*)$", re.S)
_COUNTED = re.compile(r"^(?P<nodes>\d+)\s+(?P<reason>.+)$", re.S)
# Reasons whose text itself has ", " (a taint's value list) stay whole: split only before a count.
_SPLIT = re.compile(r",\s+(?=\d+\s)")


@dataclass(frozen=True, slots=True)
class SchedulingReason:
    reason: str  # "Insufficient cpu", "node(s) had untolerated taint {...}", or a whole message
    pods: int  # pending pods whose latest FailedScheduling names it
    nodes: int  # the most nodes it ruled out in one message (0 when the message gives no count)


def _reasons(message: str) -> list[tuple[str, int]]:
    m = _AVAILABLE.match(message)
    if m is None:
        return [(message.strip(), 0)]
    body = m["body"].split(" preemption:", 1)[0].strip().rstrip(".")
    out = []
    for part in _SPLIT.split(body):
        counted = _COUNTED.match(part.strip())
        out.append((counted["reason"].strip(), int(counted["nodes"])) if counted else (part.strip(), 0))
    return out


def failed_scheduling_reasons(events: Iterable[EventRecord]) -> tuple[SchedulingReason, ...]:
    """Reasons over the FailedScheduling events (one per pod: the newest is listed first), most pods first."""
    pods: dict[str, set[tuple[str, str]]] = {}
    nodes: dict[str, int] = {}
    for e in events:
        if e.reason != "FailedScheduling":
            continue
        for reason, count in _reasons(e.message):
            pods.setdefault(reason, set()).add((e.namespace, e.name))
            nodes[reason] = max(nodes.get(reason, 0), count)
    ranked = sorted(pods, key=lambda r: (-len(pods[r]), -nodes[r], r))
    return tuple(SchedulingReason(r, len(pods[r]), nodes[r]) for r in ranked)


def unschedulable_pods(cp: ControlPlaneFacts | None) -> float:
    if cp is None or cp.scheduler is None:
        return 0.0
    return dict(cp.scheduler.pending_by_queue).get("unschedulable", 0.0)


def backlog_flag(cp: ControlPlaneFacts | None, kube: KubeSummary | None, threshold: float) -> str | None:
    """The dashboard's header flag when the unschedulable backlog is at the threshold or above:
    "800 UNSCHEDULABLE: Insufficient cpu" (the top reason when the kube feed has the events)."""
    pending = unschedulable_pods(cp)
    if pending < threshold or pending <= 0:
        return None
    reasons = failed_scheduling_reasons(kube.recent_warnings) if kube is not None else ()
    flag = f"{pending:,.0f} UNSCHEDULABLE"
    if reasons:
        top = reasons[0].reason
        flag += f": {top if len(top) <= 32 else top[:31] + '…'}"
    return flag
