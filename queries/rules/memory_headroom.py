"""Memory headroom per workload: the working set against the memory limit, and when the trend
reaches the limit. A container that will be OOM-killed within the hour is critical now, before
the kill; the forecast is the least-squares fit with its uncertainty band (as the etcd quota's)."""

from __future__ import annotations

from dataclasses import replace

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ContainerMemory
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.containers import describe_owner, owner_findings, owner_key
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import graded_finding

_ADVICE = (
    "At 100 % of the limit the kernel OOM-kills the container (exit 137, OOMKilled). Measure its real "
    "peak (`kubectl top pod --containers`, this working set) and set the memory limit above it with the "
    "request at typical use (seed §5.1); a working set that only grows is a leak to fix, and JVM/Go "
    "runtimes need their heap capped below the limit (-XX:MaxRAMPercentage, GOMEMLIMIT)."
)


def forecast_text(c: ContainerMemory) -> str:
    """'reaches its limit in 18.5 min (12 min at the fast end)', or '' when not growing."""
    if not c.seconds_to_limit.known:
        return ""
    text = f"reaches its limit in {fmt_seconds(c.seconds_to_limit)}"
    if c.seconds_to_limit_low.known and c.seconds_to_limit_low.number < c.seconds_to_limit.number:
        text += f" ({fmt_seconds(c.seconds_to_limit_low)} at the fast end)"
    return text


def _soon(c: ContainerMemory, t: Thresholds) -> bool:
    return c.seconds_to_limit.known and c.seconds_to_limit.number <= t.container_memory_runway


def _finding(snap: ClusterSnapshot, group: list[ContainerMemory], t: Thresholds, q: EvidenceQueries) -> Finding | None:
    assert snap.workloads is not None
    metric, trend = snap.workloads.memory_limit_metric, snap.workloads.trend_window
    worst = group[0]
    owner = owner_key(worst.namespace, worst.pod, worst.placement)
    ratio = Value.of(worst.ratio)
    pods = len({c.pod for c in group})
    soon = next((c for c in group if _soon(c, t)), None)
    when = f", {forecast_text(soon)}" if soon is not None else ""
    title = (
        f"{describe_owner(owner, pods)} container {worst.container} at {fmt_ratio(ratio)} of its memory limit "
        f"({fmt_bytes(Value.of(worst.working_set_bytes))} of {fmt_bytes(Value.of(worst.limit_bytes))}){when}"
    )
    more: list[Evidence] = []
    for c in group:
        sel = {"namespace": c.namespace, "pod": c.pod, "container": c.container}
        more.append(
            Evidence(
                q.promql("workload.memory_working_set", sel),
                c.working_set_bytes,
                f"working set of {c.pod}/{c.container}",
            )
        )
        more.append(Evidence(q.promql("workload.memory_limit", sel, metric=metric), c.limit_bytes, "memory limit"))
        if c.seconds_to_limit.known:
            more.append(
                Evidence(
                    q.promql("workload.memory_working_set", sel),
                    c.seconds_to_limit.number,
                    f"seconds to the limit at {fmt_bytes(Value.of(c.growth_bytes_per_s * 3600))}/h "
                    f"± {fmt_bytes(Value.of(2 * c.growth_stderr * 3600))}/h (least squares over the last "
                    f"{fmt_seconds(Value.of(trend))}); critical within {fmt_seconds(Value.of(t.container_memory_runway))}",
                )
            )
    nodes = tuple(dict.fromkeys(c.placement.node for c in group if c.placement.node))
    more.extend(Evidence(f"/api/v1/nodes/{n}", n, "node") for n in nodes)
    found = graded_finding(
        ratio,
        bounds.container_memory(t),
        fmt_ratio,
        rule="workload.memory_near_limit",
        component=Component.WORKLOAD,
        subject=f"{owner[0]}/{owner[2]}",
        title=title,
        query=q.promql(
            "workload.memory_working_set",
            {"namespace": worst.namespace, "pod": worst.pod, "container": worst.container},
        ),
        evidence_detail=f"working set / limit of {worst.pod}/{worst.container}",
        more_evidence=more,
        recommendation=_ADVICE,
        labels=(
            ("owner_kind", owner[1]),
            *(("pod", f"{c.namespace}/{c.pod}") for c in group),
            *(("node", n) for n in nodes),
        ),
    )
    if found is not None and soon is not None:
        # The trend reaches the limit within the runway: the kill is coming, whatever the share.
        return replace(found, severity=Level.CRITICAL)
    return found


def memory_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    return owner_findings(
        snap.workloads.memory, bounds.container_memory(t), lambda c: c.ratio, lambda group: _finding(snap, group, t, q)
    )
