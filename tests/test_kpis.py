"""The KPI scorecard against facts built in the test: values, statuses and unknown reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest
from facts_builders import (
    GiB,
    apiserver,
    control_plane,
    etcd,
    healthy,
    healthy_requests,
    member,
    node,
    nodes,
    request,
    request_path,
    workloads,
)
from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ApfLevel, Inflight, KubeletOp
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.queries.model.values import ABSENT, NO_TRAFFIC, Kind, Value
from k8stop.queries.rules.kpis import Kpi, compute_kpis
from report_schema import HEADLINE_KPIS

T = Thresholds()
REQUIRED = (
    *HEADLINE_KPIS,
    "etcd.peer_rtt_p99",
    "etcd.db_quota_ratio",
    "controller.workqueue_depth_max",
    "controller.work_duration_p99_max",
    "kubelet.runtime_ops_error_rate",
)


def kpis(snap: ClusterSnapshot) -> dict[str, Kpi]:
    return {k.id: k for k in compute_kpis(snap, T)}


def test_healthy_cluster_scores_ok_everywhere() -> None:
    result = kpis(healthy())
    assert set(REQUIRED) <= set(result)
    assert {k.id: k.status for k in result.values() if k.status is not Level.OK} == {}
    # WATCH stays open for minutes by design; the worst real request is LIST pods at 60 ms.
    latency = result["apiserver.request_latency_p99"]
    assert latency.value == Value.of(0.06) and "LIST pods" in latency.detail
    assert result["etcd.db_quota_ratio"].value.number == pytest.approx(200 / 2048)
    assert result["apiserver.qps"].value.number == pytest.approx(68.0)


def test_no_traffic_latency_is_unknown_not_zero() -> None:
    idle = apiserver((request("GET", "pods", NO_TRAFFIC, rate=0.0),))
    k = kpis(healthy(apiserver=idle))["apiserver.request_latency_p99"]
    assert k.status is Level.UNKNOWN
    assert k.value.kind is Kind.NO_TRAFFIC and k.value.or_none() is None
    assert "no traffic" in k.detail


def test_at_least_above_the_slo_fails_and_below_target_is_unknown() -> None:
    storm = apiserver(healthy_requests() + (request("LIST", "secrets", Value.quantile(60.0, 60.0), 2.0),))
    k = kpis(healthy(apiserver=storm))["apiserver.request_latency_p99"]
    assert k.status is Level.FAIL and k.value.kind is Kind.AT_LEAST and "LIST secrets" in k.detail
    # A lower bound under the target proves nothing either way.
    bounded = etcd(member("m1", fsync=Value(Kind.AT_LEAST, 0.004)))
    k = kpis(healthy(etcd=bounded))["etcd.wal_fsync_p99"]
    assert k.status is Level.UNKNOWN and "lower bound" in k.detail


def test_list_is_graded_against_30s_and_mutating_against_1s() -> None:
    slow_list = apiserver((request("LIST", "pods", 2.0),))
    assert kpis(healthy(apiserver=slow_list))["apiserver.request_latency_p99"].status is Level.WARN
    slow_put = apiserver((request("PUT", "pods", 2.0),))
    assert kpis(healthy(apiserver=slow_put))["apiserver.request_latency_p99"].status is Level.FAIL


@pytest.mark.parametrize(("fsync", "status"), [(0.004, Level.OK), (0.08, Level.WARN), (0.6, Level.FAIL)])
def test_etcd_fsync_worst_member(fsync: float, status: Level) -> None:
    snap = healthy(etcd=etcd(member("a:2379"), member("b:2379", fsync=fsync), member("c:2379")))
    k = kpis(snap)["etcd.wal_fsync_p99"]
    assert k.status is status and k.value == Value.of(fsync) and "b:2379" in k.detail


def test_etcd_not_exposed_is_unknown_with_reason() -> None:
    reason = "etcd not exposed by this control plane"
    snap = healthy(etcd=None, feeds=(("etcd", FeedStatus(FeedState.NOT_EXPOSED, reason)),))
    result = kpis(snap)
    for kid in ("etcd.wal_fsync_p99", "etcd.backend_commit_p99", "etcd.peer_rtt_p99", "etcd.db_quota_ratio"):
        assert result[kid].status is Level.UNKNOWN
        assert result[kid].value.or_none() is None
        assert result[kid].detail == reason
    empty = kpis(healthy(etcd=etcd()))["etcd.wal_fsync_p99"]
    assert empty.status is Level.UNKNOWN and "not exposed" in empty.detail


def test_prometheus_disabled_invents_nothing() -> None:
    snap = ClusterSnapshot(
        1.0, "ctx", None, SourceStatus(SourceState.DISABLED, "--no-prometheus"), SourceStatus(SourceState.OK)
    )
    for k in compute_kpis(snap, T):
        assert k.status is Level.UNKNOWN, k.id
        assert k.value.or_none() is None
        assert "Prometheus disabled" in k.detail


def test_feed_error_reason_is_carried() -> None:
    snap = healthy(nodes=None, feeds=(("nodes", FeedStatus(FeedState.ERROR, "connection refused")),))
    k = kpis(snap)["node.cpu_utilisation_max"]
    assert k.status is Level.UNKNOWN and "connection refused" in k.detail


def test_qps_is_capacity_ok_unless_saturated_below_target() -> None:
    assert kpis(healthy())["apiserver.qps"].status is Level.OK
    saturated = apiserver(healthy_requests(), apf_rejected_rate=3.0, apf=(ApfLevel("workload-low", 10, 10, 40, 3.0),))
    k = kpis(healthy(apiserver=saturated))["apiserver.qps"]
    assert k.status is Level.WARN and "saturated" in k.detail
    full = apiserver(healthy_requests(), inflight=(Inflight("readOnly", 395, None),))
    assert kpis(healthy(apiserver=full))["apiserver.qps"].status is Level.WARN


def test_scheduler_throughput_warns_only_with_waiting_pods() -> None:
    waiting = control_plane(pending=(("active", 250.0), ("backoff", 0.0), ("unschedulable", 0.0)), throughput=4.0)
    k = kpis(healthy(control_plane=waiting))["scheduler.throughput"]
    assert k.status is Level.WARN and "250" in k.detail
    assert kpis(healthy(control_plane=control_plane(throughput=0.0)))["scheduler.throughput"].status is Level.OK


@pytest.mark.parametrize(("cpu", "status"), [(0.84, Level.OK), (0.9, Level.WARN), (0.97, Level.FAIL)])
def test_node_cpu(cpu: float, status: Level) -> None:
    snap = healthy(nodes=nodes(node("a"), node("hot", cpu=cpu)))
    k = kpis(snap)["node.cpu_utilisation_max"]
    assert k.status is status and k.value == Value.of(cpu)


def test_db_quota_needs_both_series() -> None:
    near = etcd(member("a", db=1.7 * GiB, quota=2 * GiB))
    assert kpis(healthy(etcd=near))["etcd.db_quota_ratio"].status is Level.WARN
    snap = healthy(etcd=etcd(replace(member("a"), quota_bytes=ABSENT)))
    k = kpis(snap)["etcd.db_quota_ratio"]
    assert k.status is Level.UNKNOWN and k.value.or_none() is None


@pytest.mark.parametrize(("p99", "status"), [(4.0, Level.OK), (6.0, Level.WARN), (31.0, Level.FAIL)])
def test_pod_startup_slo_and_seed(p99: float, status: Level) -> None:
    k = kpis(healthy(control_plane=control_plane(pod_start=p99)))["kubelet.pod_startup_p99"]
    assert k.status is status


def test_runtime_errors_and_workqueues() -> None:
    ops = (
        KubeletOp("create_container", Value.of(3.0), 2.0, 0.1),
        KubeletOp("start_container", Value.of(0.1), 2.0, 0.0),
    )
    result = kpis(healthy(control_plane=control_plane(ops=ops)))
    errors = result["kubelet.runtime_ops_error_rate"]
    assert errors.status is Level.WARN and errors.value.number == pytest.approx(0.1 / 4.0)
    assert result["kubelet.container_create_p99"].status is Level.WARN
    idle = kpis(healthy(control_plane=control_plane(ops=(KubeletOp("create_container", NO_TRAFFIC, 0.0, 0.0),))))
    assert idle["kubelet.runtime_ops_error_rate"].status is Level.UNKNOWN
    assert idle["kubelet.container_create_p99"].status is Level.UNKNOWN


def test_error_budget_burn_grades_by_the_worst_firing_window_pair() -> None:
    # 1h burns 20x but 5m only 10x: the 1h/5m x14.4 pair holds; 6h 7x and 30m 10x fire the x6 pair.
    burning = request_path(0.001, **{"1h": 0.2, "5m": 0.1, "6h": 0.07, "30m": 0.1})
    k = kpis(healthy(request_path=burning))["apiserver.error_budget_burn"]
    assert k.status is Level.FAIL and k.value.number == pytest.approx(20.0) and "6h/30m x6" in k.detail
    slow = request_path(0.001, **{"3d": 0.015, "6h": 0.012})
    k = kpis(healthy(request_path=slow))["apiserver.error_budget_burn"]
    assert k.status is Level.WARN and "3d/6h x1" in k.detail
    assert kpis(healthy(request_path=None))["apiserver.error_budget_burn"].status is Level.UNKNOWN


def test_requests_past_n_minus_one_warn_and_past_all_allocatable_fail() -> None:
    # 3 x 4 cores: 8 left without the largest node; 9 cores requested warn, 13 fail.
    warn = kpis(healthy(workloads=workloads(cpu_requests=9.0)))["node.cpu_requests_n1"]
    assert warn.status is Level.WARN and warn.value.number == pytest.approx(9.0 / 8.0)
    assert "largest node worker-2" in warn.detail and "KubeCPUOvercommit" in warn.detail
    fail = kpis(healthy(workloads=workloads(cpu_requests=13.0)))["node.cpu_requests_n1"]
    assert fail.status is Level.FAIL
    assert kpis(healthy())["node.memory_requests_n1"].value.number == pytest.approx(6 / 32)
    missing = kpis(healthy(workloads=None))["node.cpu_requests_n1"]
    assert missing.status is Level.UNKNOWN and missing.detail
