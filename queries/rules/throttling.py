"""CPU throttling per workload (kubernetes-mixin CPUThrottlingHigh), with the advice split by
cause: a limit too low for the load (usage at the limit, or bursts above it), or a node so busy
that raising the limit would not help."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ContainerThrottling, NodeSaturation
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_ratio
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.containers import describe_owner, fmt_cores, owner_findings, owner_key
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import graded_finding
from k8stop.queries.rules.nodes import same_node

# Average usage at this share of the limit or more: the container lives at its limit.
AT_LIMIT = 0.8


def _busy_node(snap: ClusterSnapshot, node: str, t: Thresholds) -> NodeSaturation | None:
    """The container's node when its CPU is saturated (seed §8.1 warning level)."""
    if not node or snap.nodes is None:
        return None
    busy = bounds.node_saturation(t).target
    return next((n for n in snap.nodes.worst if same_node(n.node, node) and n.cpu.known and n.cpu.number >= busy), None)


def _advice(c: ContainerThrottling, busy: NodeSaturation | None) -> tuple[str, str]:
    """(cause, recommendation)."""
    if busy is not None:
        return (
            "node contention",
            f"Node {busy.node} is at {fmt_ratio(busy.cpu)} CPU: the container competes with its neighbours, so "
            "raising its limit will not give it more CPU. Relieve the node first (see its finding): spread the "
            "workload with topologySpreadConstraints or anti-affinity, set requests that match real use so the "
            "scheduler stops packing the node (seed §5.1, §5.3), or add nodes.",
        )
    usage, limit = c.cpu_usage_cores, c.cpu_limit_cores
    if usage.known and limit.known and limit.number > 0 and usage.number >= AT_LIMIT * limit.number:
        return (
            "limit too low",
            f"It uses {fmt_cores(usage.number)} of its {fmt_cores(limit.number)} CPU limit on average: the limit "
            "is too low for its load. Raise the CPU limit (or drop it and keep an accurate request, a common "
            "practice for latency-sensitive services), or scale out with an HPA at ~70 % (seed §5.2).",
        )
    average = f"its average use ({fmt_cores(usage.number)}) " if usage.known else "its average use "
    of_limit = f"its {fmt_cores(limit.number)} limit" if limit.known else "its limit"
    return (
        "limit too low for its bursts",
        f"{average.capitalize()}is below {of_limit}, but bursts exhaust the quota within each 100 ms CFS "
        "period (common for multi-threaded runtimes: JVM, Go with GOMAXPROCS above the limit). Raise the "
        "limit to cover the bursts, size thread pools / GOMAXPROCS to the limit, or drop the limit and keep "
        "an accurate request.",
    )


def _finding(
    snap: ClusterSnapshot, group: list[ContainerThrottling], t: Thresholds, q: EvidenceQueries
) -> Finding | None:
    assert snap.workloads is not None
    window, metric = snap.workloads.window, snap.workloads.cpu_limit_metric
    worst = group[0]
    owner = owner_key(worst.namespace, worst.pod, worst.placement)
    subject = f"{owner[0]}/{owner[2]}"
    busy = _busy_node(snap, worst.placement.node, t)
    cause, advice = _advice(worst, busy)
    value = Value.of(worst.throttled_ratio)
    containers = ", ".join(dict.fromkeys(c.container for c in group))
    pods = len({c.pod for c in group})
    title = (
        f"{describe_owner(owner, pods)} CPU-throttled {fmt_ratio(value)} of periods (container {containers}; {cause})"
    )
    more: list[Evidence] = []
    for c in group:
        sel = {"namespace": c.namespace, "pod": c.pod, "container": c.container}
        if c is not worst:
            more.append(
                Evidence(
                    q.promql("workload.cpu_throttled_ratio", sel, window=window),
                    c.throttled_ratio,
                    f"throttled share of {c.pod}/{c.container}",
                )
            )
        more.append(
            Evidence(
                q.promql("workload.cpu_usage", sel, window=window),
                c.cpu_usage_cores.or_none(),
                f"CPU cores used by {c.pod}/{c.container}",
            )
        )
        more.append(
            Evidence(
                q.promql("workload.cpu_limit", sel, metric=metric),
                c.cpu_limit_cores.or_none(),
                f"CPU limit of {c.pod}/{c.container}" if c.cpu_limit_cores.known else "no CPU limit known",
            )
        )
    nodes = tuple(dict.fromkeys(c.placement.node for c in group if c.placement.node))
    more.extend(Evidence(f"/api/v1/nodes/{n}", n, "node") for n in nodes)
    return graded_finding(
        value,
        bounds.cpu_throttling(t),
        fmt_ratio,
        rule="workload.cpu_throttled",
        component=Component.WORKLOAD,
        subject=subject,
        title=title,
        query=q.promql(
            "workload.cpu_throttled_ratio",
            {"namespace": worst.namespace, "pod": worst.pod, "container": worst.container},
            window=window,
        ),
        evidence_detail=f"throttled share of CFS periods over {window}, {worst.pod}/{worst.container}",
        more_evidence=more,
        recommendation=advice,
        labels=(
            ("owner_kind", owner[1]),
            ("cause", cause),
            *(("pod", f"{c.namespace}/{c.pod}") for c in group),
            *(("node", n) for n in nodes),
        ),
        inside_limit=Level.WARNING,
    )


def throttling_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    return owner_findings(
        snap.workloads.throttled,
        bounds.cpu_throttling(t),
        lambda c: c.throttled_ratio,
        lambda group: _finding(snap, group, t, q),
    )
