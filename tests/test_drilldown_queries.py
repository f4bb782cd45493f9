"""Drill-down builders against a real Prometheus: the details equal what the scenario put in."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from drilldown_scenarios import DB_GROWTH, growing, incidents
from k8stop.queries.config import Settings
from k8stop.queries.drill.api import api_detail
from k8stop.queries.drill.common import RangeWindow, linear_fit
from k8stop.queries.drill.control_plane import control_plane_history
from k8stop.queries.drill.etcd import etcd_detail
from k8stop.queries.drill.node import node_history
from k8stop.queries.drill.pod import pod_restart_history
from k8stop.queries.model.values import Kind
from k8stop.queries.prom.builtin_alerts import builtin_alerts
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.etcd import etcd_facts
from scenario import Scenario

REL = 1e-3


async def _context(prometheus_for, scenario: Scenario) -> AsyncIterator[PromContext]:
    settings = Settings(prometheus_url=prometheus_for(scenario).url)
    async with PromClient.from_settings(settings) as client:
        yield PromContext(client, settings)


@pytest.fixture
async def ctx(prometheus_for) -> AsyncIterator[PromContext]:
    async for context in _context(prometheus_for, incidents()):
        yield context


@pytest.fixture
async def growing_ctx(prometheus_for) -> AsyncIterator[PromContext]:
    async for context in _context(prometheus_for, growing()):
        yield context


def window(points: int = 12) -> RangeWindow:
    return RangeWindow.ending(time.time(), 1800.0, points)


async def test_api_detail_list_storm(ctx: PromContext) -> None:
    s = incidents()
    detail, warnings = await api_detail(ctx, "LIST", "pods", window())
    assert warnings == ()
    lines = {line.label: line for line in detail.latency.lines}
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        last = lines[name].last
        assert last is not None and last.number == pytest.approx(s.expected_api_quantile("LIST", "pods", q), rel=REL)
    assert detail.latency.threshold == 0.1
    rate = detail.rate.lines[0].last
    assert rate is not None and rate.number == pytest.approx(300.0, rel=REL)
    assert detail.codes.throttled_429 == pytest.approx(40.0, rel=REL)
    assert detail.codes.server_5xx == 0.0 and detail.codes.client_4xx == 0.0
    assert detail.codes.total == pytest.approx(300.0, rel=REL)
    servers = len(s.apiserver_ips)
    assert len(detail.instances) == servers
    for inst in detail.instances:
        assert inst.rate == pytest.approx(300.0 / servers, rel=REL)
        assert inst.p99.number == pytest.approx(8.0, rel=REL)
        kinds = {i.request_kind: i for i in inst.inflight}
        assert kinds["readOnly"].current == s.inflight_readonly and kinds["readOnly"].limit == 400.0
    assert detail.apf[0].priority_level == "workload-low"
    assert detail.apf[0].rejected_rate == pytest.approx(20.0 * servers, rel=REL)


async def test_api_detail_saturated_quantile(ctx: PromContext) -> None:
    detail, _ = await api_detail(ctx, "LIST", "secrets", window(4))
    p99 = {line.label: line for line in detail.latency.lines}["p99"].last
    assert p99 is not None and p99.kind is Kind.AT_LEAST and p99.number == 60.0


async def test_etcd_detail_slow_member(ctx: PromContext) -> None:
    s = incidents()
    facts, _ = await etcd_facts(ctx, with_history=False)
    slow = facts.members[0]
    detail, _ = await etcd_detail(ctx, slow.instance, window(), slow)
    lines = {line.label: line for line in detail.disk.lines}
    fsync = lines["wal fsync p99"].last
    assert fsync is not None and fsync.number == pytest.approx(s.expected_etcd_quantile("etcd-b", "wal_fsync"), rel=REL)
    commit = lines["backend commit p99"].last
    assert commit is not None and commit.number == pytest.approx(0.35, rel=REL)
    assert detail.disk.threshold == 0.01
    assert detail.db_size.threshold == s.etcd[1].quota_bytes
    # No growth in this scenario: no time-to-quota, and the fit says so.
    assert detail.forecast is not None and detail.forecast.growth_bytes_per_s == pytest.approx(0.0, abs=1e-6)
    assert detail.forecast.seconds_left.kind is Kind.ABSENT
    assert {peer for peer, _ in detail.peer_rtt_p99} == {m.id for m in s.etcd if m.name != "etcd-b"}
    for _, rtt in detail.peer_rtt_p99:
        assert rtt.number == pytest.approx(s.expected_etcd_quantile("etcd-b", "peer_rtt"), rel=REL)
    assert "fio --name=etcd-test" in detail.guidance and "IOPS > 5000" in detail.guidance


async def test_etcd_time_to_quota(growing_ctx: PromContext) -> None:
    s = growing()
    facts, _ = await etcd_facts(growing_ctx, with_history=False)
    member = facts.members[0]
    detail, _ = await etcd_detail(growing_ctx, member.instance, window(), member)
    forecast = detail.forecast
    assert forecast is not None
    # Samples land on the 15 s scrape grid, not on the query steps: a fraction of a percent of jitter.
    assert forecast.growth_bytes_per_s == pytest.approx(DB_GROWTH, rel=1e-2)
    current = detail.db_size.lines[0].last
    assert current is not None
    expected = (s.etcd[0].quota_bytes - current.number) / DB_GROWTH
    assert forecast.seconds_left.number == pytest.approx(expected, rel=1e-2)
    assert forecast.seconds_left_low.number <= forecast.seconds_left.number <= forecast.seconds_left_high.number


def test_linear_fit_uncertainty() -> None:
    exact = linear_fit((0.0, 1.0, 2.0, 3.0), (1.0, 3.0, 5.0, 7.0))
    assert exact is not None and exact.slope == pytest.approx(2.0) and exact.slope_stderr == pytest.approx(0.0)
    noisy = linear_fit((0.0, 1.0, 2.0, 3.0), (1.0, 3.5, 4.5, 7.0))
    assert noisy is not None and noisy.slope_stderr > 0
    assert linear_fit((0.0, 1.0), (1.0, 2.0)) is None


async def test_node_history_saturated(ctx: PromContext) -> None:
    s = incidents()
    hot = s.nodes[2]
    history, _ = await node_history(ctx, hot.name, window())
    lines = {line.label: line for line in history.saturation.lines}
    assert lines["cpu"].last.number == pytest.approx(hot.cpu, rel=REL)
    assert lines["memory"].last.number == pytest.approx(hot.memory, rel=REL)
    assert lines["disk"].last.number == pytest.approx(hot.disk, rel=REL)
    assert history.load.lines[0].last.number == pytest.approx(3.5, rel=REL)
    assert history.saturation.threshold == 0.85


async def test_pod_restart_history(ctx: PromContext) -> None:
    s = incidents()
    pod = next(p for p in s.pods if p.containers[0].waiting_reason == "CrashLoopBackOff")
    chart, _ = await pod_restart_history(ctx, pod.namespace, pod.name, RangeWindow.ending(time.time(), 3000.0, 11))
    assert [line.label for line in chart.lines] == ["app"]
    values = [v.number for v in chart.lines[0].values]
    # 6 restarts an hour: the counter climbs 6 per hour across the window.
    assert values[-1] - values[0] == pytest.approx(6.0 * 3000.0 / 3600.0, abs=1.0)


async def test_control_plane_history(ctx: PromContext) -> None:
    s = incidents()
    history, _ = await control_plane_history(ctx, window(), ("endpoint_slice", "deployment"))
    pending = {line.label: line.last.number for line in history.pending.lines}
    assert pending == {queue: value for queue, value in s.scheduler.pending()}
    assert history.throughput.lines[0].last.number == pytest.approx(s.scheduler.binding_rate, rel=REL)
    assert history.throughput.threshold == 100.0
    assert history.attempt_p99.lines[0].last.number == pytest.approx(s.expected_scheduler_attempt_quantile(), rel=REL)
    assert {line.label for line in history.workqueue_depth.lines} == {"endpoint_slice", "deployment"}
    assert history.workqueue_depth.threshold == 1000.0


async def test_builtin_alerts_fire_on_incidents(ctx: PromContext) -> None:
    s = incidents()
    facts, _ = await builtin_alerts(ctx)
    assert facts.server_has_rules is False
    fired = {
        (
            a.name,
            dict(a.labels).get("instance")
            or dict(a.labels).get("node")
            or f"{dict(a.labels).get('verb')} {dict(a.labels).get('resource')}",
        ): a
        for a in facts.alerts
    }
    assert all(a.state == "firing" and a.source == "k8stop" for a in facts.alerts)
    assert facts.alerts[0].name == "EtcdDiskLatencyHigh"  # critical first
    etcd = {key for name, key in fired if name == "EtcdDiskLatencyHigh"}
    assert etcd == {"10.0.0.2:2379"}  # only the slow member's fsync p99 exceeds 10 ms
    nodes = {key for name, key in fired if name == "NodeCPUHigh"}
    assert nodes == {s.nodes[2].name}
    api = {key for name, key in fired if name == "APIServerLatencyHigh"}
    expected = {
        f"{r.verb} {r.resource}"
        for r in s.all_requests()
        if not r.excluded and s.expected_api_quantile(r.verb, r.resource) > 1.0
    }
    assert api == expected and "LIST pods" in api


async def test_builtin_alerts_quiet_when_healthy(prometheus) -> None:
    settings = Settings(prometheus_url=prometheus.url)
    async with PromClient.from_settings(settings) as client:
        facts, _ = await builtin_alerts(PromContext(client, settings))
    assert facts.alerts == ()
    assert Scenario.healthy() == prometheus.scenario
