"""A node's own stability, per node: its Ready condition flapping (kubernetes-mixin
KubeNodeReadinessFlapping), its container runtime creating containers slowly (seed §1.1) and
its tasks stalled on memory or I/O (PSI "full", when node-exporter exports it)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import KubeletHealth
from k8stop.queries.model.finding import Component, Finding
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_count, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.evidence import EvidenceQueries, matchers
from k8stop.queries.rules.grading import Rule, present

CREATE = "create_container"  # the one runtime operation with a target (seed §1.1 container_creation)
_FLAPPING = Rule(
    "node.readiness_flapping",
    Component.NODE,
    "The node keeps going NotReady and back: each time the node controller may taint it and start "
    "evicting its pods, and the scheduler stops placing pods there. Usually the kubelet misses its "
    "heartbeats: a saturated node (CPU, memory, PIDs), a slow container runtime (PLEG), or a flaky "
    "network path to the API server. `kubectl describe node` shows the conditions' reasons; the "
    "kubelet's log says why it stopped reporting.",
)
_RUNTIME = Rule(
    "kubelet.runtime_slow",
    Component.KUBELET,
    "The container runtime takes seconds to create containers on this node, so every pod start, "
    "restart and rollout on it waits. Check the runtime's own log and latency (`crictl` timings), "
    "the node's disk (image layers and overlay mounts live there) and its CPU; other nodes creating "
    "containers fast point at this machine, not the cluster.",
)
_PSI = Rule("node.psi_stalled", Component.NODE)
_PSI_ADVICE = (
    "For this share of the time no task on the node could make progress for lack of {resource}: "
    "work on it runs that much slower whatever its CPU use. Memory: the node is reclaiming "
    "(working sets above what is free, swap or page cache thrashing); lower the pods' memory or "
    "move some away, and set requests at real use so the scheduler stops overpacking it. I/O: the "
    "disk is saturated (image pulls, logs, a noisy neighbour's writes); check its latency and queue."
)


def _flapping(k: KubeletHealth, t: Thresholds, q: EvidenceQueries) -> Finding | None:
    return _FLAPPING.graded(
        Value.of(k.ready_changes_15m),
        bounds.readiness_flapping(t),
        lambda v: fmt_count(v.number),
        subject=k.node,
        title=f"Node {k.node} Ready condition changed {k.ready_changes_15m:.0f} times in 15 minutes",
        query=q.promql("node.ready_changes", {"node": k.node}),
        evidence_detail="changes of Ready in 15m",
        labels=(("node", k.node),),
    )


def _runtime(k: KubeletHealth, t: Thresholds, q: EvidenceQueries) -> Finding | None:
    create = dict(k.runtime_p99).get(CREATE)
    if create is None:
        return None
    sel = matchers({"instance": k.instance, "operation_type": CREATE} if k.instance else {"operation_type": CREATE})
    return _RUNTIME.graded(
        create,
        bounds.container_create(t),
        fmt_seconds,
        subject=k.node,
        title=f"Container runtime on {k.node} creates containers in {fmt_seconds(create)} (p99)",
        query=q.promql("kubelet.runtime_ops_p99_by_target", extra=sel),
        evidence_detail=f"{CREATE} p99 over 5m on this node",
        labels=(("node", k.node),),
    )


def _psi(k: KubeletHealth, t: Thresholds, q: EvidenceQueries) -> Finding | None:
    if not k.psi_full:
        return None
    resource, share = k.psi_full[0]  # the worst
    return _PSI.graded(
        Value.of(share),
        bounds.node_psi(t),
        fmt_ratio,
        subject=k.node,
        title=f"Node {k.node}: every task stalled on {resource} {fmt_ratio(Value.of(share))} of the time (PSI full)",
        query=q.promql(f"node.psi_{resource}_full"),
        advice=_PSI_ADVICE.format(resource=resource),
        evidence_detail=f"share of time stalled on {resource} over 5m, all this node's tasks",
        labels=(("node", k.node), ("resource", resource)),
    )


def node_stability_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    checks = (_flapping, _runtime, _psi)
    return present(check(k, t, q) for k in snap.workloads.kubelets for check in checks)
