"""Workload rules: CrashLoopBackOff (OOMKilled or not), image pulls, repeated restarts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import PodRecord
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes
from k8stop.queries.model.values import Value
from k8stop.queries.rules import sources
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
    owner: tuple[str, str]  # (kind, name) of the controller owning the pod; ("Pod", pod) for none


# A ReplicaSet made by a Deployment is "<deployment>-<pod-template-hash>"; its pods add
# "-<5 characters>". A StatefulSet's pods are "<name>-<ordinal>".
_TEMPLATE_HASH = re.compile(r"^(?P<owner>.+)-[a-z0-9]{6,10}$")
_DEPLOYMENT_POD = re.compile(r"^(?P<owner>.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_STATEFULSET_POD = re.compile(r"^(?P<owner>.+)-[0-9]+$")
_CONTROLLERS = frozenset({"StatefulSet", "DaemonSet", "Job", "ReplicaSet", "ReplicationController", "CronJob"})


def owner_of(pod: str, record: PodRecord | None) -> tuple[str, str]:
    """The workload a pod belongs to: from the kube API's ownerReference when known, else
    from the naming the controllers use; the pod itself when it has no controller."""
    if record is not None and record.owner_kind is not None:
        return controller_owner(pod, record.owner_kind, record.owner_name or "")
    if record is None:
        if m := _DEPLOYMENT_POD.match(pod):
            return ("Deployment", m["owner"])
        if m := _STATEFULSET_POD.match(pod):
            return ("StatefulSet", m["owner"])
    return ("Pod", pod)


def controller_owner(pod: str, kind: str, name: str) -> tuple[str, str]:
    """The workload behind a pod's controller: a Deployment for its ReplicaSet, else the
    controller itself; the pod when the controller is none k8stop groups by."""
    if kind == "ReplicaSet" and (m := _TEMPLATE_HASH.match(name)):
        return ("Deployment", m["owner"])
    return (kind, name) if kind in _CONTROLLERS and name else ("Pod", pod)


def placed_owner(pod: str, kind: str, name: str) -> tuple[str, str]:
    """The owner from kube-state-metrics' created_by labels when known, else from the pod's name."""
    return controller_owner(pod, kind, name) if kind else owner_of(pod, None)


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
                    pod.node if pod else c.node,
                    (pod.memory_limit_bytes or None) if pod else None,
                    owner_of(c.pod, pod),
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
                    owner_of(pod.name, pod),
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
            # increase() extrapolates (10.02 restarts); a restart is a whole event.
            float(round(c.restarts)),
            f"restarts of {c.pod} container {c.container} "
            + ("in the last hour" if c.restarts_window == "1h" else "since the pod started"),
        ),
    ]
    items += [
        Evidence(q.promql(entry, sel) if ksm else path, reason, what)
        for entry, reason, what in (
            ("restarts.waiting_reason", c.waiting_reason, "waiting reason"),
            ("restarts.last_terminated_reason", c.last_terminated_reason, "last termination"),
        )
        if reason
    ]
    if c.exit_code is not None:
        items.append(Evidence(path, float(c.exit_code), "last exit code"))
    if c.memory_limit is not None:
        items.append(Evidence(path, float(c.memory_limit), f"pod memory limit {fmt_bytes(Value.of(c.memory_limit))}"))
    if c.node:
        items.append(Evidence(path, c.node, "node"))
    return tuple(items)


def _classify(c: _Container, t: Thresholds) -> tuple[str, Level, str, str] | None:
    """(kind, severity, what, recommendation) or None when the container is fine; `what`
    follows the name of the pod or workload, "{restarts}" standing for the restart count."""
    oom = c.last_terminated_reason == "OOMKilled"
    if c.waiting_reason == "CrashLoopBackOff":
        if oom:
            limit = f" (limit {fmt_bytes(Value.of(c.memory_limit))})" if c.memory_limit else ""
            return (
                "crashloop_oom",
                Level.WARNING,
                f"crash-looping, OOMKilled{limit}",
                "The container exceeds its memory limit. Measure real usage (`kubectl top pod "
                "--containers`) and set the memory limit above peak with requests at typical use "
                f"({sources.RESOURCES}); if usage grows without bound fix the leak, and for JVM/Go runtimes cap "
                "the heap below the limit.",
            )
        return (
            "crashloop",
            Level.WARNING,
            "in CrashLoopBackOff",
            f"The process exits{' with code ' + str(c.exit_code) if c.exit_code is not None else ''}: read "
            f"`kubectl logs -n {c.namespace} {c.pod} -c {c.container} --previous` and `kubectl describe "
            "pod` (events, probes). A liveness probe that fires before the app is up restarts it "
            f"forever: use a startupProbe ({sources.PROBES}; {sources.DEBUG_POD}).",
        )
    if c.waiting_reason in IMAGE_PULL_REASONS:
        return (
            "image_pull",
            Level.WARNING,
            f"cannot pull the image ({c.waiting_reason})",
            "Check the image name and tag, the imagePullSecrets and that the registry is reachable "
            f"from the node; a registry mirror and pre-pulled images avoid this at scale ({sources.IMAGES}).",
        )
    if c.waiting_reason and c.waiting_reason not in BENIGN_WAITING:
        return (
            "waiting",
            Level.INFO,
            f"waiting: {c.waiting_reason}",
            f"`kubectl describe pod -n {c.namespace} {c.pod}` shows why (kubernetes-mixin KubeContainerWaiting "
            "warns after 1 h).",
        )
    if c.restarts_window == "1h" and c.restarts >= t.restarts_1h:
        if oom:
            return (
                "restarts_oom",
                Level.WARNING,
                "OOMKilled {restarts} times in the last hour",
                f"The container exceeds its memory limit: raise it above peak usage or fix the leak ({sources.RESOURCES}).",
            )
        return (
            "restarts",
            Level.INFO,
            "restarted {restarts} times in the last hour",
            f"`kubectl logs -n {c.namespace} {c.pod} -c {c.container} --previous` shows the last exit.",
        )
    return None


def _title(group: list[_Container], what: str) -> str:
    first = group[0]
    restarts = f"{sum(round(c.restarts) for c in group):,}"
    kind, name = first.owner
    if kind == "Pod":
        containers = ", ".join(dict.fromkeys(c.container for c in group))
        noun = "container" if len(group) == 1 else "containers"
        return f"{first.namespace}/{first.pod} {noun} {containers} " + what.format(restarts=restarts)
    pods = len({c.pod for c in group})
    noun = "replica" if pods == 1 else "replicas"
    return f"{pods} {noun} of {kind} {first.namespace}/{name} " + what.format(restarts=restarts)


def _finding(kind: str, group: list[_Container], verdict: tuple[str, Level, str, str], q: EvidenceQueries) -> Finding:
    """One finding per workload: every affected pod's evidence, worst first."""
    _, severity, what, advice = verdict
    first = group[0]
    owner_kind, owner = first.owner
    key = f"{first.namespace}/{first.pod}" if owner_kind == "Pod" else f"{first.namespace}/{owner}"
    nodes = tuple(dict.fromkeys(c.node for c in group if c.node))
    return Finding(
        id=f"workload.{kind}:{key}",
        component=Component.WORKLOAD,
        subject=key,
        severity=severity,
        title=_title(group, what),
        evidence=tuple(e for c in group for e in _evidence(c, q)),
        recommendation=advice,
        magnitude=1.0 + sum(c.restarts for c in group),
        labels=(("owner_kind", owner_kind), *(("pod", f"{c.namespace}/{c.pod}") for c in group))
        + tuple(("node", n) for n in nodes),
    )


def workload_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    groups: dict[tuple[str, str, str, str], tuple[tuple[str, Level, str, str], list[_Container]]] = {}
    for c in sorted(_containers(snap), key=lambda c: (-c.restarts, c.namespace, c.pod, c.container)):
        verdict = _classify(c, t)
        if verdict is None:
            continue
        key = (verdict[0], c.namespace, *c.owner)
        groups.setdefault(key, (verdict, []))[1].append(c)
    by_kind: dict[str, list[Finding]] = {}
    for (kind, *_), (verdict, group) in groups.items():
        by_kind.setdefault(kind, []).append(_finding(kind, group, verdict, q))
    out = []
    for kind, findings in by_kind.items():
        out.extend(findings[:MAX_PER_KIND])
        rest = findings[MAX_PER_KIND:]
        if rest:
            out.append(
                Finding(
                    id=f"workload.{kind}:more",
                    component=Component.WORKLOAD,
                    subject=f"{len(rest)} more workloads",
                    severity=Level.INFO,
                    title=f"{len(rest)} more workloads with the same problem ({kind})",
                    evidence=tuple(Evidence(e.query, e.value, f.subject) for f in rest[:20] for e in f.evidence[:1]),
                    recommendation=rest[0].recommendation,
                )
            )
    return out
