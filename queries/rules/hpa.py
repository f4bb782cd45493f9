"""HorizontalPodAutoscalers at their maximum (kubernetes-mixin KubeHpaMaxedOut) or not at the
size their metrics ask for (KubeHpaReplicasMismatch)."""

from __future__ import annotations

from k8stop.queries.model.facts import HpaStatus
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Rule, present

_MAXED = Rule(
    "workload.hpa_maxed",
    Component.WORKLOAD,
    "The autoscaler wants more replicas than maxReplicas allows, so the load per pod keeps rising "
    "(ScalingLimited). Raise maxReplicas if the cluster has room (check requests against allocatable), "
    "or make each replica cheaper; the seed's HPA targets ~70 % utilisation (seed §5.2).",
)
_MISMATCH = Rule(
    "workload.hpa_mismatch",
    Component.WORKLOAD,
    "The autoscaler asks for a size the workload does not reach: new replicas may be Pending "
    "(unschedulable: see the scheduler's reasons), failing to start, or blocked by a quota or a "
    "PodDisruptionBudget; `kubectl describe hpa` shows its conditions.",
)


def _evidence(h: HpaStatus, q: EvidenceQueries, metric: str) -> tuple[Evidence, ...]:
    label = "hpa" if metric == "kube_hpa" else "horizontalpodautoscaler"  # KSM 1.x / 2.x
    sel = {"namespace": h.namespace, label: h.name}
    return tuple(
        Evidence(q.promql(entry, sel, metric=metric), value, what)
        for entry, value, what in (
            ("hpa.current_replicas", h.current, "current replicas"),
            ("hpa.desired_replicas", h.desired, "desired replicas"),
            ("hpa.max_replicas", h.max_replicas, "maxReplicas"),
            ("hpa.min_replicas", h.min_replicas, "minReplicas"),
        )
    )


def _finding(h: HpaStatus, q: EvidenceQueries, metric: str) -> Finding | None:
    subject = f"{h.namespace}/{h.name}"
    if h.current >= h.max_replicas and h.max_replicas > h.min_replicas:
        rule, severity = _MAXED, Level.WARNING
        title = (
            f"HPA {subject} at its maximum of {h.max_replicas:.0f} replicas (desired {h.desired:.0f}; "
            "kubernetes-mixin KubeHpaMaxedOut)"
        )
        magnitude = max(1.0, h.desired / h.max_replicas) if h.max_replicas > 0 else 1.0
    elif h.current != h.desired:
        # An instant mismatch is normal while scaling; the mixin warns after 15 minutes.
        rule, severity, magnitude = _MISMATCH, Level.INFO, 1.0
        title = (
            f"HPA {subject} has {h.current:.0f} replicas, wants {h.desired:.0f} (kubernetes-mixin "
            "KubeHpaReplicasMismatch after 15m)"
        )
    else:
        return None
    return rule.flag(subject, severity, title, _evidence(h, q, metric), magnitude=magnitude, labels=(("hpa", subject),))


def hpa_findings(snap: ClusterSnapshot, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    found = (_finding(h, q, snap.workloads.hpa_metric) for h in snap.workloads.hpas)
    return present(found)
