"""Scheduler, controller-manager and kubelet rules (seed §1.1, §2.3, §2.4, §3.1, §3.2)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ControlPlaneFacts, SchedulerFacts
from k8stop.queries.model.finding import Component, Evidence, Finding, Severity, severity_for
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_count, fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules.grading import Level, grade


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


def _scheduler(snap: ClusterSnapshot, s: SchedulerFacts) -> list[Finding]:
    pending = dict(s.pending_by_queue)
    attempts = dict(s.attempts_by_result)
    out = []
    unschedulable = pending.get("unschedulable", 0.0)
    failing = attempts.get("unschedulable", 0.0)
    if unschedulable > 0 or failing > 0:
        out.append(
            Finding(
                id="scheduler.unschedulable:cluster",
                component=Component.SCHEDULER,
                subject="pending pods",
                severity=Severity.WARNING,
                title=f"{fmt_count(unschedulable)} pods unschedulable ({fmt_rate(failing)} failed attempts)",
                evidence=(
                    *(
                        Evidence(f'sum(scheduler_pending_pods{{queue="{q}"}})', n, f"pending in {q}")
                        for q, n in s.pending_by_queue
                    ),
                    *(
                        Evidence(
                            f'sum(rate(scheduler_schedule_attempts_total{{result="{r}"}}[5m]))', n, f"{r} attempts/s"
                        )
                        for r, n in s.attempts_by_result
                    ),
                    *_failed_scheduling(snap),
                ),
                recommendation=(
                    "No node fits these pods. The FailedScheduling event says why: 'Insufficient cpu/memory' "
                    "means capacity: add nodes or right-size requests (seed §7.1, §5.1); taints, node "
                    "affinity or topology spread mean constraints to relax (seed §5.3). Scheduler tuning "
                    "(seed §2.4 percentage-of-nodes-to-score) speeds scheduling but cannot place them."
                ),
                magnitude=1.0 + unschedulable,
            )
        )
    errors = attempts.get("error", 0.0)
    if errors > 0:
        out.append(
            Finding(
                id="scheduler.errors:cluster",
                component=Component.SCHEDULER,
                subject="kube-scheduler",
                severity=Severity.WARNING,
                title=f"Scheduler attempts failing with errors at {fmt_rate(errors)}",
                evidence=(Evidence('sum(rate(scheduler_schedule_attempts_total{result="error"}[5m]))', errors),),
                recommendation="Errors (not unschedulable) come from the scheduler itself or failed binds: read the kube-scheduler logs; binds fail when the API server or etcd is slow.",
                magnitude=1.0 + errors,
            )
        )
    return out


def _workqueues(cp: ControlPlaneFacts, t: Thresholds) -> list[Finding]:
    advice = (
        "Raise the controller's concurrency (seed §2.3: concurrent-deployment-syncs, "
        "concurrent-replicaset-syncs, concurrent-gc-syncs ...) and its API budget (--kube-api-qps / "
        "--kube-api-burst); a queue that grows while the API server is slow is a symptom of that."
    )
    out = []
    for q in cp.workqueues:
        if q.depth >= t.workqueue_depth:
            out.append(
                Finding(
                    id=f"controller.workqueue_depth:{q.name}",
                    component=Component.CONTROLLER_MANAGER,
                    subject=q.name,
                    severity=Severity.WARNING,
                    title=f"Workqueue {q.name} holds {fmt_count(q.depth)} items (target < {fmt_count(t.workqueue_depth)})",
                    evidence=(
                        Evidence(f'sum(workqueue_depth{{name="{q.name}"}})', q.depth, "seed §1.1 queue_depth < 1000"),
                        Evidence(f'sum(rate(workqueue_adds_total{{name="{q.name}"}}[5m]))', q.adds_rate, "adds/s"),
                    ),
                    recommendation=advice,
                    magnitude=q.depth / t.workqueue_depth,
                )
            )
        if q.work_p99.at_least(t.workqueue_work_p99):
            out.append(
                Finding(
                    id=f"controller.reconcile_slow:{q.name}",
                    component=Component.CONTROLLER_MANAGER,
                    subject=q.name,
                    severity=Severity.WARNING,
                    title=f"Controller {q.name} reconcile p99 {fmt_seconds(q.work_p99)} (target < {fmt_seconds(Value.of(t.workqueue_work_p99))})",
                    evidence=(
                        Evidence(
                            f'histogram_quantile(0.99, sum by (name, le) (rate(workqueue_work_duration_seconds_bucket{{name="{q.name}"}}[5m])))',
                            q.work_p99.or_none(),
                            "seed §1.1 reconcile_duration < 5 s",
                        ),
                    ),
                    recommendation=advice,
                    magnitude=q.work_p99.number / t.workqueue_work_p99,
                )
            )
    return out


def _kubelet(cp: ControlPlaneFacts, t: Thresholds) -> list[Finding]:
    out = []
    level = grade(cp.pod_start_p99, t.pod_startup_p99, t.pod_startup_p99_seed)
    if level >= Level.WARN:
        out.append(
            Finding(
                id="kubelet.pod_startup_slow:cluster",
                component=Component.KUBELET,
                subject="pod startup",
                severity=severity_for(level),
                title=f"Pod startup p99 {fmt_seconds(cp.pod_start_p99)} (SLO 5 s, seed < 30 s)",
                evidence=(
                    Evidence(
                        "histogram_quantile(0.99, sum by (le) (rate(kubelet_pod_start_sli_duration_seconds_bucket[5m])))",
                        cp.pod_start_p99.or_none(),
                        f"warn at {fmt_seconds(Value.of(t.pod_startup_p99))} (SIG-scalability SLO), critical at "
                        f"{fmt_seconds(Value.of(t.pod_startup_p99_seed))} (seed §1.1)",
                    ),
                ),
                recommendation=(
                    "Pull images in parallel (seed §3.1 serializeImagePulls: false), use a nearby registry "
                    "mirror and pre-pull common images (seed §3.2), raise containerd max_concurrent_downloads "
                    "(seed §8.3), and check the runtime's create_container latency and CNI setup time."
                ),
                magnitude=cp.pod_start_p99.number / t.pod_startup_p99,
            )
        )
    for op in cp.runtime_ops:
        if op.rate <= 0:
            continue
        share = op.error_rate / op.rate
        if share < t.runtime_ops_error_ratio:
            continue
        out.append(
            Finding(
                id=f"kubelet.runtime_errors:{op.operation_type}",
                component=Component.KUBELET,
                subject=op.operation_type,
                severity=Severity.WARNING,
                title=f"Container runtime {op.operation_type} failing {fmt_ratio(Value.of(share))} of the time",
                evidence=(
                    Evidence(
                        f'sum(rate(kubelet_runtime_operations_errors_total{{operation_type="{op.operation_type}"}}[5m]))',
                        op.error_rate,
                        "errors/s",
                    ),
                    Evidence(
                        f'sum(rate(kubelet_runtime_operations_total{{operation_type="{op.operation_type}"}}[5m]))',
                        op.rate,
                        f"operations/s; warn at {fmt_ratio(Value.of(t.runtime_ops_error_ratio))} errors (k8stop's own)",
                    ),
                ),
                recommendation=(
                    "Read the container runtime (containerd) and kubelet logs on the affected nodes; check the "
                    "runtime configuration (seed §3.2 / §8.3: SystemdCgroup matching the kubelet's cgroup "
                    "driver, snapshotter overlayfs) and disk space under the image filesystem."
                ),
                magnitude=share / t.runtime_ops_error_ratio,
            )
        )
    return out


def control_plane_findings(snap: ClusterSnapshot, t: Thresholds) -> list[Finding]:
    cp = snap.control_plane
    if cp is None:
        return []
    return [
        *(_scheduler(snap, cp.scheduler) if cp.scheduler is not None else []),
        *_workqueues(cp, t),
        *_kubelet(cp, t),
    ]
