"""A synthetic cluster described as values: what the test Prometheus holds, and what to expect.

A `Scenario` is a frozen, hashable parameter set. `series_writer.write_openmetrics` turns
it into OpenMetrics history; the `expected_*` methods say what Prometheus will answer, so
tests assert against the scenario rather than against copied numbers. Incidents are just
other values; `incident_start` (seconds before the anchor, i.e. the moment the history was
generated) switches from `before` to this scenario part-way through the history.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, TypeVar

import histograms as h
from conventions import CONVENTIONS, Convention, ConventionName

GiB = 1024**3
T = TypeVar("T")
EXCLUDED_VERBS = frozenset({"WATCH", "CONNECT"})
MUTATING_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Long-running subresources k8stop must leave out of latency views (mixin / CL2 filter).
EXCLUDED_SUBRESOURCES = frozenset({"proxy", "attach", "log", "exec", "portforward"})


@dataclass(frozen=True, slots=True)
class ApiRequest:
    verb: str
    resource: str
    qps: float  # all codes, summed over every API server instance
    p99: float
    subresource: str = ""
    scope: str = "namespace"
    group: str = ""
    version: str = "v1"
    p50: float | None = None
    p90: float | None = None
    rate_4xx: float = 0.0  # code 404; 429s are counted only in rate_429
    rate_429: float = 0.0
    rate_5xx: float = 0.0  # code 500

    @property
    def excluded(self) -> bool:
        return self.verb in EXCLUDED_VERBS or self.subresource in EXCLUDED_SUBRESOURCES

    @property
    def success_code(self) -> str:
        return "201" if self.verb == "POST" else "200"

    def codes(self) -> tuple[tuple[str, float], ...]:
        ok = self.qps - self.rate_4xx - self.rate_429 - self.rate_5xx
        if ok < 0:
            raise ValueError(f"{self.verb} {self.resource}: error rates exceed qps")
        pairs = ((self.success_code, ok), ("404", self.rate_4xx), ("429", self.rate_429), ("500", self.rate_5xx))
        return tuple((code, rate) for code, rate in pairs if rate > 0 or code == self.success_code)

    def distribution(self, bounds: tuple[float, ...]) -> h.Distribution:
        return h.distribution(bounds, self.p99, self.p50, self.p90)


@dataclass(frozen=True, slots=True)
class DnsServer:
    """One CoreDNS server block (`server` label) answering one zone; every CoreDNS pod alike."""

    server: str = "dns://:53"
    zone: str = "."
    qps: float = 40.0  # per CoreDNS pod
    p99: float = 0.004
    servfail_ratio: float = 0.0
    refused_ratio: float = 0.0
    nxdomain_ratio: float = 0.1
    cache_hit_ratio: float = 0.7  # the misses go upstream through the forward plugin
    forward_p99: float = 0.02
    upstream: str = "10.0.0.53:53"


# kubernetes-mixin's error budget: verbs per class, and per scope the SLO a request must meet.
BUDGET_VERBS = {"read": ("LIST", "GET"), "write": ("POST", "PUT", "PATCH", "DELETE")}
READ_SLO_BY_SCOPE = {"resource": 1.0, "": 1.0, "namespace": 5.0, "cluster": 30.0}


# What an admission webhook's `operations` intercept (k8s admission attributes by verb).
OPERATION_VERBS = {"CREATE": ("POST",), "UPDATE": ("PUT", "PATCH"), "DELETE": ("DELETE",), "CONNECT": ("CONNECT",)}


@dataclass(frozen=True, slots=True)
class Webhook:
    """An admission webhook. Every request it intercepts waits `p99` longer in
    apiserver_request_duration_seconds, never in the SLI histogram (which excludes webhooks)."""

    name: str
    operations: tuple[str, ...] = ("CREATE",)
    resources: tuple[str, ...] = ()  # empty: every resource
    type: Literal["validating", "admit"] = "validating"  # admit = mutating webhooks
    p99: float = 0.02
    rejection_rate: float = 0.0  # denials by policy (error_type no_error), per second, summed over servers
    failure_rate: float = 0.0  # calls failing (code 500, calling_webhook_error), per second, summed over servers

    def operation_of(self, r: ApiRequest) -> str | None:
        """The operation under which this webhook sees `r`, or None when it does not."""
        if r.subresource or (self.resources and r.resource not in self.resources):
            return None
        return next((op for op in self.operations if r.verb in OPERATION_VERBS.get(op, ())), None)


@dataclass(frozen=True, slots=True)
class ApfLevel:
    priority_level: str
    flow_schema: str
    executing_seats: float  # per API server instance
    nominal_limit_seats: float
    inqueue: float = 0.0
    rejected_rate: float = 0.0  # per API server instance
    reason: str = "queue-full"
    dispatched_rate: float = 5.0  # per API server instance
    wait_p99: float = 0.004  # time in the queue before dispatch (or rejection)


@dataclass(frozen=True, slots=True)
class EtcdMember:
    name: str
    ip: str
    wal_fsync_p99: float = 0.004
    backend_commit_p99: float = 0.012
    peer_rtt_p99: float = 0.002
    db_size_bytes: float = 180e6  # at the anchor
    db_growth_bytes_per_s: float = 0.0
    quota_bytes: float = 2 * GiB
    is_leader: bool = False
    has_leader: bool = True
    leader_changes_per_hour: float = 0.0
    fsync_rate: float = 40.0
    commit_rate: float = 20.0
    member_id: str = ""  # peer RTT `To` label; derived from the name when empty

    @property
    def id(self) -> str:
        return self.member_id or uuid.uuid5(uuid.NAMESPACE_DNS, self.name).hex[:16]


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    ip: str
    cpus: int = 4
    cpu: float = 0.25  # utilisation 0-1 (1 - idle/iowait/steal)
    memory: float = 0.40  # 1 - MemAvailable/MemTotal
    disk: float = 0.35  # root filesystem used
    load1: float | None = None  # default: cpu * cpus
    memory_total_bytes: float = 16 * GiB
    root_size_bytes: float = 100 * GiB
    oom_kills_per_hour: float = 0.0
    disk_fill_seconds: float | None = None  # root filesystem full this long after the anchor (linear)
    inodes_used: float = 0.05  # root filesystem inodes in use
    inode_fill_seconds: float | None = None
    inodes_total: float = 6.5e6
    pleg_relist_p99: float = 0.05  # this node's kubelet
    evictions_per_hour: tuple[tuple[str, float], ...] = ()  # (eviction signal, pods evicted per hour)
    pressure: tuple[str, ...] = ()  # MemoryPressure, DiskPressure, PIDPressure conditions true
    conntrack_used: float = 0.12  # node_nf_conntrack_entries / node_nf_conntrack_entries_limit
    conntrack_limit: float = 262144.0
    proxy_sync_p99: float = 0.08  # kube-proxy rule sync
    proxy_programming_p99: float = 1.2  # kube-proxy network programming
    bpf_maps: tuple[tuple[str, float], ...] = ()  # Cilium (map name, pressure); () without Cilium
    # PSI "full" (node-exporter node_pressure_<resource>_stalled_seconds_total): share of time
    # every task was stalled on the resource
    psi_full: tuple[tuple[str, float], ...] = (("memory", 0.0), ("io", 0.01))
    ready_flaps_per_15m: float = 0.0  # changes of the Ready condition (kube_node_status_condition)
    # this node's container runtime: (operation type, p99 seconds), instead of Kubelet.ops'
    runtime_p99: tuple[tuple[str, float], ...] = ()
    system_reserved_cores: float = 0.1  # allocatable = cpus - this (kube_node_status_allocatable)
    system_reserved_bytes: float = 1 * GiB  # allocatable = memory_total_bytes - this

    @property
    def allocatable_cpu(self) -> float:
        return self.cpus - self.system_reserved_cores

    @property
    def allocatable_memory(self) -> float:
        return self.memory_total_bytes - self.system_reserved_bytes

    @property
    def load(self) -> float:
        return self.cpu * self.cpus if self.load1 is None else self.load1


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    restarts_per_hour: float = 0.0
    restarts_base: float = 0.0  # counter value at the start of the history
    waiting_reason: str | None = None
    last_terminated_reason: str | None = None
    # cAdvisor and the limits kube-state-metrics reports; None: no limit set
    cpu_limit: float | None = 1.0  # cores
    cpu_usage: float = 0.1  # cores
    throttled_ratio: float = 0.01  # share of CFS periods throttled (only with a CPU limit)
    memory_limit: float | None = 512 * 1024**2  # bytes
    memory_working_set: float = 128 * 1024**2  # bytes at the anchor
    memory_growth: float = 0.0  # bytes per second
    cpu_request: float | None = 0.1  # cores; None: no request set
    memory_request: float | None = 128 * 1024**2  # bytes
    previous_log: tuple[str, ...] = ()  # the last run's output (kube API pods/log?previous=true)


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    node: str
    containers: tuple[Container, ...]
    phase: str = "Running"
    owner_kind: str = "ReplicaSet"
    owner_name: str = ""
    ip: str = ""

    @property
    def uid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.namespace}/{self.name}"))

    def with_containers(self, **change: Any) -> Pod:
        """The pod with every container changed alike."""
        return replace(self, containers=tuple(replace(c, **change) for c in self.containers))


@dataclass(frozen=True, slots=True)
class Hpa:
    namespace: str
    name: str
    current: float
    desired: float
    min_replicas: float = 1.0
    max_replicas: float = 10.0


@dataclass(frozen=True, slots=True)
class Scheduler:
    pending_active: float = 0.0
    pending_backoff: float = 0.0
    pending_unschedulable: float = 0.0
    pending_gated: float = 0.0
    scheduled_rate: float = 5.0
    unschedulable_rate: float = 0.0
    error_rate: float = 0.0
    attempt_p99: float = 0.025
    bind_rate: float | None = None  # POST pods/binding code 201; default scheduled_rate
    legacy_metric: bool = False  # scheduler_e2e_scheduling_duration_seconds instead

    @property
    def binding_rate(self) -> float:
        return self.scheduled_rate if self.bind_rate is None else self.bind_rate

    @property
    def attempt_metric(self) -> str:
        if self.legacy_metric:
            return "scheduler_e2e_scheduling_duration_seconds"
        return "scheduler_scheduling_attempt_duration_seconds"

    def attempts(self) -> tuple[tuple[str, float], ...]:
        return (
            ("scheduled", self.scheduled_rate),
            ("unschedulable", self.unschedulable_rate),
            ("error", self.error_rate),
        )

    def pending(self) -> tuple[tuple[str, float], ...]:
        return (
            ("active", self.pending_active),
            ("backoff", self.pending_backoff),
            ("unschedulable", self.pending_unschedulable),
            ("gated", self.pending_gated),
        )


@dataclass(frozen=True, slots=True)
class WorkQueue:
    name: str
    depth: float = 0.0
    adds_rate: float = 2.0
    work_p99: float = 0.01
    queue_p99: float = 0.0005


@dataclass(frozen=True, slots=True)
class RuntimeOp:
    operation_type: str
    rate: float  # per node
    p99: float
    error_rate: float = 0.0  # per node


@dataclass(frozen=True, slots=True)
class Kubelet:
    """Every node's kubelet reports these same values."""

    pod_start_p99: float = 2.5
    pod_start_rate: float = 0.05  # per node
    ops: tuple[RuntimeOp, ...] = (
        RuntimeOp("run_podsandbox", 0.02, 0.8),
        RuntimeOp("create_container", 0.03, 0.3),
        RuntimeOp("start_container", 0.03, 0.4),
        RuntimeOp("list_containers", 0.5, 0.012),
        RuntimeOp("container_status", 1.0, 0.008),
        RuntimeOp("exec_sync", 0.2, 0.2),
    )


def changed(items: tuple[T, ...], pick: Callable[[T], bool], change: Callable[[T], T], what: str = "") -> tuple[T, ...]:
    """`items` with `change` applied to the ones `pick` selects. With `what`, selecting none is
    an error naming it (an incident that changes nothing would test nothing)."""
    out = tuple(change(x) if pick(x) else x for x in items)
    if what and out == items:
        raise ValueError(f"no {what} in the scenario")
    return out


def default_requests() -> tuple[ApiRequest, ...]:
    return (
        ApiRequest("GET", "pods", 40.0, 0.08, rate_4xx=0.5),
        ApiRequest("GET", "nodes", 12.0, 0.07, scope="resource"),
        ApiRequest("GET", "configmaps", 6.0, 0.06),
        ApiRequest("LIST", "pods", 8.0, 0.35),
        ApiRequest("LIST", "nodes", 2.0, 0.25, scope="cluster"),
        ApiRequest("LIST", "services", 3.0, 0.12, scope="cluster"),
        ApiRequest("LIST", "endpointslices", 4.0, 0.15, group="discovery.k8s.io"),
        ApiRequest("POST", "pods", 3.0, 0.18),
        ApiRequest("PATCH", "nodes", 6.0, 0.09, subresource="status", scope="resource"),
        ApiRequest("PUT", "leases", 10.0, 0.07, group="coordination.k8s.io"),
        ApiRequest("DELETE", "pods", 2.0, 0.15),
        ApiRequest("POST", "events", 5.0, 0.09, group="events.k8s.io"),
        # Long-running: views must exclude these or they swamp every p99.
        ApiRequest("WATCH", "pods", 1.0, 90.0),
        ApiRequest("CONNECT", "pods", 0.2, 30.0, subresource="exec"),
        ApiRequest("GET", "pods", 0.5, 20.0, subresource="log"),
    )


def default_apf() -> tuple[ApfLevel, ...]:
    return (
        ApfLevel("system", "system-nodes", 2.0, 30.0),
        ApfLevel("leader-election", "system-leader-election", 1.0, 25.0),
        ApfLevel("workload-high", "kube-controller-manager", 3.0, 49.0),
        ApfLevel("workload-low", "service-accounts", 5.0, 98.0),
        ApfLevel("global-default", "global-default", 1.0, 24.0),
        ApfLevel("catch-all", "catch-all", 0.0, 5.0),
    )


def default_etcd() -> tuple[EtcdMember, ...]:
    return (
        EtcdMember("etcd-a", "10.0.0.1", is_leader=True),
        EtcdMember("etcd-b", "10.0.0.2", wal_fsync_p99=0.005, backend_commit_p99=0.014),
        EtcdMember("etcd-c", "10.0.0.3", wal_fsync_p99=0.0045, backend_commit_p99=0.011),
    )


def make_nodes(count: int, cpus: int = 4) -> tuple[Node, ...]:
    """node-1..node-N with slightly different healthy loads so ordering is deterministic."""
    return tuple(
        Node(
            f"node-{i}",
            f"10.0.{1 + (i - 1) // 250}.{1 + (i - 1) % 250}",
            cpus=cpus,
            cpu=0.20 + 0.03 * (i % 7),
            memory=0.35 + 0.02 * (i % 5),
            disk=0.30 + 0.01 * (i % 9),
        )
        for i in range(1, count + 1)
    )


def deployment_pods(
    namespace: str, deployment: str, replicas: int, nodes: tuple[Node, ...], container: Container, first_node: int = 0
) -> tuple[Pod, ...]:
    replicaset = f"{deployment}-7d9f8b6c5d"
    suffixes = ("x2k9p", "m4q7z", "b8n3v", "r5t6w", "h7j2c", "p9d4f", "z3s8l", "q6w1e")
    return tuple(
        Pod(
            namespace,
            f"{replicaset}-{suffixes[i % len(suffixes)]}",
            nodes[(first_node + i) % len(nodes)].name,
            (container,),
            owner_name=replicaset,
            ip=f"10.244.{(first_node + i) % len(nodes)}.{10 + i}",
        )
        for i in range(replicas)
    )


def default_pods(nodes: tuple[Node, ...]) -> tuple[Pod, ...]:
    return (
        deployment_pods("kube-system", "coredns", 2, nodes, Container("coredns"))
        + deployment_pods("kube-system", "metrics-server", 1, nodes, Container("metrics-server"), first_node=2)
        + deployment_pods("shop", "frontend", 3, nodes, Container("web"), first_node=1)
        + deployment_pods("shop", "cart", 2, nodes, Container("app", restarts_base=2.0), first_node=3)
        # Healthy here; Scenario.crashloop() makes it crash.
        + deployment_pods("shop", "checkout", 3, nodes, Container("app", restarts_base=4.0), first_node=4)
    )


def default_workqueues() -> tuple[WorkQueue, ...]:
    return (
        WorkQueue("deployment", adds_rate=1.5),
        WorkQueue("replicaset", adds_rate=2.0),
        WorkQueue("endpoint_slice", adds_rate=4.0, work_p99=0.02),
        WorkQueue("garbage_collector_attempt_to_delete", adds_rate=0.5, work_p99=0.05),
        WorkQueue("node_lifecycle_controller", adds_rate=1.0, work_p99=0.004),
    )


_DEFAULT_NODES = make_nodes(6)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str = "healthy"
    convention: ConventionName = "kube-prometheus"
    apiserver_histogram: Literal["sli", "slo", "legacy"] = "sli"
    apiserver_ips: tuple[str, ...] = ("10.0.0.1", "10.0.0.2")
    requests: tuple[ApiRequest, ...] = field(default_factory=default_requests)
    inflight_readonly: float = 12.0  # per API server instance
    inflight_mutating: float = 3.0  # per API server instance
    apf: tuple[ApfLevel, ...] = field(default_factory=default_apf)
    webhooks: tuple[Webhook, ...] = ()
    # Objects stored per resource (every API server reports the same counts).
    objects: tuple[tuple[str, float], ...] = (("pods", 240.0), ("events", 1800.0), ("configmaps", 90.0))
    legacy_object_counts: bool = False
    dns: tuple[DnsServer, ...] = (DnsServer(),)
    coredns_ips: tuple[str, ...] = (
        "10.244.0.10",
        "10.244.1.11",
    )  # etcd_object_counts (before 1.21) instead of apiserver_storage_objects
    etcd_exposed: bool = True
    etcd_legacy_db_metric: bool = False
    etcd: tuple[EtcdMember, ...] = field(default_factory=default_etcd)
    nodes: tuple[Node, ...] = _DEFAULT_NODES
    node_exporter_exposed: bool = True  # False: no node_* series (metrics-server only)
    kubelet_exposed: bool = True  # False also keeps huge synthetic clusters small
    ksm_exposed: bool = True
    ksm_v1: bool = False  # kube-state-metrics 1.x families (_limits_cpu_cores, kube_hpa_*)
    hpas: tuple[Hpa, ...] = ()
    cadvisor_exposed: bool = True
    pods: tuple[Pod, ...] = field(default_factory=lambda: default_pods(_DEFAULT_NODES))
    scheduler: Scheduler = Scheduler()
    workqueues: tuple[WorkQueue, ...] = field(default_factory=default_workqueues)
    kubelet: Kubelet = Kubelet()
    git_version: str = "v1.29.3"
    history: float = 3600.0  # seconds of samples before the anchor
    future: float = 900.0  # seconds of samples after it, so "now" stays covered
    step: float = 30.0  # a common scrape interval; rate()[5m] still sees 10 samples
    incident_start: float | None = None  # seconds before the anchor
    before: Scenario | None = None  # the cluster before incident_start
    # Pending pods' latest FailedScheduling event (kube API only): (namespace, pod, message)
    failed_scheduling: tuple[tuple[str, str, str], ...] = ()
    # Scrape targets Prometheus cannot reach, (job, instance): `up` is 0 and their other series absent
    down_targets: tuple[tuple[str, str], ...] = ()

    # --- catalogue ----------------------------------------------------------------------

    @classmethod
    def healthy(cls, **overrides: object) -> Scenario:
        return cls(**overrides)  # type: ignore[arg-type]

    @classmethod
    def slow_etcd_member(
        cls,
        member: int = 1,
        fsync_p99: float = 0.2,
        commit_p99: float = 0.35,
        write_p99: float | None = None,
        **overrides: object,
    ) -> Scenario:
        """One member's disk slow; with `write_p99`, every mutating request waits that long on it."""
        base = cls.healthy(**overrides)
        members = tuple(
            replace(m, wal_fsync_p99=fsync_p99, backend_commit_p99=commit_p99) if i == member else m
            for i, m in enumerate(base.etcd)
        )
        requests = base.requests
        if write_p99 is not None:
            requests = tuple(
                replace(r, p99=write_p99, p90=None, p50=None) if r.verb in MUTATING_VERBS and not r.excluded else r
                for r in requests
            )
        return base._incident("slow-etcd-member", etcd=members, requests=requests)

    @classmethod
    def list_storm(cls, **overrides: object) -> Scenario:
        base = cls.healthy(**overrides)
        requests = tuple(
            replace(r, qps=300.0, p99=8.0, p90=3.0, p50=1.0, rate_429=40.0)
            if (r.verb, r.resource) == ("LIST", "pods")
            else replace(r, p99=min(r.p99 * 3, 60.0))
            if not r.excluded
            else r
            for r in base.requests
        )
        apf = tuple(
            replace(
                a,
                executing_seats=a.nominal_limit_seats,
                inqueue=150.0,
                rejected_rate=20.0,
                dispatched_rate=130.0,
                wait_p99=8.0,
            )
            if a.priority_level == "workload-low"
            else a
            for a in base.apf
        )
        return base._incident("list-storm", requests=requests, apf=apf, inflight_readonly=400.0, inflight_mutating=60.0)

    @classmethod
    def slow_requests(
        cls, verb: str = "LIST", resource: str = "pods", factor: float = 50.0, **overrides: object
    ) -> Scenario:
        """One (verb, resource) gets `factor` times slower, at the same rate."""
        base = cls.healthy(**overrides)
        requests = changed(
            base.requests,
            lambda r: (r.verb, r.resource, r.subresource) == (verb, resource, ""),
            lambda r: replace(r, p99=min(r.p99 * factor, 59.0), p50=None, p90=None),
            f"{verb} {resource} requests",
        )
        return base._incident("slow-requests", requests=requests)

    @classmethod
    def cpu_saturated_node(cls, node: int = 2, **overrides: object) -> Scenario:
        base = cls.healthy(**overrides)
        nodes = tuple(replace(n, cpu=0.97, load1=3.5 * n.cpus) if i == node else n for i, n in enumerate(base.nodes))
        return base._incident("cpu-saturated-node", nodes=nodes)

    @classmethod
    def oom_node(cls, node: int = 3, **overrides: object) -> Scenario:
        base = cls.healthy(**overrides)
        target = base.nodes[node]
        nodes = tuple(
            replace(n, memory=0.97, oom_kills_per_hour=6.0) if i == node else n for i, n in enumerate(base.nodes)
        )
        pods = changed(
            base.pods,
            lambda p: p.node == target.name,
            lambda p: p.with_containers(restarts_per_hour=3.0, last_terminated_reason="OOMKilled"),
        )
        return base._incident("oom-node", nodes=nodes, pods=pods)

    @classmethod
    def disk_filling(
        cls, node: int = 2, used: float = 0.78, minutes_to_full: float = 20.0, inodes: bool = False, **overrides: object
    ) -> Scenario:
        """One node's root filesystem (space, or inodes) at `used` and filling linearly, full
        `minutes_to_full` after the anchor."""
        base = cls.healthy(**overrides)
        change = (
            {"inodes_used": used, "inode_fill_seconds": minutes_to_full * 60}
            if inodes
            else {"disk": used, "disk_fill_seconds": minutes_to_full * 60}
        )
        nodes = tuple(replace(n, **change) if i == node else n for i, n in enumerate(base.nodes))  # type: ignore[arg-type]
        return base._incident("inodes-filling" if inodes else "disk-filling", nodes=nodes)

    @classmethod
    def sick_kubelet(
        cls,
        node: int = 1,
        pleg_relist_p99: float = 0.05,
        evictions_per_hour: tuple[tuple[str, float], ...] = (),
        pressure: tuple[str, ...] = (),
        **overrides: object,
    ) -> Scenario:
        """One node's kubelet: slow PLEG relists, evictions by signal, pressure conditions."""
        base = cls.healthy(**overrides)
        nodes = tuple(
            replace(n, pleg_relist_p99=pleg_relist_p99, evictions_per_hour=evictions_per_hour, pressure=pressure)
            if i == node
            else n
            for i, n in enumerate(base.nodes)
        )
        return base._incident("sick-kubelet", nodes=nodes)

    @classmethod
    def crashloop(
        cls, namespace: str = "shop", deployment: str = "checkout", restarts_per_hour: float = 6.0, **overrides: object
    ) -> Scenario:
        """Every container of the deployment's pods (shop/checkout exists, healthy, by default)."""
        base = cls.healthy(**overrides)
        return base._change_containers(
            namespace,
            deployment,
            "crashloop",
            restarts_per_hour=restarts_per_hour,
            waiting_reason="CrashLoopBackOff",
            last_terminated_reason="OOMKilled",
        )

    @classmethod
    def scheduler_backlog(
        cls, failed_scheduling: tuple[tuple[str, str, str], ...] = (), **overrides: object
    ) -> Scenario:
        """800 pods unschedulable; `failed_scheduling` are their events' (namespace, pod, message)."""
        base = cls.healthy(failed_scheduling=failed_scheduling, **overrides)
        scheduler = replace(
            base.scheduler,
            pending_active=40.0,
            pending_backoff=120.0,
            pending_unschedulable=800.0,
            scheduled_rate=2.0,
            unschedulable_rate=30.0,
            error_rate=0.5,
            attempt_p99=1.2,
        )
        return base._incident("scheduler-backlog", scheduler=scheduler)

    @classmethod
    def overcommitted(
        cls, cpu_request: float = 2.0, memory_request: float | None = None, **overrides: object
    ) -> Scenario:
        """Every container requests `cpu_request` cores (and `memory_request` bytes when given):
        sized so the requests fit the cluster but not the cluster less its largest node."""
        base = cls.healthy(**overrides)
        change: dict[str, float] = {"cpu_request": cpu_request}
        if memory_request is not None:
            change["memory_request"] = memory_request
        pods = tuple(replace(p, containers=tuple(replace(c, **change) for c in p.containers)) for p in base.pods)  # type: ignore[arg-type]
        return base._incident("overcommitted", pods=pods)

    def _change_containers(self, namespace: str, deployment: str, name: str, **changes: object) -> Scenario:
        """Every container of the deployment's pods changed; the deployment must exist."""
        owner = f"{deployment}-7d9f8b6c5d"
        pods = changed(
            self.pods,
            lambda p: (p.namespace, p.owner_name) == (namespace, owner),
            lambda p: p.with_containers(**changes),
            f"pods of {namespace}/{deployment}",
        )
        return self._incident(name, pods=pods)

    @classmethod
    def cpu_throttled(
        cls,
        namespace: str = "shop",
        deployment: str = "frontend",
        throttled_ratio: float = 0.6,
        cpu_limit: float = 0.5,
        **overrides: object,
    ) -> Scenario:
        """The deployment's containers run at their CPU limit and are throttled that share of periods."""
        base = cls.healthy(**overrides)
        return base._change_containers(
            namespace,
            deployment,
            "cpu-throttled",
            cpu_limit=cpu_limit,
            cpu_usage=cpu_limit,
            throttled_ratio=throttled_ratio,
        )

    @classmethod
    def memory_leak(
        cls,
        namespace: str = "shop",
        deployment: str = "cart",
        ratio: float = 0.92,
        minutes_to_limit: float = 20.0,
        memory_limit: float = 1024**3,
        **overrides: object,
    ) -> Scenario:
        """The deployment's containers at `ratio` of their memory limit, growing to reach it in
        `minutes_to_limit` from the anchor."""
        base = cls.healthy(**overrides)
        used = ratio * memory_limit
        return base._change_containers(
            namespace,
            deployment,
            "memory-leak",
            memory_limit=memory_limit,
            memory_working_set=used,
            memory_growth=(memory_limit - used) / (minutes_to_limit * 60.0),
        )

    @classmethod
    def slow_webhook(
        cls,
        name: str = "policy.example.com",
        p99: float = 3.0,
        operations: tuple[str, ...] = ("CREATE", "UPDATE"),
        **overrides: object,
    ) -> Scenario:
        """A validating webhook on every resource answering in `p99`: writes it intercepts slow
        down in apiserver_request_duration_seconds while the SLI histogram stays healthy."""
        base = cls.healthy(**overrides)
        slow = Webhook(name, operations=operations, p99=p99, failure_rate=0.05)
        return base._incident("slow-webhook", webhooks=(*base.webhooks, slow))

    @classmethod
    def error_budget_burn(cls, error_ratio: float = 0.05, **overrides: object) -> Scenario:
        """Every read and write answers `error_ratio` of its requests with 5xx: below the 5xx
        finding's critical limit, but a budget burn kubernetes-mixin pages for."""
        base = cls.healthy(**overrides)
        requests = tuple(
            replace(r, rate_5xx=r.qps * error_ratio) if r.verb in BUDGET_VERBS["read"] + BUDGET_VERBS["write"] else r
            for r in base.requests
        )
        return base._incident("error-budget-burn", requests=requests)

    @classmethod
    def slow_dns(cls, forward_p99: float = 6.0, **overrides: object) -> Scenario:
        """The upstream resolver is slow: cache misses wait on it, so CoreDNS answers slowly and
        some lookups fail with SERVFAIL."""
        base = cls.healthy(**overrides)
        dns = tuple(replace(d, forward_p99=forward_p99, p99=forward_p99, servfail_ratio=0.05) for d in base.dns)
        return base._incident("slow-dns", dns=dns)

    @classmethod
    def slow_kube_proxy(
        cls, node: int = 1, sync_p99: float = 12.0, programming_p99: float = 45.0, **overrides: object
    ) -> Scenario:
        """One node's kube-proxy takes seconds per rule sync, so Service changes reach it late."""
        base = cls.healthy(**overrides)
        nodes = tuple(
            replace(n, proxy_sync_p99=sync_p99, proxy_programming_p99=programming_p99) if i == node else n
            for i, n in enumerate(base.nodes)
        )
        return base._incident("slow-kube-proxy", nodes=nodes)

    @classmethod
    def full_conntrack(cls, node: int = 4, used: float = 0.93, **overrides: object) -> Scenario:
        """One node's conntrack table nearly full: new connections through it start to drop."""
        base = cls.healthy(**overrides)
        nodes = tuple(replace(n, conntrack_used=used) if i == node else n for i, n in enumerate(base.nodes))
        return base._incident("full-conntrack", nodes=nodes)

    def also(self, other: Scenario) -> Scenario:
        """This incident and `other` at once: what `other` changed in a healthy cluster of its
        convention is applied on top of this one (incidents touching different parts)."""
        healthy = Scenario.healthy(convention=other.convention, apiserver_histogram=other.apiserver_histogram)
        changed = {
            f.name: getattr(other, f.name)
            for f in fields(Scenario)
            if f.name not in ("name", "incident_start", "before") and getattr(other, f.name) != getattr(healthy, f.name)
        }
        return replace(self, name=f"{self.name}+{other.name}", **changed)  # type: ignore[arg-type]

    def starting(self, seconds_before_anchor: float, before: Scenario | None = None) -> Scenario:
        """This scenario from `seconds_before_anchor`; earlier, `before` (default healthy)."""
        if not 0 < seconds_before_anchor < self.history:
            raise ValueError("the incident must start inside the history window")
        previous = (
            before
            if before is not None
            else Scenario.healthy(
                convention=self.convention,
                apiserver_histogram=self.apiserver_histogram,
                etcd_exposed=self.etcd_exposed,
                ksm_exposed=self.ksm_exposed,
                node_exporter_exposed=self.node_exporter_exposed,
                kubelet_exposed=self.kubelet_exposed,
                etcd_legacy_db_metric=self.etcd_legacy_db_metric,
                history=self.history,
                future=self.future,
                step=self.step,
            )
        )
        return replace(self, incident_start=seconds_before_anchor, before=previous)

    def _incident(self, name: str, **changes: object) -> Scenario:
        return replace(self, name=name, **changes)  # type: ignore[arg-type]

    # --- what Prometheus will answer ----------------------------------------------------

    @property
    def labels(self) -> Convention:
        return CONVENTIONS[self.convention]

    @property
    def apiserver_metric(self) -> str:
        if self.apiserver_histogram == "sli":
            return "apiserver_request_sli_duration_seconds"
        if self.apiserver_histogram == "slo":
            return "apiserver_request_slo_duration_seconds"
        return "apiserver_request_duration_seconds"

    @property
    def apiserver_buckets(self) -> tuple[float, ...]:
        if self.apiserver_histogram in ("sli", "slo"):
            return h.APISERVER_SLI_BUCKETS
        return h.APISERVER_LEGACY_BUCKETS

    def all_requests(self) -> tuple[ApiRequest, ...]:
        """The configured requests plus the scheduler's pods/binding POSTs."""
        binding = ApiRequest("POST", "pods", self.scheduler.binding_rate, 0.05, subresource="binding")
        return self.requests + ((binding,) if binding.qps > 0 else ())

    def expected_api_quantile(
        self, verb: str, resource: str, q: float = 0.99, bounds: tuple[float, ...] | None = None
    ) -> float:
        """histogram_quantile over sum by (verb, resource, le), long-running excluded."""
        bounds = bounds or self.apiserver_buckets
        parts = [
            (r.qps, r.distribution(bounds))
            for r in self.all_requests()
            if r.verb == verb and r.resource == resource and not r.excluded
        ]
        return h.expected_quantile(q, h.merge(parts)) if parts else math.nan

    def webhook_delay(self, r: ApiRequest) -> float:
        """Seconds the webhooks add to `r` (they run one after another)."""
        return sum(w.p99 for w in self.webhooks if w.operation_of(r) is not None)

    def with_webhooks(self, r: ApiRequest) -> ApiRequest:
        """`r` as apiserver_request_duration_seconds sees it: webhook time included."""
        delay = self.webhook_delay(r)
        return replace(r, p99=r.p99 + delay, p50=None, p90=None) if delay > 0 else r

    def expected_verb_quantile(self, verb: str, with_webhooks: bool, q: float = 0.99) -> float:
        """histogram_quantile over sum by (verb, le) of the duration histogram (webhooks
        included) or the SLI one, long-running requests excluded."""
        bounds = h.APISERVER_LEGACY_BUCKETS if with_webhooks else h.APISERVER_SLI_BUCKETS
        parts = [
            (r.qps, (self.with_webhooks(r) if with_webhooks else r).distribution(bounds))
            for r in self.all_requests()
            if r.verb == verb and not r.excluded
        ]
        return h.expected_quantile(q, h.merge(parts)) if parts else math.nan

    def expected_burn_ratio(self) -> float:
        """kubernetes-mixin's burn ratio, read and write summed: (too slow + 5xx) / all, where
        too slow reads the latency histogram's bucket at the request's SLO."""
        total_ratio = 0.0
        for kind, verbs in BUDGET_VERBS.items():
            requests = [r for r in self.all_requests() if r.verb in verbs]
            total = sum(r.qps for r in requests)
            errors = sum(r.rate_5xx for r in requests)
            slow = 0.0
            for r in requests:
                if r.excluded:
                    continue
                slo = 1.0 if kind == "write" else READ_SLO_BY_SCOPE.get(r.scope, math.inf)
                measured = r if self.apiserver_histogram != "legacy" else self.with_webhooks(r)
                fast = dict(measured.distribution(self.apiserver_buckets)).get(slo, 0.0)
                slow += r.qps * (1 - fast)
            total_ratio += (slow + errors) / total if total > 0 else 0.0
        return total_ratio

    def expected_proxy_quantile(self, node: str, metric: Literal["sync", "programming"], q: float = 0.99) -> float:
        n = self.node(node)
        if metric == "sync":
            return h.expected_quantile(q, h.distribution(h.SCHEDULER_BUCKETS, n.proxy_sync_p99))
        return h.expected_quantile(q, h.distribution(h.PROXY_PROGRAMMING_BUCKETS, n.proxy_programming_p99))

    def expected_dns_quantile(self, server: str, forward: bool = False, q: float = 0.99) -> float:
        d = next(d for d in self.dns if d.server == server)
        return h.expected_quantile(q, h.distribution(h.DNS_BUCKETS, d.forward_p99 if forward else d.p99))

    def webhook_calls(self, w: Webhook, operation: str) -> float:
        """Calls per second to `w` under `operation`, summed over API servers."""
        return sum(r.qps for r in self.all_requests() if w.operation_of(r) == operation)

    def webhook_calls_total(self, w: Webhook) -> float:
        return sum(self.webhook_calls(w, op) for op in w.operations)

    def expected_apf_wait_quantile(self, flow_schema: str, q: float = 0.99) -> float:
        a = next(a for a in self.apf if a.flow_schema == flow_schema)
        return h.expected_quantile(q, h.distribution(h.APF_WAIT_BUCKETS, a.wait_p99))

    def expected_webhook_quantile(self, name: str, q: float = 0.99) -> float:
        w = next(w for w in self.webhooks if w.name == name)
        return h.expected_quantile(q, h.distribution(h.WEBHOOK_BUCKETS, w.p99))

    def expected_api_qps(self, verb: str, resource: str) -> float:
        return sum(r.qps for r in self.all_requests() if (r.verb, r.resource) == (verb, resource))

    def etcd_member(self, name: str) -> EtcdMember:
        return next(m for m in self.etcd if m.name == name)

    def expected_etcd_quantile(
        self, member: str, metric: Literal["wal_fsync", "backend_commit", "peer_rtt"] = "wal_fsync", q: float = 0.99
    ) -> float:
        m = self.etcd_member(member)
        if metric == "peer_rtt":
            return h.expected_quantile(q, h.distribution(h.ETCD_PEER_RTT_BUCKETS, m.peer_rtt_p99))
        p99 = m.wal_fsync_p99 if metric == "wal_fsync" else m.backend_commit_p99
        return h.expected_quantile(q, h.distribution(h.ETCD_DISK_BUCKETS, p99))

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def container(self, namespace: str, pod: str, container: str) -> Container | None:
        for p in self.pods:
            if (p.namespace, p.name) == (namespace, pod):
                return next((c for c in p.containers if c.name == container), None)
        return None

    def expected_restarts(self, namespace: str, pod: str, container: str, window: float, at: float = 0.0) -> float:
        """increase(restarts[window]) evaluated `at` seconds after the anchor."""

        def rate(s: Scenario | None) -> float:
            c = s.container(namespace, pod, container) if s is not None else None
            return c.restarts_per_hour / 3600.0 if c is not None else 0.0

        end, start = at, at - window
        if self.incident_start is None:
            return rate(self) * window
        switch = -self.incident_start
        before_part = max(0.0, min(end, switch) - start)
        return rate(self.before) * before_part + rate(self) * (window - before_part)

    def expected_workqueue_quantile(
        self, name: str, metric: Literal["work", "queue"] = "work", q: float = 0.99
    ) -> float:
        wq = next(w for w in self.workqueues if w.name == name)
        p99 = wq.work_p99 if metric == "work" else wq.queue_p99
        return h.expected_quantile(q, h.distribution(h.WORKQUEUE_BUCKETS, p99))

    def expected_scheduler_attempt_quantile(self, q: float = 0.99) -> float:
        return h.expected_quantile(q, h.distribution(h.SCHEDULER_BUCKETS, self.scheduler.attempt_p99))

    def expected_pod_start_quantile(self, q: float = 0.99) -> float:
        return h.expected_quantile(q, h.distribution(h.POD_START_BUCKETS, self.kubelet.pod_start_p99))

    def expected_runtime_op_quantile(self, operation_type: str, q: float = 0.99) -> float:
        op = next(o for o in self.kubelet.ops if o.operation_type == operation_type)
        return h.expected_quantile(q, h.distribution(h.RUNTIME_OPS_BUCKETS, op.p99))


@dataclass(frozen=True, slots=True)
class Fleet:
    """Several clusters in one query backend (Thanos, Mimir...), told apart by `label`: each
    scenario's series carry label=<name> in place of their convention's external labels."""

    clusters: tuple[tuple[str, Scenario], ...]
    label: str = "cluster"

    def cluster(self, name: str) -> Scenario:
        return dict(self.clusters)[name]

    @property
    def future(self) -> float:
        """How long after the anchor every cluster's history lasts."""
        return min(s.future for _, s in self.clusters)
