"""HorizontalPodAutoscalers at their maximum (kubernetes-mixin KubeHpaMaxedOut) or not at the
size their metrics ask for (KubeHpaReplicasMismatch, once held 15 minutes)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import HpaStatus
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
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


def sel_of(h: HpaStatus, metric: str) -> dict[str, str]:
    label = "hpa" if metric == "kube_hpa" else "horizontalpodautoscaler"  # KSM 1.x / 2.x
    return {"namespace": h.namespace, label: h.name}


def _evidence(h: HpaStatus, q: EvidenceQueries, metric: str) -> tuple[Evidence, ...]:
    sel = sel_of(h, metric)
    return tuple(
        Evidence(q.promql(entry, sel, metric=metric), value, what)
        for entry, value, what in (
            ("hpa.current_replicas", h.current, "current replicas"),
            ("hpa.desired_replicas", h.desired, "desired replicas"),
            ("hpa.max_replicas", h.max_replicas, "maxReplicas"),
            ("hpa.min_replicas", h.min_replicas, "minReplicas"),
        )
    )


def _finding(h: HpaStatus, t: Thresholds, q: EvidenceQueries, metric: str) -> Finding | None:
    subject = f"{h.namespace}/{h.name}"
    evidence = _evidence(h, q, metric)
    if h.current >= h.max_replicas and h.max_replicas > h.min_replicas:
        rule, severity = _MAXED, Level.WARNING
        title = (
            f"HPA {subject} at its maximum of {h.max_replicas:.0f} replicas (desired {h.desired:.0f}; "
            "kubernetes-mixin KubeHpaMaxedOut)"
        )
        magnitude = max(1.0, h.desired / h.max_replicas) if h.max_replicas > 0 else 1.0
    elif h.current != h.desired:
        held = fmt_seconds(Value.of(t.hpa_mismatch_for))
        # A passing mismatch is an autoscaler at work; the mixin warns once it has held 15 minutes.
        rule, magnitude = _MISMATCH, 1.0
        severity = Level.WARNING if h.mismatch_held else Level.INFO
        title = f"HPA {subject} has {h.current:.0f} replicas, wants {h.desired:.0f} " + (
            f"for {held} and more (kubernetes-mixin KubeHpaReplicasMismatch)"
            if h.mismatch_held
            else f"(scaling: kubernetes-mixin KubeHpaReplicasMismatch once held {held})"
        )
        held_query = q.promql(
            "hpa.mismatch_held", sel_of(h, metric), metric=metric, **{"for": f"{t.hpa_mismatch_for:.0f}s"}
        )
        evidence += (
            Evidence(
                held_query, 1.0 if h.mismatch_held else 0.0, f"1: desired != current at every minute of the last {held}"
            ),
        )
    else:
        return None
    return rule.flag(subject, severity, title, evidence, magnitude=magnitude, labels=(("hpa", subject),))


def hpa_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    found = (_finding(h, t, q, snap.workloads.hpa_metric) for h in snap.workloads.hpas)
    return present(found)
