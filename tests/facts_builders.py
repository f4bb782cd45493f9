"""Small builders for facts, so each test states only the numbers it is about."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from k8stop.queries.model.facts import (
    Alert,
    AlertsFacts,
    ApfLevel,
    ApiRequestStat,
    ApiserverFacts,
    ContainerRecord,
    ContainerRestarts,
    ControlPlaneFacts,
    EtcdFacts,
    EtcdMember,
    EventRecord,
    Inflight,
    KubeletOp,
    KubeSummary,
    NodeSaturation,
    NodesFacts,
    PodRecord,
    ResourceCommitment,
    RestartsFacts,
    SchedulerFacts,
    WorkloadsFacts,
    WorkQueue,
)
from k8stop.queries.model.request_path import BurnWindow, RequestPathFacts
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus
from k8stop.queries.model.values import Value

v = Value.of
MiB = 1024 * 1024
GiB = 1024 * MiB


def request(
    verb: str, resource: str, p99: float | Value, rate: float = 10.0, p50: float | None = None, rate_5xx: float = 0.0
) -> ApiRequestStat:
    p99v = p99 if isinstance(p99, Value) else v(p99)
    p50v = v(p50) if p50 is not None else (v(p99v.number / 4) if p99v.known else p99v)
    return ApiRequestStat(verb, resource, p50v, p50v, p99v, rate, 0.0, 0.0, rate_5xx)


def apiserver(
    requests: tuple[ApiRequestStat, ...] = (),
    error_ratio: Value | None = None,
    inflight: tuple[Inflight, ...] | None = None,
    apf: tuple[ApfLevel, ...] = (),
    apf_rejected_rate: float = 0.0,
) -> ApiserverFacts:
    total = sum(r.rate for r in requests)
    return ApiserverFacts(
        latency_metric="apiserver_request_sli_duration_seconds",
        requests=requests,
        total_qps=total,
        error_ratio=error_ratio if error_ratio is not None else v(0.0),
        inflight=inflight if inflight is not None else (Inflight("readOnly", 3, 400), Inflight("mutating", 1, 200)),
        apf=apf,
        apf_rejected_rate=apf_rejected_rate,
        heatmap=None,
    )


def healthy_requests() -> tuple[ApiRequestStat, ...]:
    return (
        request("GET", "pods", 0.02, 40),
        request("LIST", "pods", 0.06, 5),
        request("PATCH", "leases", 0.015, 20),
        request("POST", "events", 0.03, 2),
        request("WATCH", "pods", 60.0, 1),  # long-running: must never count as slow
    )


def member(
    instance: str,
    fsync: float | Value = 0.003,
    commit: float | Value = 0.008,
    db: float = 200 * MiB,
    quota: float = 2 * GiB,
    has_leader: bool | None = True,
    leader_changes: float | None = 0.0,
    rtt: float | Value = 0.001,
) -> EtcdMember:
    def val(x: float | Value) -> Value:
        return x if isinstance(x, Value) else v(x)

    return EtcdMember(
        instance, val(fsync), val(commit), v(db), v(quota), has_leader, None, leader_changes, val(rtt), (), ()
    )


def etcd(*members: EtcdMember) -> EtcdFacts:
    return EtcdFacts("etcd_mvcc_db_total_size_in_bytes", members)


def node(name: str, cpu: float = 0.3, memory: float = 0.4, disk: float = 0.3, load: float = 0.5) -> NodeSaturation:
    return NodeSaturation(name, v(cpu), v(memory), v(disk), v(load))


def nodes(*items: NodeSaturation) -> NodesFacts:
    return NodesFacts("node-exporter", items, len(items))


def restart(
    ns: str, pod: str, container: str = "app", r1h: float = 0.0, waiting: str | None = None, last: str | None = None
) -> ContainerRestarts:
    return ContainerRestarts(ns, pod, container, r1h, r1h / 4, waiting, last)


def restarts(*items: ContainerRestarts) -> RestartsFacts:
    return RestartsFacts("kube-state-metrics", items)


def pod(
    ns: str,
    name: str,
    node_name: str | None,
    restarts_: int = 0,
    waiting: str | None = None,
    last: str | None = None,
    exit_code: int | None = None,
    memory_limit: int = 0,
    container: str = "app",
) -> PodRecord:
    c = ContainerRecord(container, waiting is None, restarts_, waiting, last, exit_code, None)
    return PodRecord(
        ns, name, node_name, "Running", "ReplicaSet", f"{name}-rs", (c,), 100, 64 * MiB, 500, memory_limit, None
    )


def summary(
    pods: tuple[PodRecord, ...] = (), not_ready: tuple[str, ...] = (), events: tuple[EventRecord, ...] = ()
) -> KubeSummary:
    return KubeSummary(True, 3, len(pods), not_ready, (("Running", len(pods)),), pods, events)


def control_plane(
    pending: tuple[tuple[str, float], ...] = (("active", 0.0), ("backoff", 0.0), ("unschedulable", 0.0)),
    attempts: tuple[tuple[str, float], ...] = (("scheduled", 0.5),),
    throughput: float | Value = 0.5,
    queues: tuple[WorkQueue, ...] | None = None,
    pod_start: float | Value = 1.5,
    ops: tuple[KubeletOp, ...] | None = None,
) -> ControlPlaneFacts:
    tp = throughput if isinstance(throughput, Value) else v(throughput)
    ps = pod_start if isinstance(pod_start, Value) else v(pod_start)
    return ControlPlaneFacts(
        SchedulerFacts("scheduler_scheduling_attempt_duration_seconds", pending, attempts, v(0.01), tp),
        queues if queues is not None else (WorkQueue("deployment", 2, 1.0, v(0.01), v(0.002)),),
        ps,
        ops
        if ops is not None
        else (KubeletOp("create_container", v(0.4), 2.0, 0.0), KubeletOp("start_container", v(0.1), 2.0, 0.0)),
    )


def alert(
    name: str, severity: str = "warning", state: str = "firing", source: str = "prometheus", **labels: str
) -> Alert:
    return Alert(name, state, severity, tuple(labels.items()), f"{name} summary", 1_700_000_000.0, "1", source)


def request_path(burn: float = 0.002, **windows: float) -> RequestPathFacts:
    """No webhooks, flows or DNS; an error budget burning `burn` of requests in every window,
    except those given by name (e.g. `**{"1h": 0.2}`)."""
    burns = tuple(BurnWindow(w, v(windows.get(w, burn))) for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"))
    return RequestPathFacts(
        (),
        (),
        "apiserver_request_sli_duration_seconds",
        burn=burns,
        burn_metric="apiserver_request_sli_duration_seconds",
    )


OK = SourceStatus(SourceState.OK, url="http://prometheus:9090")


def workloads(cpu_requests: float = 3.0, memory_requests: float = 6 * GiB) -> WorkloadsFacts:
    """Three 4-core, 16 GiB nodes; nothing throttled or near a limit."""
    return WorkloadsFacts(
        "15m",
        commitments=(
            ResourceCommitment("cpu", cpu_requests, 12.0, 3, "worker-2", 4.0),
            ResourceCommitment("memory", memory_requests, 48 * GiB, 3, "worker-2", 16 * GiB),
        ),
    )


def healthy(**changes: Any) -> ClusterSnapshot:
    snap = ClusterSnapshot(
        taken_at=1_760_000_000.0,
        context="kind-test",
        version="v1.31.2",
        prometheus=OK,
        kube=SourceStatus(SourceState.OK),
        apiserver=apiserver(healthy_requests()),
        etcd=etcd(member("10.0.0.1:2379"), member("10.0.0.2:2379"), member("10.0.0.3:2379")),
        nodes=nodes(node("cp-1"), node("worker-1"), node("worker-2")),
        restarts=restarts(restart("default", "web-1")),
        control_plane=control_plane(),
        request_path=request_path(),
        alerts=AlertsFacts((alert("Watchdog", severity="none"),), True),
        kube_summary=summary(),
        workloads=workloads(),
    )
    return replace(snap, **changes)
