"""The KPI scorecard of the seed guide (§1.1), measured from a ClusterSnapshot.

Status rule (see grading.py): warn at or above the target (seed §1.1 or an SLO), fail at or
above the hard limit (upstream mixin alert threshold or SIG-scalability SLO). KPIs with no
upstream hard limit go to warn at most. Throughput targets (API QPS, scheduler pods/s) are
capacities a live rate cannot measure: a quiet cluster is not failing them, so they only warn
when the component is visibly saturated below the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import (
    SOURCE_PROMETHEUS,
    ApiRequestStat,
    ApiserverFacts,
    EtcdMember,
    NodeSaturation,
    WorkQueue,
)
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes, fmt_count, fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import ABSENT, NO_TRAFFIC, Kind, Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.alerts import severity_of
from k8stop.queries.rules.grading import Bound, grade, ratio, unknown_reason, worst
from k8stop.queries.rules.slo import burn_rate, describe_pairs, firing

LONG_RUNNING_VERBS = frozenset({"WATCH", "CONNECT"})
MUTATING_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"})
LIST_VERBS = frozenset({"LIST"})


@dataclass(frozen=True, slots=True)
class Kpi:
    id: str
    name: str
    value: Value  # base units; AT_LEAST keeps "at least", NO_TRAFFIC/ABSENT mean unknown
    unit: str  # "s", "bytes", "ratio", "req/s", "pods/s", "items"
    target: str  # e.g. "< 0.01"
    status: Level  # OK, WARN, FAIL or UNKNOWN; JSON says Level.kpi_word
    detail: str  # for unknown: the reason; otherwise where it was measured and the citation


_UNIT_FORMATTERS: dict[str, Callable[[Value], str]] = {"s": fmt_seconds, "bytes": fmt_bytes, "ratio": fmt_ratio}


def fmt_value(value: Value, unit: str) -> str:
    """A KPI value for humans, by its unit."""
    by_unit = _UNIT_FORMATTERS.get(unit)
    if by_unit is not None:
        return by_unit(value)
    if unit == "x" and value.known:
        return f"{value.number:.1f}x"
    if not value.known:
        return fmt_seconds(value)  # the shared words for no traffic / n/a
    prefix = ">= " if value.kind is Kind.AT_LEAST else ""
    if unit.endswith("/s"):
        return prefix + fmt_rate(value.number).replace("/", f" {unit.split('/', maxsplit=1)[0]}/", 1)
    return prefix + fmt_count(value.number)


def fmt_target(kpi: Kpi) -> str:
    """'< 0.01' in the KPI's unit ('< 10 ms'); the JSON keeps the machine form."""
    op, _, number = kpi.target.partition(" ")
    try:
        bound = float(number)
    except ValueError:
        return kpi.target
    return f"{op} {fmt_value(Value.of(bound), kpi.unit)}"


# Resources that exist only at cluster scope: a LIST of them is a cluster LIST by definition.
CLUSTER_SCOPED = frozenset(
    {
        "nodes",
        "namespaces",
        "persistentvolumes",
        "clusterroles",
        "clusterrolebindings",
        "customresourcedefinitions",
        "storageclasses",
        "priorityclasses",
        "csinodes",
        "csidrivers",
        "volumeattachments",
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "apiservices",
        "certificatesigningrequests",
        "runtimeclasses",
        "ingressclasses",
        "flowschemas",
        "prioritylevelconfigurations",
    }
)


def request_slo(stat: ApiRequestStat, thresholds: Thresholds) -> float:
    """SIG-scalability: LIST p99 <= 30 s; mutating and single-object reads p99 <= 1 s. The
    metrics k8stop reads do not split LISTs by scope, so a finding only fails a LIST past the
    loosest (cluster) LIST SLO."""
    return thresholds.apiserver_list_p99_slo if stat.verb.upper() in LIST_VERBS else thresholds.apiserver_p99_slo


def heat_slo(verb: str, resource: str, thresholds: Thresholds) -> float:
    """The SLO a heatmap row is shaded against: 1 s single object, 30 s a LIST of a
    cluster-scoped resource, 5 s any other LIST (namespace scope; a cluster-wide LIST of a
    namespaced resource shows one shade hotter than its 30 s SLO would)."""
    if verb.upper() not in LIST_VERBS:
        return thresholds.apiserver_p99_slo
    if resource.split(".", 1)[0] in CLUSTER_SCOPED:
        return thresholds.apiserver_list_p99_slo
    return thresholds.apiserver_namespace_list_p99_slo


def enough_traffic(stat: ApiRequestStat, thresholds: Thresholds) -> bool:
    """A p99 over fewer requests than the floor (in the 5 m window) is one slow call."""
    return stat.rate * 300 >= thresholds.apiserver_latency_min_requests


def latency_requests(facts: ApiserverFacts) -> tuple[ApiRequestStat, ...]:
    """Requests whose latency means something: WATCH/CONNECT stay open by design."""
    return tuple(r for r in facts.requests if r.verb.upper() not in LONG_RUNNING_VERBS)


def inflight_saturation(facts: ApiserverFacts, thresholds: Thresholds) -> float:
    """Highest current/limit over request kinds, falling back to the flag defaults."""
    defaults = {
        "readonly": thresholds.max_requests_inflight,
        "mutating": thresholds.max_mutating_requests_inflight,
    }
    best = 0.0
    for item in facts.inflight:
        limit = item.limit if item.limit is not None else defaults.get(item.request_kind.lower())
        if limit:
            best = max(best, item.current / limit)
    return best


def member_quota_ratio(member: EtcdMember) -> Value:
    return ratio(member.db_size_bytes, member.quota_bytes)


def _graded(
    kid: str,
    name: str,
    unit: str,
    items: list[tuple[str, Value]] | None,
    missing: str,
    bound: Bound,
    subject: str = "",
) -> Kpi:
    """A lower-is-better KPI over the worst of `items` (None: the feed gave nothing)."""
    target_text = f"< {bound.target:g}"
    if items is None:
        return Kpi(kid, name, ABSENT, unit, target_text, Level.UNKNOWN, missing)
    label, value = worst(items)
    if not value.known:
        return Kpi(kid, name, value, unit, target_text, Level.UNKNOWN, unknown_reason(value))
    level = bound.grade(value)
    where = f"{subject} {label}: " if subject and label else ""
    detail = f"{where}{fmt_value(value, unit)}; {bound.describe(lambda v: fmt_value(v, unit), 'fail')}"
    if value.kind is Kind.AT_LEAST:
        detail += "; " + unknown_reason(value)
    return Kpi(kid, name, value, unit, target_text, level, detail)


def _apiserver_latency(snap: ClusterSnapshot, t: Thresholds) -> Kpi:
    kid, name = "apiserver.request_latency_p99", "API server request latency p99 (worst verb/resource)"
    target = f"< {t.apiserver_p99_target:g}"
    if snap.apiserver is None:
        return Kpi(kid, name, ABSENT, "s", target, Level.UNKNOWN, snap.missing_reason("apiserver"))
    measured = latency_requests(snap.apiserver)
    # Rarely called verbs say nothing about a p99; they count only when nothing else is called.
    busy = [r for r in measured if enough_traffic(r, t)]
    requests = busy or list(measured)
    label, value = worst((f"{r.verb} {r.resource}", r.p99) for r in requests)
    if not value.known:
        reason = unknown_reason(value) if requests else "no API requests recorded"
        return Kpi(kid, name, value, "s", target, Level.UNKNOWN, reason)
    over_slo = [r for r in busy if r.p99.at_least(request_slo(r, t))]
    level = Level.FAIL if over_slo else grade(value, t.apiserver_p99_target)
    detail = (
        f"worst {label}: {fmt_seconds(value)}; warn at {fmt_seconds(Value.of(t.apiserver_p99_target))} "
        f"(seed §1.1), fail above the SIG-scalability SLO ({fmt_seconds(Value.of(t.apiserver_p99_slo))} "
        f"mutating/single-object, {fmt_seconds(Value.of(t.apiserver_list_p99_slo))} LIST)"
    )
    if over_slo:
        detail += "; over SLO: " + ", ".join(f"{r.verb} {r.resource}" for r in over_slo[:5])
    if len(busy) < len(measured):
        detail += f"; verbs under {t.apiserver_latency_min_requests:g} requests in 5 m not graded (too few for a p99)"
    return Kpi(kid, name, value, "s", target, level, detail)


def _capacity(
    kid: str, name: str, unit: str, target: float, value: Value, waiting: str, ok: str, missing: str = ""
) -> Kpi:
    """A capacity target (seed §1.1): a low rate is only demand, so it warns only when work
    waits (`waiting` says how; "" when nothing does) while the rate is under the target.
    `missing`: why the facts are not there at all."""
    if missing or not value.known:
        return Kpi(kid, name, value, unit, f"> {target:g}", Level.UNKNOWN, missing or unknown_reason(value))
    level = Level.WARN if waiting and value.number < target else Level.OK
    return Kpi(kid, name, value, unit, f"> {target:g}", level, waiting if level is Level.WARN else ok)


def _apiserver_qps(snap: ClusterSnapshot, t: Thresholds) -> Kpi:
    kid, name, target = "apiserver.qps", "API server throughput (capacity target)", t.apiserver_qps_target
    facts = snap.apiserver
    if facts is None:
        return _capacity(kid, name, "req/s", target, ABSENT, "", "", snap.missing_reason("apiserver"))
    saturated = facts.apf_rejected_rate > 0 or inflight_saturation(facts, t) >= t.inflight_near_limit
    return _capacity(
        kid,
        name,
        "req/s",
        target,
        Value.of(facts.total_qps),
        f"saturated (APF rejections or inflight near the limit) at {fmt_rate(facts.total_qps)}, "
        f"below the seed §1.1 capacity target of {target:g} QPS"
        if saturated
        else "",
        "current demand, not capacity: the seed §1.1 target is what the control plane must "
        "sustain (load-test it, seed §1.2); no saturation seen at this rate",
    )


def _apiserver_errors(snap: ClusterSnapshot, t: Thresholds) -> Kpi:
    kid, name = "apiserver.error_ratio_5xx", "API server 5xx ratio"
    items = None if snap.apiserver is None else [("all", snap.apiserver.error_ratio)]
    return _graded(kid, name, "ratio", items, snap.missing_reason("apiserver"), bounds.apiserver_errors(t))


def _error_budget(snap: ClusterSnapshot) -> Kpi:
    """The 1 h burn rate; the status is the worst KubeAPIErrorBudgetBurn window pair firing."""
    kid, name, target = "apiserver.error_budget_burn", "API error budget burn rate (1 h)", "< 1"
    facts = snap.request_path
    if facts is None:
        return Kpi(kid, name, ABSENT, "x", target, Level.UNKNOWN, snap.missing_reason("request_path"))
    hour = facts.burn_ratio("1h")
    if hour is None:
        return Kpi(
            kid, name, ABSENT, "x", target, Level.UNKNOWN, "not measured yet (no latency histogram or first minute)"
        )
    rate = burn_rate(hour)
    if rate is None:
        return Kpi(kid, name, hour, "x", target, Level.UNKNOWN, unknown_reason(hour))
    fired = firing(facts)
    level = Level.OK if not fired else (Level.FAIL if fired[0][0].severity is Level.CRITICAL else Level.WARN)
    pair = f"; firing: {fired[0][0].long}/{fired[0][0].short} x{fired[0][0].factor:g}" if fired else ""
    detail = f"{rate:.1f}x the budget over 1 h{pair}; kubernetes-mixin KubeAPIErrorBudgetBurn ({describe_pairs()})"
    return Kpi(kid, name, Value.of(rate), "x", target, level, detail)


def _etcd_members(snap: ClusterSnapshot) -> tuple[tuple[EtcdMember, ...] | None, str]:
    if snap.etcd is None:
        return None, snap.missing_reason("etcd")
    if snap.etcd.source != SOURCE_PROMETHEUS:
        return None, snap.etcd.source_note  # what the direct path can and cannot see
    if not snap.etcd.members:
        return None, "etcd not exposed by this control plane (no etcd series in Prometheus)"
    return snap.etcd.members, ""


def _etcd(
    snap: ClusterSnapshot,
    kid: str,
    name: str,
    unit: str,
    pick: Callable[[EtcdMember], Value],
    bound: Bound,
) -> Kpi:
    members, missing = _etcd_members(snap)
    items = None if members is None else [(m.instance, pick(m)) for m in members]
    return _graded(kid, name, unit, items, missing, bound, subject="member")


def _scheduler_throughput(snap: ClusterSnapshot, t: Thresholds) -> Kpi:
    kid, name, target = "scheduler.throughput", "Scheduler throughput (capacity target)", t.scheduler_throughput
    cp = snap.control_plane
    if cp is None or cp.scheduler is None:
        missing = snap.missing_reason("control_plane") if cp is None else "scheduler metrics not exposed"
        return _capacity(kid, name, "pods/s", target, ABSENT, "", "", missing)
    value = cp.scheduler.throughput
    waiting = sum(n for queue, n in cp.scheduler.pending_by_queue if queue in ("active", "backoff"))
    return _capacity(
        kid,
        name,
        "pods/s",
        target,
        value,
        f"{fmt_count(waiting)} pods waiting in the active/backoff queues while binding "
        f"{fmt_value(value, 'pods/s')}, below the seed §1.1 target (CL2 load threshold)"
        if waiting > 0
        else "",
        "binding rate follows demand; no pods waiting to be scheduled (seed §1.1 target is capacity)",
    )


def _workqueues(snap: ClusterSnapshot, t: Thresholds) -> tuple[Kpi, Kpi]:
    cp = snap.control_plane
    queues = None if cp is None else list(cp.workqueues)
    missing = snap.missing_reason("control_plane")
    if queues is not None and not queues:
        queues, missing = None, "controller-manager workqueue metrics not exposed"
    picks: tuple[tuple[str, str, str, Callable[[WorkQueue], Value], Bound], ...] = (
        (
            "controller.workqueue_depth_max",
            "Controller workqueue depth (deepest queue)",
            "items",
            lambda q: Value.of(q.depth),
            bounds.workqueue_depth(t),
        ),
        (
            "controller.work_duration_p99_max",
            "Controller reconcile p99 (slowest queue)",
            "s",
            lambda q: q.work_p99,
            bounds.workqueue_work(t),
        ),
    )
    depth, work = (
        _graded(
            kid, name, unit, None if queues is None else [(q.name, pick(q)) for q in queues], missing, bound, "queue"
        )
        for kid, name, unit, pick, bound in picks
    )
    return depth, work


def _nodes(snap: ClusterSnapshot, t: Thresholds) -> tuple[Kpi, Kpi, Kpi]:
    nodes = None if snap.nodes is None else snap.nodes.worst
    missing = snap.missing_reason("nodes")
    if nodes is not None and not nodes:
        nodes, missing = None, "no node reports saturation metrics"
    out = []
    picks: tuple[tuple[str, str, Callable[[NodeSaturation], Value]], ...] = (
        ("node.cpu_utilisation_max", "Node CPU utilisation (busiest node)", lambda n: n.cpu),
        ("node.memory_utilisation_max", "Node memory utilisation (fullest node)", lambda n: n.memory),
        ("node.disk_utilisation_max", "Node root filesystem used (fullest node)", lambda n: n.disk),
    )
    for kid, name, pick in picks:
        items = None if nodes is None else [(n.node, pick(n)) for n in nodes]
        out.append(_graded(kid, name, "ratio", items, missing, bounds.node_saturation(t), subject="node"))
    return out[0], out[1], out[2]


def _kubelet(snap: ClusterSnapshot, t: Thresholds) -> tuple[Kpi, Kpi, Kpi]:
    cp = snap.control_plane
    missing = snap.missing_reason("control_plane")
    startup = None if cp is None else [("cluster", cp.pod_start_p99)]
    ops = None if cp is None else cp.runtime_ops
    ops_missing = missing if ops is None or ops else "kubelet runtime operation metrics not exposed"
    ops = ops or None
    errors: list[tuple[str, Value]] | None = None
    if ops is not None:
        total = sum(op.rate for op in ops)
        errors = [("all operations", Value.of(sum(op.error_rate for op in ops) / total) if total > 0 else NO_TRAFFIC)]
    creates = (
        None if ops is None else [(op.operation_type, op.p99) for op in ops if op.operation_type == "create_container"]
    )
    creates_missing = (
        ops_missing if creates is None or creates else "no create_container operations reported by the kubelets"
    )
    rows = (
        ("kubelet.pod_startup_p99", "Pod startup latency p99", "s", startup, missing, bounds.pod_startup(t)),
        (
            "kubelet.runtime_ops_error_rate",
            "Container runtime operation error ratio",
            "ratio",
            errors,
            ops_missing,
            bounds.runtime_errors(t),
        ),
        (
            "kubelet.container_create_p99",
            "Container creation p99 (runtime create_container)",
            "s",
            creates or None,
            creates_missing,
            bounds.container_create(t),
        ),
    )
    startup_kpi, error_kpi, create_kpi = (_graded(*row) for row in rows)
    return startup_kpi, error_kpi, create_kpi


def _overcommit(snap: ClusterSnapshot, t: Thresholds) -> tuple[Kpi, ...]:
    """Requests / allocatable without the largest node, per resource (KubeCPU/MemoryOvercommit)."""
    found = {} if snap.workloads is None else {c.resource: c for c in snap.workloads.commitments}
    missing = snap.missing_reason("workloads") if snap.workloads is None else "kube-state-metrics requests not exposed"
    out = []
    for resource, name in (("cpu", "CPU"), ("memory", "Memory")):
        c = found.get(resource)
        out.append(
            _graded(
                f"node.{resource}_requests_n1",
                f"{name} requests / allocatable without the largest node",
                "ratio",
                None if c is None else [(c.largest_node, Value.of(c.n1_ratio))],
                missing,
                bounds.overcommit(t, c) if c is not None else Bound(t.overcommit_n1_ratio, None, ""),
                subject="largest node",
            )
        )
    return tuple(out)


# The signal behind each KPI: metric names an alerting rule's expression reads, and the names
# of the upstream (mixin) and seed alerts about it.
KPI_SIGNALS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "apiserver.request_latency_p99": (
        ("apiserver_request_duration_seconds", "apiserver_request_sli_duration_seconds", "apiserver_request_slo_"),
        ("APIServerLatencyHigh", "KubeAPILatencyHigh"),
    ),
    "apiserver.error_ratio_5xx": (("apiserver_request:burnrate",), ("KubeAPIErrorBudgetBurn", "KubeAPIErrorsHigh")),
    "apiserver.error_budget_burn": (("apiserver_request:burnrate",), ("KubeAPIErrorBudgetBurn",)),
    "etcd.wal_fsync_p99": (
        ("etcd_disk_wal_fsync_duration_seconds",),
        ("etcdHighFsyncDurations", "EtcdDiskLatencyHigh"),
    ),
    "etcd.backend_commit_p99": (("etcd_disk_backend_commit_duration_seconds",), ("etcdHighCommitDurations",)),
    "etcd.peer_rtt_p99": (("etcd_network_peer_round_trip_time_seconds",), ("etcdMemberCommunicationSlow",)),
    "etcd.db_quota_ratio": (("etcd_server_quota_backend_bytes",), ("etcdDatabaseQuotaLowSpace",)),
    "node.cpu_utilisation_max": (("node_cpu_seconds_total", "node_cpu_utilisation"), ("NodeCPUHigh",)),
    "node.memory_utilisation_max": (("node_memory_MemAvailable_bytes",), ("NodeMemoryHighUtilization",)),
    "node.disk_utilisation_max": (
        ("node_filesystem_avail_bytes",),
        ("NodeFilesystemSpaceFillingUp", "NodeFilesystemAlmostOutOfSpace"),
    ),
    "controller.workqueue_depth_max": (("workqueue_depth",), ()),
    "kubelet.pod_startup_p99": (("kubelet_pod_start",), ()),
    "node.cpu_requests_n1": (("namespace_cpu:kube_pod_container_resource_requests",), ("KubeCPUOvercommit",)),
    "node.memory_requests_n1": (
        ("namespace_memory:kube_pod_container_resource_requests",),
        ("KubeMemoryOvercommit",),
    ),
}


def _with_alerts(kpi: Kpi, snap: ClusterSnapshot) -> Kpi:
    """Never milder than a firing alert on the KPI's signal: the cluster's own rule has spoken."""
    metrics, names = KPI_SIGNALS.get(kpi.id, ((), ()))
    firing = [
        a
        for a in (snap.alerts.alerts if snap.alerts is not None else ())
        if a.state == "firing" and (a.name in names or any(m in a.expression for m in metrics))
    ]
    worst = max(firing, key=severity_of, default=None)
    if worst is None or severity_of(worst) <= kpi.status:
        return kpi
    return replace(kpi, status=severity_of(worst), detail=f"{kpi.detail}; alert {worst.name} ({worst.severity}) firing")


def _sourced(kpi: Kpi, snap: ClusterSnapshot) -> Kpi:
    """An API-server KPI measured without Prometheus says where it came from."""
    facts = snap.apiserver
    if facts is None or facts.source == SOURCE_PROMETHEUS:
        return kpi
    return replace(kpi, detail=f"{kpi.detail}; source: {facts.source} ({facts.source_note})")


def compute_kpis(snap: ClusterSnapshot, t: Thresholds) -> tuple[Kpi, ...]:
    return tuple(_with_alerts(k, snap) for k in _measured_kpis(snap, t))


def _measured_kpis(snap: ClusterSnapshot, t: Thresholds) -> tuple[Kpi, ...]:
    depth, work = _workqueues(snap, t)
    cpu, memory, disk = _nodes(snap, t)
    startup, runtime_errors, create = _kubelet(snap, t)
    return (
        *(
            _sourced(k, snap)
            for k in (_apiserver_latency(snap, t), _apiserver_qps(snap, t), _apiserver_errors(snap, t))
        ),
        _error_budget(snap),
        _etcd(
            snap,
            "etcd.wal_fsync_p99",
            "etcd WAL fsync p99 (worst member)",
            "s",
            lambda m: m.wal_fsync_p99,
            bounds.etcd_wal_fsync(t),
        ),
        _etcd(
            snap,
            "etcd.backend_commit_p99",
            "etcd backend commit p99 (worst member)",
            "s",
            lambda m: m.backend_commit_p99,
            bounds.etcd_backend_commit(t),
        ),
        _etcd(
            snap,
            "etcd.peer_rtt_p99",
            "etcd peer round-trip p99 (worst member)",
            "s",
            lambda m: m.peer_rtt_p99,
            bounds.etcd_peer_rtt(t),
        ),
        _etcd(
            snap,
            "etcd.db_quota_ratio",
            "etcd DB size / quota (fullest member)",
            "ratio",
            member_quota_ratio,
            bounds.etcd_db_quota(t),
        ),
        _scheduler_throughput(snap, t),
        depth,
        work,
        cpu,
        memory,
        disk,
        startup,
        runtime_errors,
        create,
        *_overcommit(snap, t),
    )
