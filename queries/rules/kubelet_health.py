"""Kubelet health per node: slow PLEG relists (kubernetes-mixin KubeletPlegDurationHigh),
evictions (KubeNodeEviction) and pressure conditions (KubeNodePressure)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import KubeletHealth
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.rules import bounds
from k8stop.queries.rules.evidence import EvidenceQueries, matchers
from k8stop.queries.rules.grading import Rule, present

_PLEG = Rule(
    "kubelet.pleg_slow",
    Component.KUBELET,
    "The kubelet cannot list the node's containers in time, so pod status updates, probes and "
    "starts lag, and past 3 minutes the node goes NotReady (PLEG is not healthy). Usually the "
    "container runtime is overloaded or stuck: check `crictl ps` latency and the runtime's logs, "
    "too many containers per node (maxPods, dead containers not garbage-collected), or a saturated "
    "disk / CPU on the node.",
)
_EVICTION_ADVICE = (
    "The kubelet evicts pods when a resource crosses evictionHard / evictionSoft: memory.available, "
    "nodefs / imagefs.available or pid.available. Set requests at real use so the scheduler stops "
    "overpacking the node, reserve resources for the system (seed §3.1 kubeReserved / systemReserved), "
    "and fix the pods consuming the signal (`kubectl describe node` lists the evicted pods' events)."
)
_EVICTIONS = Rule("kubelet.evictions", Component.KUBELET, _EVICTION_ADVICE)
_PRESSURE = Rule("node.pressure", Component.NODE, _EVICTION_ADVICE)


def _pleg(k: KubeletHealth, t: Thresholds, q: EvidenceQueries) -> Finding | None:
    sel = matchers({"instance": k.instance}) if k.instance else ""
    return _PLEG.graded(
        k.pleg_relist_p99,
        bounds.kubelet_pleg(t),
        fmt_seconds,
        subject=k.node,
        title=f"Kubelet on {k.node}: PLEG relist p99 {fmt_seconds(k.pleg_relist_p99)}",
        query=q.promql("kubelet.pleg_relist_p99", extra=sel),
        evidence_detail="p99 over 5m",
        labels=(("node", k.node),),
    )


def _evictions(k: KubeletHealth, q: EvidenceQueries) -> Finding | None:
    if not k.evictions_1h:
        return None
    total = sum(n for _, n in k.evictions_1h)
    signals = ", ".join(f"{signal} {n:.0f}" for signal, n in k.evictions_1h)
    sel = matchers({"instance": k.instance}) if k.instance else ""
    return _EVICTIONS.flag(
        k.node,
        Level.WARNING,
        f"Kubelet on {k.node} evicted {total:.0f} pods in the last hour ({signals})",
        (
            Evidence(
                q.promql(
                    "kubelet.evictions_1h", extra=", ".join(p for p in (sel, matchers({"eviction_signal": s})) if p)
                ),
                n,
                f"pods evicted on {s} (kubernetes-mixin KubeNodeEviction: any eviction)",
            )
            for s, n in k.evictions_1h
        ),
        magnitude=1.0 + total,
        labels=(("node", k.node), *(("eviction_signal", s) for s, _ in k.evictions_1h)),
    )


def _pressure(k: KubeletHealth, q: EvidenceQueries) -> Finding | None:
    if not k.pressure:
        return None
    return _PRESSURE.flag(
        k.node,
        Level.WARNING,
        f"Node {k.node} reports {', '.join(k.pressure)}",
        (
            Evidence(
                q.promql("node.pressure_conditions", {"node": k.node, "condition": c}),
                c,
                "condition true (kubernetes-mixin KubeNodePressure)",
            )
            for c in k.pressure
        ),
        magnitude=float(len(k.pressure)),
        labels=(("node", k.node), *(("condition", c) for c in k.pressure)),
    )


def kubelet_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    found = [f for k in snap.workloads.kubelets for f in (_pleg(k, t, q), _evictions(k, q), _pressure(k, q))]
    return present(found)
