"""Scheduler, controller-manager and kubelet rules (seed §1.1, §2.3, §2.4, §3.1, §3.2)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ControlPlaneFacts, SchedulerFacts
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_count, fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds, sources
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Rule, present
from k8stop.queries.rules.scheduling import SchedulingReason, failed_scheduling_reasons


def _failed_scheduling(snap: ClusterSnapshot) -> list[Evidence]:
    if snap.kube_summary is None:
        return []
    return [
        Evidence(
            f"/api/v1/namespaces/{e.namespace}/events?fieldSelector=reason=FailedScheduling",
            e.message,
            f"{e.kind} {e.namespace}/{e.name} x{e.count}",
        )
        for e in snap.kube_summary.recent_warnings
        if e.reason == "FailedScheduling"
    ][:3]


def _reasons(snap: ClusterSnapshot) -> tuple[SchedulingReason, ...]:
    return failed_scheduling_reasons(snap.kube_summary.recent_warnings) if snap.kube_summary is not None else ()


def _reason_evidence(reasons: tuple[SchedulingReason, ...]) -> list[Evidence]:
    return [
        Evidence(
            "/api/v1/events?fieldSelector=reason=FailedScheduling",
            float(r.pods),
            f"pods failing on: {r.reason}" + (f" (up to {r.nodes:,} nodes)" if r.nodes else ""),
        )
        for r in reasons[:5]
    ]


def _top_reason(reasons: tuple[SchedulingReason, ...]) -> str:
    if not reasons:
        return ""
    top = reasons[0]
    nodes = f" on {top.nodes:,} nodes" if top.nodes else ""
    return f"; top reason: {top.reason}{nodes} ({top.pods} {'pod' if top.pods == 1 else 'pods'})"


_UNSCHEDULABLE = Rule(
    "scheduler.unschedulable",
    Component.SCHEDULER,
    "No node fits these pods. The FailedScheduling event says why: 'Insufficient cpu/memory' "
    f"means capacity: add nodes or right-size requests ({sources.RESOURCES}); taints, node "
    f"affinity or topology spread mean constraints to relax ({sources.TAINTS}, {sources.SCHEDULING}). "
    "Scheduler tuning (percentage-of-nodes-to-score) speeds scheduling but cannot place them.",
)
_SCHEDULER_ERRORS = Rule(
    "scheduler.errors",
    Component.SCHEDULER,
    "Errors (not unschedulable) come from the scheduler itself or failed binds: read the "
    "kube-scheduler logs; binds fail when the API server or etcd is slow "
    f"({sources.SCHEDULER}).",
)
_WORKQUEUE_ADVICE = (
    "Raise the controller's concurrency (--concurrent-deployment-syncs, "
    "--concurrent-replicaset-syncs, --concurrent-gc-syncs ...) and its API budget (--kube-api-qps / "
    f"--kube-api-burst; {sources.CONTROLLER_FLAGS}); a queue that grows while the API server is slow "
    "is a symptom of that."
)
_WORKQUEUE_DEPTH = Rule("controller.workqueue_depth", Component.CONTROLLER_MANAGER, _WORKQUEUE_ADVICE)
_RECONCILE_SLOW = Rule("controller.reconcile_slow", Component.CONTROLLER_MANAGER, _WORKQUEUE_ADVICE)
_POD_STARTUP = Rule(
    "kubelet.pod_startup_slow",
    Component.KUBELET,
    f"Pull images in parallel (serializeImagePulls: false, {sources.KUBELET_CONFIG}), use a nearby "
    f"registry mirror and pre-pull common images ({sources.IMAGES}), raise containerd "
    "max_concurrent_downloads (seed §8.3), and check the runtime's create_container latency and "
    f"CNI setup time; the pod startup SLO: {sources.SLOS}.",
)
_RUNTIME_ERRORS = Rule(
    "kubelet.runtime_errors",
    Component.KUBELET,
    "Read the container runtime (containerd) and kubelet logs on the affected nodes; check the "
    f"runtime configuration ({sources.CONTAINER_RUNTIMES}: SystemdCgroup matching the kubelet's cgroup "
    "driver, snapshotter overlayfs) and disk space under the image filesystem.",
)


def _scheduler(snap: ClusterSnapshot, s: SchedulerFacts, q: EvidenceQueries) -> list[Finding]:
    pending = dict(s.pending_by_queue)
    attempts = dict(s.attempts_by_result)
    out = []
    unschedulable = pending.get("unschedulable", 0.0)
    failing = attempts.get("unschedulable", 0.0)
    reasons = _reasons(snap)
    if unschedulable > 0 or failing > 0:
        out.append(
            _UNSCHEDULABLE.flag(
                "pending pods",
                Level.WARNING,
                f"{fmt_count(unschedulable)} pods unschedulable ({fmt_rate(failing)} failed attempts)"
                + _top_reason(reasons),
                (
                    *(
                        Evidence(q.promql("scheduler.pending", {"queue": queue}), n, f"pending in {queue}")
                        for queue, n in s.pending_by_queue
                    ),
                    *(
                        Evidence(q.promql("scheduler.attempts_rate", {"result": r}), n, f"{r} attempts/s")
                        for r, n in s.attempts_by_result
                    ),
                    *_reason_evidence(reasons),
                    *_failed_scheduling(snap),
                ),
                key="cluster",
                magnitude=1.0 + unschedulable,
            )
        )
    errors = attempts.get("error", 0.0)
    if errors > 0:
        out.append(
            _SCHEDULER_ERRORS.flag(
                "kube-scheduler",
                Level.WARNING,
                f"Scheduler attempts failing with errors at {fmt_rate(errors)}",
                (Evidence(q.promql("scheduler.attempts_rate", {"result": "error"}), errors),),
                key="cluster",
                magnitude=1.0 + errors,
            )
        )
    return out


def _workqueues(cp: ControlPlaneFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    out = []
    for wq in cp.workqueues:
        queue = {"name": wq.name}
        out.append(
            _WORKQUEUE_DEPTH.graded(
                Value.of(wq.depth),
                bounds.workqueue_depth(t),
                lambda v: fmt_count(v.number),
                subject=wq.name,
                title=f"Workqueue {wq.name} holds {fmt_count(wq.depth)} items (target < {fmt_count(t.workqueue_depth)})",
                query=q.promql("workqueue.depth", queue),
                more_evidence=(Evidence(q.promql("workqueue.adds_rate", queue), wq.adds_rate, "adds/s"),),
            )
        )
        out.append(
            _RECONCILE_SLOW.graded(
                wq.work_p99,
                bounds.workqueue_work(t),
                fmt_seconds,
                subject=wq.name,
                title=f"Controller {wq.name} reconcile p99 {fmt_seconds(wq.work_p99)} "
                f"(target < {fmt_seconds(Value.of(t.workqueue_work_p99))})",
                query=q.promql("workqueue.work_p99", queue),
            )
        )
    return present(out)


def _kubelet(cp: ControlPlaneFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    startup = _POD_STARTUP.graded(
        cp.pod_start_p99,
        bounds.pod_startup(t),
        fmt_seconds,
        subject="pod startup",
        title=f"Pod startup p99 {fmt_seconds(cp.pod_start_p99)} (SLO 5 s, seed < 30 s)",
        query=q.promql("kubelet.pod_start_p99", metric=cp.pod_start_metric),
        key="cluster",
    )
    out: list[Finding | None] = [startup]
    for op in cp.runtime_ops:
        if op.rate <= 0:
            continue
        kind = {"operation_type": op.operation_type}
        out.append(
            _RUNTIME_ERRORS.graded(
                Value.of(op.error_rate / op.rate),
                bounds.runtime_errors(t),
                fmt_ratio,
                subject=op.operation_type,
                title=f"Container runtime {op.operation_type} failing {fmt_ratio(Value.of(op.error_rate / op.rate))} "
                "of the time",
                query=f"{q.promql('kubelet.runtime_ops_error_rate', kind)} / {q.promql('kubelet.runtime_ops_rate', kind)}",
                more_evidence=(
                    Evidence(q.promql("kubelet.runtime_ops_error_rate", kind), op.error_rate, "errors/s"),
                    Evidence(q.promql("kubelet.runtime_ops_rate", kind), op.rate, "operations/s"),
                ),
            )
        )
    return present(out)


def control_plane_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    cp = snap.control_plane
    if cp is None:
        return []
    return [
        *(_scheduler(snap, cp.scheduler, q) if cp.scheduler is not None else []),
        *_workqueues(cp, t, q),
        *_kubelet(cp, t, q),
    ]
