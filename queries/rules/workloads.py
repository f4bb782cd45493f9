"""Workload rules: CrashLoopBackOff (OOMKilled or not), image pulls, repeated restarts."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import PodRecord
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes
from k8stop.queries.model.values import Value
from k8stop.queries.rules.evidence import EvidenceQueries

IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})
# Normal, transient waiting states: not findings.
BENIGN_WAITING = frozenset({"ContainerCreating", "PodInitializing"})
MAX_PER_KIND = 10  # beyond this the report would drown; the rest are counted in one finding


@dataclass(frozen=True, slots=True)
class _Container:
    namespace: str
    pod: str
    container: str
    restarts: float
    restarts_window: str  # "1h" from the restarts feed, or "total" (kube API lifetime count)
    from_ksm: bool  # evidence can name the kube-state-metrics series
    waiting_reason: str | None
    last_terminated_reason: str | None
    exit_code: int | None
    node: str | None
    memory_limit: int | None  # pod-level sum, bytes


def _pod_index(snap: ClusterSnapshot) -> dict[tuple[str, str], PodRecord]:
    if snap.kube_summary is None:
        return {}
    return {(p.namespace, p.name): p for p in snap.kube_summary.top_restarts}


def _containers(snap: ClusterSnapshot) -> list[_Container]:
    """The restarts feed (restarts per hour) when present, else the kube API's pod statuses."""
    pods = _pod_index(snap)
    out = []
    if snap.restarts is not None:
        ksm = snap.restarts.source == "kube-state-metrics"
        for c in snap.restarts.top:
            pod = pods.get((c.namespace, c.pod))
            record = next((r for r in pod.containers if r.name == c.container), None) if pod else None
            out.append(
                _Container(
                    c.namespace,
                    c.pod,
                    c.container,
                    c.restarts_1h,
                    "1h",
                    ksm,
                    c.waiting_reason,
                    c.last_terminated_reason,
                    record.last_exit_code if record else None,
                    pod.node if pod else None,
                    (pod.memory_limit_bytes or None) if pod else None,
                )
            )
        return out
    for pod in pods.values():
        for r in pod.containers:
            out.append(
                _Container(
                    pod.namespace,
                    pod.name,
                    r.name,
                    float(r.restarts),
                    "total",
                    False,
                    r.waiting_reason,
                    r.last_terminated_reason,
                    r.last_exit_code,
                    pod.node,
                    pod.memory_limit_bytes or None,
                )
            )
    return out


def _evidence(c: _Container, q: EvidenceQueries) -> tuple[Evidence, ...]:
    ksm = c.from_ksm
    sel = {"namespace": c.namespace, "pod": c.pod, "container": c.container}
    path = f"/api/v1/namespaces/{c.namespace}/pods/{c.pod}"
    items = [
        Evidence(
            q.promql("restarts.increase_1h", sel) if ksm else path,
            c.restarts,
            "restarts in the last hour" if c.restarts_window == "1h" else "restarts since the pod started",
        ),
    ]
    if c.waiting_reason:
        items.append(
            Evidence(
                q.promql("restarts.waiting_reason", sel) if ksm else path,
                c.waiting_reason,
                "waiting reason",
            )
        )
    if c.last_terminated_reason:
        items.append(
            Evidence(
                q.promql("restarts.last_terminated_reason", sel) if ksm else path,
                c.last_terminated_reason,
                "last termination",
            )
        )
    if c.exit_code is not None:
        items.append(Evidence(path, float(c.exit_code), "last exit code"))
    if c.memory_limit is not None:
        items.append(Evidence(path, float(c.memory_limit), f"pod memory limit {fmt_bytes(Value.of(c.memory_limit))}"))
    if c.node:
        items.append(Evidence(path, c.node, "node"))
    return tuple(items)


def _classify(c: _Container, t: Thresholds) -> tuple[str, Level, str, str] | None:
    """(kind, severity, title, recommendation) or None when the container is fine."""
    who = f"{c.namespace}/{c.pod} container {c.container}"
    oom = c.last_terminated_reason == "OOMKilled"
    if c.waiting_reason == "CrashLoopBackOff":
        if oom:
            limit = f" (limit {fmt_bytes(Value.of(c.memory_limit))})" if c.memory_limit else ""
            return (
                "crashloop_oom",
                Level.WARNING,
                f"{who} crash-looping, OOMKilled{limit}",
                "The container exceeds its memory limit. Measure real usage (`kubectl top pod "
                "--containers`) and set the memory limit above peak with requests at typical use "
                "(seed §5.1); if usage grows without bound fix the leak, and for JVM/Go runtimes cap "
                "the heap below the limit.",
            )
        return (
            "crashloop",
            Level.WARNING,
            f"{who} in CrashLoopBackOff",
            f"The process exits{' with code ' + str(c.exit_code) if c.exit_code is not None else ''}: read "
            f"`kubectl logs -n {c.namespace} {c.pod} -c {c.container} --previous` and `kubectl describe "
            "pod` (events, probes). A liveness probe that fires before the app is up restarts it "
            "forever: use a startupProbe (seed §5.1).",
        )
    if c.waiting_reason in IMAGE_PULL_REASONS:
        return (
            "image_pull",
            Level.WARNING,
            f"{who} cannot pull its image ({c.waiting_reason})",
            "Check the image name and tag, the imagePullSecrets and that the registry is reachable "
            "from the node; a registry mirror and pre-pulled images avoid this at scale (seed §3.2).",
        )
    if c.waiting_reason and c.waiting_reason not in BENIGN_WAITING:
        return (
            "waiting",
            Level.INFO,
            f"{who} waiting: {c.waiting_reason}",
            f"`kubectl describe pod -n {c.namespace} {c.pod}` shows why (kubernetes-mixin KubeContainerWaiting "
            "warns after 1 h).",
        )
    if c.restarts_window == "1h" and c.restarts >= t.restarts_1h:
        if oom:
            return (
                "restarts_oom",
                Level.WARNING,
                f"{who} OOMKilled {c.restarts:.0f} times in the last hour",
                "The container exceeds its memory limit: raise it above peak usage or fix the leak (seed §5.1).",
            )
        return (
            "restarts",
            Level.INFO,
            f"{who} restarted {c.restarts:.0f} times in the last hour",
            f"`kubectl logs -n {c.namespace} {c.pod} -c {c.container} --previous` shows the last exit.",
        )
    return None


def workload_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    by_kind: dict[str, list[Finding]] = {}
    for c in sorted(_containers(snap), key=lambda c: c.restarts, reverse=True):
        verdict = _classify(c, t)
        if verdict is None:
            continue
        kind, severity, title, advice = verdict
        by_kind.setdefault(kind, []).append(
            Finding(
                id=f"workload.{kind}:{c.namespace}/{c.pod}/{c.container}",
                component=Component.WORKLOAD,
                subject=f"{c.namespace}/{c.pod}",
                severity=severity,
                title=title,
                evidence=_evidence(c, q),
                recommendation=advice,
                magnitude=1.0 + c.restarts,
                labels=(("node", c.node),) if c.node else (),
            )
        )
    out = []
    for kind, findings in by_kind.items():
        out.extend(findings[:MAX_PER_KIND])
        rest = findings[MAX_PER_KIND:]
        if rest:
            out.append(
                Finding(
                    id=f"workload.{kind}:more",
                    component=Component.WORKLOAD,
                    subject=f"{len(rest)} more containers",
                    severity=Level.INFO,
                    title=f"{len(rest)} more containers with the same problem ({kind})",
                    evidence=tuple(Evidence(e.query, e.value, f.subject) for f in rest[:20] for e in f.evidence[:1]),
                    recommendation=rest[0].recommendation,
                )
            )
    return out
