"""Node rules: CPU, memory and disk saturation (seed §8.1 70/85/95 %), load, readiness."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import NodeSaturation, NodesFacts
from k8stop.queries.model.finding import Component, Evidence, Finding, Severity, severity_for
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_ratio
from k8stop.queries.model.values import Value
from k8stop.queries.rules.grading import Level, grade

_ADVICE = {
    "cpu": (
        "Find the pods burning it (`kubectl top pods -A --sort-by=cpu`, filter to this node). Give "
        "every container CPU requests and limits so the scheduler spreads load (seed §5.1), scale out "
        "with an HPA around 70 % (seed §5.2), spread replicas with topologySpreadConstraints "
        "(seed §5.3), reserve CPU for the system (seed §3.1 kubeReserved/systemReserved cpu 500m) "
        "and add nodes if all of them are busy (seed §7.1)."
    ),
    "memory": (
        "Memory pressure ends in evictions and kernel OOM kills. Set memory requests at real usage "
        "and limits on every container (seed §5.1), reserve memory for kubelet and system "
        "(seed §3.1 kubeReserved/systemReserved memory 1Gi) and keep evictionHard "
        "memory.available 500Mi (seed §3.1) so the kubelet evicts before the kernel kills."
    ),
    "disk": (
        "A full root filesystem triggers image GC and evictions: keep evictionHard nodefs.available "
        "10 % and imagefs.available 15 % (seed §3.1), cap logs with containerLogMaxSize 100Mi and "
        "containerLogMaxFiles 5 (seed §3.1), prune unused images, move emptyDir-heavy pods."
    ),
}

_PROMQL = {
    "cpu": '1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{mode=~"idle|iowait|steal"}[5m])))',
    "memory": "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    "disk": '1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}',
}


def same_node(a: str, b: str) -> bool:
    """Node names from node-exporter may be "host:9100" or an IP; kube uses the node name."""
    if a == b:
        return True
    return a.rsplit(":", 1)[0] == b or b.rsplit(":", 1)[0] == a


def _query(facts: NodesFacts, resource: str, node: str) -> str:
    if facts.source == "metrics-server":
        return f"/apis/metrics.k8s.io/v1beta1/nodes/{node}"
    return f"{_PROMQL[resource]} (node {node})"


def _pods_on(snap: ClusterSnapshot, node: str) -> list[Evidence]:
    if snap.kube_summary is None:
        return []
    return [
        Evidence(
            f"/api/v1/namespaces/{p.namespace}/pods/{p.name}",
            float(p.restarts),
            f"restarts of {p.namespace}/{p.name} on this node",
        )
        for p in snap.kube_summary.top_restarts
        if p.node is not None and same_node(node, p.node) and p.restarts > 0
    ][:5]


def _saturation(snap: ClusterSnapshot, facts: NodesFacts, n: NodeSaturation, t: Thresholds) -> list[Finding]:
    _, warn, fail = t.node_saturation
    out = []
    for resource, value in (("cpu", n.cpu), ("memory", n.memory), ("disk", n.disk)):
        level = grade(value, warn, fail)
        if level < Level.WARN:
            continue
        name = "root filesystem" if resource == "disk" else resource.upper() if resource == "cpu" else resource
        out.append(
            Finding(
                id=f"node.{resource}_saturated:{n.node}",
                component=Component.NODE,
                subject=n.node,
                severity=severity_for(level),
                title=f"Node {n.node} {name} at {fmt_ratio(value)}",
                evidence=(
                    Evidence(
                        _query(facts, resource, n.node),
                        value.or_none(),
                        f"warn at {fmt_ratio(Value.of(warn))}, critical at {fmt_ratio(Value.of(fail))} (seed §8.1 70/85/95 %)",
                    ),
                    *_pods_on(snap, n.node),
                ),
                recommendation=_ADVICE[resource],
                magnitude=value.number / warn,
                labels=(("node", n.node), ("resource", resource)),
            )
        )
    if n.load1_per_cpu.at_least(t.node_load1_per_cpu):
        out.append(
            Finding(
                id=f"node.load_saturated:{n.node}",
                component=Component.NODE,
                subject=n.node,
                severity=Severity.WARNING,
                title=f"Node {n.node} load1 is {n.load1_per_cpu.number:.1f} per CPU",
                evidence=(
                    Evidence(
                        f'node_load1 / count(node_cpu_seconds_total{{mode="idle"}}) (node {n.node})',
                        n.load1_per_cpu.or_none(),
                        f"warn at {t.node_load1_per_cpu:g} (node mixin NodeSystemSaturation)",
                    ),
                ),
                recommendation="Runnable or I/O-blocked tasks queue for the CPUs. " + _ADVICE["cpu"],
                magnitude=n.load1_per_cpu.number / t.node_load1_per_cpu,
                labels=(("node", n.node), ("resource", "load")),
            )
        )
    return out


def _not_ready(snap: ClusterSnapshot) -> list[Finding]:
    if snap.kube_summary is None:
        return []
    return [
        Finding(
            id=f"node.not_ready:{node}",
            component=Component.NODE,
            subject=node,
            severity=Severity.WARNING,
            title=f"Node {node} is not Ready",
            evidence=(
                Evidence(f"/api/v1/nodes/{node}", "NotReady", "Ready condition (kubernetes-mixin KubeNodeNotReady)"),
            ),
            recommendation=(
                "Its pods get evicted after the toleration timeout. Check `kubectl describe node` "
                "conditions (MemoryPressure, DiskPressure, PIDPressure), the kubelet and container "
                "runtime logs on the host, and its network to the API server."
            ),
            labels=(("node", node),),
        )
        for node in snap.kube_summary.not_ready_nodes
    ]


def node_findings(snap: ClusterSnapshot, t: Thresholds) -> list[Finding]:
    out = _not_ready(snap)
    if snap.nodes is not None:
        for n in snap.nodes.worst:
            out.extend(_saturation(snap, snap.nodes, n, t))
    return out
