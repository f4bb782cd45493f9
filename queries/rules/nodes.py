"""Node rules: CPU, memory and disk saturation (seed §8.1 70/85/95 %), load, readiness."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import NodeSaturation, NodesFacts
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_ratio
from k8stop.queries.rules import bounds, sources
from k8stop.queries.rules.evidence import EvidenceQueries, node_matcher
from k8stop.queries.rules.grading import graded_finding, present

_ADVICE = {
    "cpu": (
        "Find the pods burning it (`kubectl top pods -A --sort-by=cpu`, filter to this node). Give "
        f"every container CPU requests and limits so the scheduler spreads load ({sources.RESOURCES}), "
        f"scale out with an HPA around 70 % ({sources.HPA}), spread replicas with "
        f"topologySpreadConstraints ({sources.SPREAD}), reserve CPU for the system (seed §3.1: "
        f"kubeReserved/systemReserved cpu 500m; {sources.RESERVED}) and add nodes if all of them are busy."
    ),
    "memory": (
        "Memory pressure ends in evictions and kernel OOM kills. Set memory requests at real usage "
        f"and limits on every container ({sources.RESOURCES}), reserve memory for kubelet and system "
        f"(seed §3.1: kubeReserved/systemReserved memory 1Gi; {sources.RESERVED}) and keep evictionHard "
        f"memory.available 500Mi (seed §3.1; {sources.EVICTION}) so the kubelet evicts before the kernel kills."
    ),
    "disk": (
        "A full root filesystem triggers image GC and evictions: keep evictionHard nodefs.available "
        f"10 % and imagefs.available 15 % ({sources.EVICTION}), cap logs with containerLogMaxSize 100Mi and "
        f"containerLogMaxFiles 5 (seed §3.1; {sources.KUBELET_CONFIG}), prune unused images, move "
        "emptyDir-heavy pods."
    ),
}


def same_node(a: str, b: str) -> bool:
    """Node names from node-exporter may be "host:9100" or an IP; kube uses the node name."""
    if a == b:
        return True
    return a.rsplit(":", 1)[0] == b or b.rsplit(":", 1)[0] == a


def _query(q: EvidenceQueries, facts: NodesFacts, entry_id: str, row: NodeSaturation) -> str:
    if facts.source == "metrics-server":
        return f"/apis/metrics.k8s.io/v1beta1/nodes/{row.node}"
    # Node series are queried by scrape target (queries/prom/node_names.py), whatever name
    # the node was given: the evidence narrows to the target the figures came from.
    return q.promql(entry_id, extra=node_matcher(row.instance or row.node))


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


def _saturation(
    snap: ClusterSnapshot, facts: NodesFacts, n: NodeSaturation, t: Thresholds, q: EvidenceQueries
) -> list[Finding]:
    out = []
    for resource, value in (("cpu", n.cpu), ("memory", n.memory), ("disk", n.disk)):
        name = "root filesystem" if resource == "disk" else resource.upper() if resource == "cpu" else resource
        out.append(
            graded_finding(
                value,
                bounds.node_saturation(t),
                fmt_ratio,
                rule=f"node.{resource}_saturated",
                component=Component.NODE,
                subject=n.node,
                title=f"Node {n.node} {name} at {fmt_ratio(value)}",
                query=_query(q, facts, f"node.{resource}_utilisation", n),
                more_evidence=_pods_on(snap, n.node),
                recommendation=_ADVICE[resource],
                labels=(("node", n.node), ("resource", resource)),
            )
        )
    out.append(
        graded_finding(
            n.load1_per_cpu,
            bounds.node_load(t),
            lambda v: f"{v.number:.1f}",
            rule="node.load_saturated",
            component=Component.NODE,
            subject=n.node,
            title=f"Node {n.node} load1 is {n.load1_per_cpu.number:.1f} per CPU",
            query=_query(q, facts, "node.load1_per_cpu", n),
            recommendation="Runnable or I/O-blocked tasks queue for the CPUs. " + _ADVICE["cpu"],
            labels=(("node", n.node), ("resource", "load")),
        )
    )
    return present(out)


def _not_ready(snap: ClusterSnapshot) -> list[Finding]:
    if snap.kube_summary is None:
        return []
    return [
        Finding(
            id=f"node.not_ready:{node}",
            component=Component.NODE,
            subject=node,
            severity=Level.WARNING,
            title=f"Node {node} is not Ready",
            evidence=(
                Evidence(f"/api/v1/nodes/{node}", "NotReady", "Ready condition (kubernetes-mixin KubeNodeNotReady)"),
            ),
            recommendation=(
                "Its pods get evicted after the toleration timeout. Check `kubectl describe node` "
                "conditions (MemoryPressure, DiskPressure, PIDPressure), the kubelet and container "
                f"runtime logs on the host, and its network to the API server ({sources.NODE_STATUS})."
            ),
            labels=(("node", node),),
        )
        for node in snap.kube_summary.not_ready_nodes
    ]


def node_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    out = _not_ready(snap)
    if snap.nodes is not None:
        for n in snap.nodes.worst:
            out.extend(_saturation(snap, snap.nodes, n, t, q))
    return out
