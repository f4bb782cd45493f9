"""Typed, immutable facts about a cluster: what every panel, finding and report reads.

Units are base units throughout: seconds, bytes, ratios 0-1, per-second rates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from k8stop.queries.model.values import NO_TRAFFIC, Value

Labels = tuple[tuple[str, str], ...]
# Where API-server and etcd figures came from: shown beside them on every surface.
SOURCE_PROMETHEUS = "Prometheus"
SOURCE_APISERVER_METRICS = "API server /metrics"


# --- API server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiRequestStat:
    verb: str
    resource: str
    p50: Value
    p90: Value
    p99: Value
    rate: float  # requests/s
    rate_4xx: float
    rate_429: float
    rate_5xx: float


@dataclass(frozen=True, slots=True)
class Inflight:
    request_kind: str  # readOnly | mutating
    current: float
    limit: float | None  # from config (the server does not export it)


@dataclass(frozen=True, slots=True)
class ApfLevel:
    priority_level: str
    executing_seats: float
    limit_seats: float | None
    inqueue: float
    rejected_rate: float  # rejections/s


@dataclass(frozen=True, slots=True)
class HeatRow:
    verb: str
    resource: str
    cells: tuple[Value, ...]  # p99 per time step, oldest first


@dataclass(frozen=True, slots=True)
class Heatmap:
    start: float  # unix seconds of the first column
    step: float  # seconds between columns
    rows: tuple[HeatRow, ...]


@dataclass(frozen=True, slots=True)
class ApiserverFacts:
    latency_metric: str  # which histogram answered (sli or the older duration one)
    requests: tuple[ApiRequestStat, ...]  # busiest first
    total_qps: float
    error_ratio: Value  # 5xx / all; NO_TRAFFIC when idle
    inflight: tuple[Inflight, ...]
    apf: tuple[ApfLevel, ...]
    apf_rejected_rate: float
    heatmap: Heatmap | None
    apf_seats_metric: str = ""  # which executing-seats gauge answered ("" when none did)
    source: str = SOURCE_PROMETHEUS
    source_note: str = ""  # for the direct scrape: which server answered, over what interval

    @classmethod
    def measured(
        cls,
        latency_metric: str,
        requests: Iterable[ApiRequestStat],
        rates: tuple[float, float],
        inflight: tuple[Inflight, ...],
        apf: tuple[ApfLevel, ...],
        heatmap: Heatmap | None,
    ) -> ApiserverFacts:
        """The facts with the figures derived from others: `rates` is (all requests/s, 5xx/s),
        the 5xx share NO_TRAFFIC when the server was idle; APF rejections summed over levels."""
        total, errors = rates
        return cls(
            latency_metric,
            tuple(requests),
            total,
            Value.of(errors / total) if total > 0 else NO_TRAFFIC,
            inflight,
            apf,
            sum(level.rejected_rate for level in apf),
            heatmap,
        )


# --- etcd -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EtcdMember:
    instance: str
    wal_fsync_p99: Value
    backend_commit_p99: Value
    db_size_bytes: Value
    quota_bytes: Value
    has_leader: bool | None
    is_leader: bool | None
    leader_changes_1h: float | None
    peer_rtt_p99: Value
    wal_fsync_history: tuple[Value, ...]  # p99 per step, oldest first
    backend_commit_history: tuple[Value, ...]
    node: str = ""  # the node it runs on, when its host is a node's address; "" when unknown


@dataclass(frozen=True, slots=True)
class EtcdRequestStat:
    """The API server's view of etcd: etcd_request_duration_seconds by operation and type."""

    operation: str  # get, list, create, update, delete, ...
    type: str  # the stored object type, e.g. "/registry/pods" or "*core.Pod"
    p99: Value
    rate: float  # requests/s


@dataclass(frozen=True, slots=True)
class StoredObjects:
    resource: str
    objects: float  # apiserver_storage_objects
    size_bytes: Value  # apiserver_storage_size_bytes, where the server exports it


@dataclass(frozen=True, slots=True)
class EtcdFacts:
    db_size_metric: str
    members: tuple[EtcdMember, ...]  # worst fsync first
    source: str = SOURCE_PROMETHEUS
    source_note: str = ""
    api_requests: tuple[EtcdRequestStat, ...] = ()  # slowest first; only from the direct scrape
    stored: tuple[StoredObjects, ...] = ()  # most objects first


# --- nodes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeSaturation:
    node: str  # the name `kubectl get nodes` shows, when any source could tell it
    cpu: Value  # utilisation 0-1
    memory: Value
    disk: Value  # root filesystem used 0-1
    load1_per_cpu: Value
    instance: str = ""  # the scrape target the figures come from
    named_by: str = ""  # how `node` was found: "node_uname_info", "label node", "instance", ...

    @property
    def worst(self) -> float:
        return max((v.number for v in (self.cpu, self.memory, self.disk) if v.known), default=0.0)


@dataclass(frozen=True, slots=True)
class NodesFacts:
    source: str  # "node-exporter" or "metrics-server"
    worst: tuple[NodeSaturation, ...]  # worst first, at most the configured N
    total: int  # nodes reporting in all

    @property
    def naming(self) -> str:
        """How the shown nodes were named, e.g. "node names from node_uname_info", so a
        wrong join (IPs, or names kubectl does not know) is visible and explained."""
        counts: dict[str, int] = {}
        for n in self.worst:
            if n.named_by:
                counts[n.named_by] = counts.get(n.named_by, 0) + 1
        if not counts:
            return ""
        if len(counts) == 1:
            return f"node names from {next(iter(counts))}"
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return "node names from " + ", ".join(f"{how} ({count})" for how, count in ranked)


# --- workloads --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContainerRestarts:
    namespace: str
    pod: str
    container: str
    restarts_1h: float
    restarts_15m: float
    waiting_reason: str | None  # CrashLoopBackOff, ImagePullBackOff, ...
    last_terminated_reason: str | None  # OOMKilled, Error, ...
    ready: bool | None = None  # None: the source does not say (kube-state-metrics rows)
    node: str | None = None  # kube_pod_info's node, so a sick node explains restarts without the kube API

    @property
    def failing_now(self) -> bool:
        """Down at this moment (waiting for a bad reason, or not ready), not merely restarted
        some time in the hour: these rank first, whatever their restart counts."""
        bad_wait = self.waiting_reason is not None and self.waiting_reason not in BENIGN_WAITING
        return bad_wait or self.ready is False


# Waiting reasons of a container starting normally: not a failure
BENIGN_WAITING = frozenset({"ContainerCreating", "PodInitializing"})
# Rows a restarts feed carries: enough to fill a maximised panel on a tall terminal
RESTARTS_SHOWN = 60


def restarts_rank(row: ContainerRestarts) -> tuple[bool, float, float, str, str, str]:
    """Failing now first, then most restarts in the hour, then the last 15 minutes."""
    return (not row.failing_now, -row.restarts_1h, -row.restarts_15m, row.namespace, row.pod, row.container)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """A kube resource's first sync while it is under way: what has arrived so far."""

    resource: str  # "pods"
    pages: int  # list pages received (0 on a streaming list)
    objects: int
    expected: int | None  # objects so far + the server's remainingItemCount; None when not sent
    elapsed: float  # seconds since the sync began
    streaming: bool = False  # a watch streaming the initial state (WatchList), not paged LISTs

    def line(self) -> str:
        """ "syncing pods: 48,000 / ~150,000", the estimate only when the server gave one."""
        total = f" / ~{self.expected:,}" if self.expected is not None else ""
        return f"syncing {self.resource}: {self.objects:,}{total}"


@dataclass(frozen=True, slots=True)
class RestartsFacts:
    source: str  # "kube-state-metrics" or "kube-api"
    top: tuple[ContainerRestarts, ...]  # in restarts_rank order, at most RESTARTS_SHOWN
    sync: SyncProgress | None = None  # the pod list's first sync, while it is under way
    total: int | None = None  # containers that qualified, `top` or not; None when unknown


@dataclass(frozen=True, slots=True)
class PodPlacement:
    """Where a container runs and which controller owns its pod (kube-state-metrics kube_pod_info)."""

    node: str = ""  # the node's name as kubectl shows it; "" when unknown
    owner_kind: str = ""  # created_by_kind: ReplicaSet, StatefulSet, DaemonSet, Job, ...
    owner_name: str = ""


@dataclass(frozen=True, slots=True)
class ContainerThrottling:
    namespace: str
    pod: str
    container: str
    throttled_ratio: float  # share of CFS periods throttled over the window, 0-1
    cpu_usage_cores: Value  # average over the window
    cpu_limit_cores: Value  # ABSENT when no limit is known
    placement: PodPlacement = PodPlacement()


@dataclass(frozen=True, slots=True)
class ContainerMemory:
    namespace: str
    pod: str
    container: str
    working_set_bytes: float
    limit_bytes: float
    growth_bytes_per_s: float  # least-squares slope over the trend window (0 with too few points)
    growth_stderr: float
    seconds_to_limit: Value  # at the fitted growth; ABSENT when not growing
    seconds_to_limit_low: Value  # at the fast end of the fit's band (the pessimistic forecast)
    placement: PodPlacement = PodPlacement()

    @property
    def ratio(self) -> float:
        return self.working_set_bytes / self.limit_bytes if self.limit_bytes > 0 else 0.0


@dataclass(frozen=True, slots=True)
class FilesystemRunway:
    """A node filesystem that is filling, and when the trend fills it."""

    node: str  # as kubectl names it (queries/prom/node_names.py)
    instance: str
    device: str
    mountpoint: str
    resource: str  # "space" or "inodes"
    seconds_left: float  # at the least-squares slope over the window
    free_ratio: Value  # free share now, 0-1


@dataclass(frozen=True, slots=True)
class KubeletHealth:
    """One node's kubelet: PLEG relist latency, evictions, pressure conditions."""

    node: str  # as kubectl names it
    instance: str  # the kubelet target ("" when only kube-state-metrics knows the node)
    pleg_relist_p99: Value
    evictions_1h: tuple[tuple[str, float], ...] = ()  # (eviction signal, pods evicted)
    pressure: tuple[str, ...] = ()  # MemoryPressure, DiskPressure, PIDPressure
    ready_changes_15m: float = 0.0  # changes of the Ready condition (kube-state-metrics)
    psi_full: tuple[tuple[str, float], ...] = ()  # (memory | io, share of time every task stalled), worst first
    runtime_p99: tuple[tuple[str, Value], ...] = ()  # (operation type, p99) of its runtime, slowest first


@dataclass(frozen=True, slots=True)
class HpaStatus:
    namespace: str
    name: str
    current: float
    desired: float
    min_replicas: float
    max_replicas: float
    mismatch_held: bool = False  # desired != current at every minute of thresholds.hpa_mismatch_for


@dataclass(frozen=True, slots=True)
class ResourceCommitment:
    """Pod requests of one resource against the nodes' allocatable, whole cluster and N-1."""

    resource: str  # "cpu" (cores) or "memory" (bytes)
    requests: float  # summed over the containers of Pending and Running pods
    allocatable: float  # summed over the nodes
    nodes: int
    largest_node: str  # the node whose loss costs the most allocatable
    largest_allocatable: float
    requests_metric: str = ""  # the families the probe picked (kube-state-metrics v2 or v1)
    allocatable_metric: str = ""

    @property
    def without_largest(self) -> float:
        """What is left to schedule on when the largest node is lost (drained, failed, upgraded)."""
        return self.allocatable - self.largest_allocatable

    @property
    def ratio(self) -> float:
        return self.requests / self.allocatable if self.allocatable > 0 else 0.0

    @property
    def n1_ratio(self) -> float:
        """Requests over allocatable without the largest node; a one-node cluster has no N-1,
        so there it is the plain ratio (the mixin's non-HA branch)."""
        spare = self.without_largest if self.nodes > 1 else self.allocatable
        return self.requests / spare if spare > 0 else 0.0


@dataclass(frozen=True, slots=True)
class WorkloadsFacts:
    """Containers against their limits: the worst N of each kind, ranked on the server."""

    window: str  # the rate window, e.g. "15m"
    throttled: tuple[ContainerThrottling, ...] = ()  # most throttled first
    memory: tuple[ContainerMemory, ...] = ()  # closest to the limit first
    trend_window: float = 0.0  # seconds of working-set history the forecasts fit
    cpu_limit_metric: str = ""  # the limit family the probe picked (kube-state-metrics v2 or v1)
    memory_limit_metric: str = ""
    filesystems: tuple[FilesystemRunway, ...] = ()  # soonest full first
    runway_window: str = ""  # the trend window of the filesystem forecasts, e.g. "1h"
    kubelets: tuple[KubeletHealth, ...] = ()  # the N worst: pressure, evictions, then slowest PLEG
    hpas: tuple[HpaStatus, ...] = ()  # maxed out or not at their desired size
    hpa_metric: str = ""  # kube_horizontalpodautoscaler (KSM 2.x) or kube_hpa (1.x)
    commitments: tuple[ResourceCommitment, ...] = ()  # cpu, then memory, where kube-state-metrics has both


# --- scheduler, controllers, kubelet ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchedulerFacts:
    attempt_metric: str
    pending_by_queue: tuple[tuple[str, float], ...]
    attempts_by_result: tuple[tuple[str, float], ...]  # attempts/s
    attempt_p99: Value
    throughput: Value  # pods bound per second


@dataclass(frozen=True, slots=True)
class WorkQueue:
    name: str
    depth: float
    adds_rate: float
    work_p99: Value
    queue_p99: Value


@dataclass(frozen=True, slots=True)
class KubeletOp:
    operation_type: str
    p99: Value
    rate: float
    error_rate: float


@dataclass(frozen=True, slots=True)
class ControlPlaneFacts:
    scheduler: SchedulerFacts | None
    workqueues: tuple[WorkQueue, ...]  # deepest first
    pod_start_p99: Value
    runtime_ops: tuple[KubeletOp, ...]
    pod_start_metric: str = ""  # which pod-start histogram answered ("" when none did)


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    state: str  # firing | pending
    severity: str
    labels: Labels
    summary: str
    active_at: float | None
    value: str
    source: str  # "prometheus" or "k8stop" (built-in rule evaluated by k8stop)
    expression: str = ""  # the alerting rule's PromQL, when the server listed it


# A target counts as down once `up` stayed 0 this long: one missed scrape is not news (TargetDown
# holds 10m; a panel goes stale within a scrape, so the finding should not wait as long as the alert).
DOWN_TARGET_HOLD = "5m"


@dataclass(frozen=True, slots=True)
class DownTarget:
    """A scrape target Prometheus has not reached for the whole hold window (`up` stayed 0)."""

    job: str
    instance: str
    job_targets: int  # how many targets the job has, down ones included


@dataclass(frozen=True, slots=True)
class AlertsFacts:
    alerts: tuple[Alert, ...]  # most severe first
    server_has_rules: bool
    targets_down: tuple[DownTarget, ...] = ()  # by job, then instance
    # Without server rules: the seed's rules as k8stop evaluated them, kept so a recording's
    # alerts screen shows them. Shown, never graded: the findings grade the same signals.
    evaluated: tuple[Alert, ...] = ()


# --- kube API (slim records: only what the app shows) -----------------------------------


@dataclass(frozen=True, slots=True)
class ContainerRecord:
    name: str
    ready: bool
    restarts: int
    waiting_reason: str | None
    last_terminated_reason: str | None
    last_exit_code: int | None
    last_finished_at: str | None  # RFC 3339 as the API gave it


@dataclass(frozen=True, slots=True)
class PodRecord:
    namespace: str
    name: str
    node: str | None
    phase: str
    owner_kind: str | None
    owner_name: str | None
    containers: tuple[ContainerRecord, ...]
    cpu_request_millis: int
    memory_request_bytes: int
    cpu_limit_millis: int
    memory_limit_bytes: int
    created: str | None

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers)


@dataclass(frozen=True, slots=True)
class NodeRecord:
    name: str
    conditions: tuple[tuple[str, str], ...]  # (type, status): Ready/True, MemoryPressure/False...
    unschedulable: bool
    allocatable_cpu_millis: int
    allocatable_memory_bytes: int
    allocatable_pods: int
    kubelet_version: str
    addresses: tuple[tuple[str, str], ...] = ()  # (type, address): InternalIP/10.0.1.11, Hostname/...

    @property
    def ready(self) -> bool | None:
        for kind, status in self.conditions:
            if kind == "Ready":
                return status == "True"
        return None


@dataclass(frozen=True, slots=True)
class EventRecord:
    namespace: str
    kind: str  # involved object kind
    name: str  # involved object name
    reason: str
    message: str
    count: int
    last_seen: str | None


@dataclass(frozen=True, slots=True)
class NodeUsage:
    """metrics.k8s.io usage, the fallback when node-exporter is absent."""

    node: str
    cpu_millis: int
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class PodUsage:
    """metrics.k8s.io usage of one pod, summed over its containers."""

    namespace: str
    pod: str
    cpu_millis: int
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class KubeSummary:
    """What the dashboard needs from the kube feed; the full slim store stays in the feed."""

    synced: bool  # initial list finished
    node_count: int
    pod_count: int
    not_ready_nodes: tuple[str, ...]
    pods_by_phase: tuple[tuple[str, int], ...]
    top_restarts: tuple[PodRecord, ...]  # most restarts first
    recent_warnings: tuple[EventRecord, ...]  # newest first
    list_path: str = ""  # how the pods were last synced: "streaming list (WatchList)" or "paged list"


@dataclass(frozen=True, slots=True)
class KubeObjects:
    """The kube feed's slim records at one moment, recorded so a replay's drill-downs can
    show node conditions, a node's pods and a pod's events (queries/kube_recorded.py)."""

    nodes: tuple[NodeRecord, ...]
    pods: tuple[PodRecord, ...]  # the pods on those nodes
    warnings: tuple[EventRecord, ...]  # Warning events about those pods and nodes
