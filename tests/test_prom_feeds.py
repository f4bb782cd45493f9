"""PrometheusFacts against a real Prometheus holding a scenario: facts equal what it put in.

Two incident-laden scenarios (both label conventions, both apiserver histograms, both
etcd DB size names, both scheduler attempt names) plus one without etcd and KSM that
carries alerting rules. Each server is started once per session.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.values import Kind, Value
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from prometheus_fixture import PrometheusHandle
from scenario import ApiRequest, Scenario

REL = 1e-3  # bucket interpolation is exact for the generated shapes; float noise only


def incidents(**overrides: object) -> Scenario:
    """A list storm, a slow etcd member, a CPU-saturated node and a crashloop at once."""
    storm = Scenario.list_storm(**overrides)
    huge_list = ApiRequest("LIST", "secrets", 1.0, 75.0, scope="cluster")  # p99 past the top bucket
    return replace(
        storm,
        name="incidents",
        requests=storm.requests + (huge_list,),
        etcd=Scenario.slow_etcd_member(**overrides).etcd,
        nodes=Scenario.cpu_saturated_node(**overrides).nodes,
        pods=Scenario.crashloop(**overrides).pods,
    )


CASES = {
    "kube-prometheus/sli": incidents(convention="kube-prometheus", apiserver_histogram="sli"),
    "generic/legacy": replace(
        incidents(convention="generic", apiserver_histogram="legacy", etcd_legacy_db_metric=True),
        scheduler=replace(Scenario().scheduler, legacy_metric=True),
    ),
}

ALERT_RULES = """
groups:
  - name: k8stop-test
    rules:
      - alert: EverythingOnFire
        expr: vector(1)
        labels: {severity: critical}
        annotations: {summary: "all is lost"}
      - alert: SlowlyGettingWorse
        expr: vector(1)
        for: 1h
        labels: {severity: warning}
"""
BARE = Scenario.healthy(name="bare", etcd_exposed=False, ksm_exposed=False)


@dataclass
class Case:
    handle: PrometheusHandle
    facts: PrometheusFacts
    client: PromClient

    @property
    def scenario(self) -> Scenario:
        return self.handle.scenario


@pytest.fixture(params=sorted(CASES))
async def case(request: pytest.FixtureRequest, prometheus_for) -> AsyncIterator[Case]:
    handle = prometheus_for(CASES[request.param])
    settings = Settings(prometheus_url=handle.url)
    async with PromClient.from_settings(settings) as client:
        yield Case(handle, PrometheusFacts(client, settings), client)


@pytest.fixture
async def bare(prometheus_for) -> AsyncIterator[Case]:
    handle = prometheus_for(BARE, rules=ALERT_RULES)
    settings = Settings(prometheus_url=handle.url)
    async with PromClient.from_settings(settings) as client:
        yield Case(handle, PrometheusFacts(client, settings), client)


def near(value: Value, expected: float) -> bool:
    return value.kind is Kind.NUMBER and value.number == pytest.approx(expected, rel=REL, abs=1e-9)


async def test_apiserver(case: Case) -> None:
    s = case.scenario
    facts, warnings = await case.facts.apiserver(columns=10, window=1200.0)
    assert warnings == ()
    assert facts.latency_metric == s.apiserver_metric
    stats = {(r.verb, r.resource): r for r in facts.requests}
    expected_pairs = {(r.verb, r.resource) for r in s.all_requests() if r.verb not in ("WATCH", "CONNECT")}
    assert set(stats) == expected_pairs
    for (verb, resource), stat in stats.items():
        assert stat.rate == pytest.approx(s.expected_api_qps(verb, resource), rel=REL)
        same = [r for r in s.all_requests() if (r.verb, r.resource) == (verb, resource)]
        assert stat.rate_429 == pytest.approx(sum(r.rate_429 for r in same), abs=1e-9)
        assert stat.rate_4xx == pytest.approx(sum(r.rate_4xx for r in same), abs=1e-9)
        assert stat.rate_5xx == pytest.approx(sum(r.rate_5xx for r in same), abs=1e-9)
        if (verb, resource) == ("LIST", "secrets"):
            assert stat.p99.kind is Kind.AT_LEAST and stat.p99.number == 60.0
            continue
        for field, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            assert near(getattr(stat, field), s.expected_api_quantile(verb, resource, q)), (verb, resource, field)
    # The storm is the busiest pair, and its p99 is the storm's, not the log/exec ones.
    assert (facts.requests[0].verb, facts.requests[0].resource) == ("LIST", "pods")
    assert near(facts.requests[0].p99, 8.0) and facts.requests[0].rate_429 == pytest.approx(40.0)
    assert facts.total_qps == pytest.approx(sum(r.qps for r in s.all_requests()), rel=REL)
    assert facts.error_ratio.number == pytest.approx(
        sum(r.rate_5xx for r in s.all_requests()) / facts.total_qps, abs=1e-12
    )

    servers = len(s.apiserver_ips)
    inflight = {i.request_kind: i for i in facts.inflight}
    # The busiest server against the per-server limit (the scenario gives each server the same).
    assert inflight["readOnly"].current == pytest.approx(s.inflight_readonly)
    assert inflight["mutating"].current == pytest.approx(s.inflight_mutating)
    assert (inflight["readOnly"].limit, inflight["mutating"].limit) == (400.0, 200.0)

    levels = {a.priority_level: a for a in facts.apf}
    assert set(levels) == {a.priority_level for a in s.apf}
    for a in s.apf:
        level = levels[a.priority_level]
        assert level.executing_seats == pytest.approx(a.executing_seats * servers)
        assert level.limit_seats == pytest.approx(a.nominal_limit_seats * servers)
        assert level.inqueue == pytest.approx(a.inqueue * servers)
        assert level.rejected_rate == pytest.approx(a.rejected_rate * servers, rel=REL)
    assert facts.apf[0].priority_level == "workload-low"  # saturated by the storm
    assert facts.apf_rejected_rate == pytest.approx(sum(a.rejected_rate for a in s.apf) * servers, rel=REL)

    heat = facts.heatmap
    assert heat is not None and heat.step == 120.0
    assert [(r.verb, r.resource) for r in heat.rows] == [(r.verb, r.resource) for r in facts.requests[:12]]
    for row in heat.rows:
        assert len(row.cells) == 10
        stat = stats[(row.verb, row.resource)]
        for cell in row.cells:
            assert cell.kind is stat.p99.kind and cell.number == pytest.approx(stat.p99.number, rel=REL)


async def test_refresh_query_budget(case: Case) -> None:
    await case.facts.apiserver(with_history=False)  # warms the name probe cache
    before = case.client.queries_sent
    api, _ = await case.facts.apiserver(with_history=False)
    etcd, _ = await case.facts.etcd(with_history=False)
    await case.facts.nodes(top=20)
    await case.facts.restarts()
    assert api.heatmap is None and all(m.wal_fsync_history == () for m in etcd.members)
    assert case.client.queries_sent - before == 5
    await case.facts.apiserver()
    await case.facts.etcd()
    assert case.client.queries_sent - before == 5 + 4  # plus one range query each


async def test_etcd(case: Case) -> None:
    s = case.scenario
    facts, warnings = await case.facts.etcd(columns=6, window=900.0)
    assert warnings == ()
    assert facts.db_size_metric == (
        "etcd_debugging_mvcc_db_total_size_in_bytes" if s.etcd_legacy_db_metric else "etcd_mvcc_db_total_size_in_bytes"
    )
    by_instance = {m.instance: m for m in facts.members}
    assert len(by_instance) == len(s.etcd)
    for member in s.etcd:
        labels = dict(s.labels.etcd(member.name, member.ip))
        got = by_instance[labels["instance"]]
        assert near(got.wal_fsync_p99, s.expected_etcd_quantile(member.name, "wal_fsync"))
        assert near(got.backend_commit_p99, s.expected_etcd_quantile(member.name, "backend_commit"))
        assert near(got.peer_rtt_p99, s.expected_etcd_quantile(member.name, "peer_rtt"))
        assert got.db_size_bytes.number == member.db_size_bytes
        assert got.quota_bytes.number == member.quota_bytes
        assert got.is_leader is member.is_leader and got.has_leader is True
        assert got.leader_changes_1h == pytest.approx(0.0)
        assert len(got.wal_fsync_history) == 6
        for cell in got.wal_fsync_history:
            assert cell.number == pytest.approx(got.wal_fsync_p99.number, rel=REL)
        for cell in got.backend_commit_history:
            assert cell.number == pytest.approx(got.backend_commit_p99.number, rel=REL)
    slow = s.etcd[1]
    assert facts.members[0].instance == dict(s.labels.etcd(slow.name, slow.ip))["instance"]
    assert near(facts.members[0].wal_fsync_p99, 0.2)


async def test_nodes_worst_first(case: Case) -> None:
    s = case.scenario
    facts, warnings = await case.facts.nodes(top=3)
    assert warnings == () and facts.source == "node-exporter"
    assert facts.total == len(s.nodes)
    ranked = sorted(s.nodes, key=lambda n: (-max(n.cpu, n.memory, n.disk), n.name))
    assert [n.node for n in facts.worst] == [n.name for n in ranked[:3]]
    assert facts.worst[0].node == s.nodes[2].name and near(facts.worst[0].cpu, 0.97)
    for got in facts.worst:
        node = s.node(got.node)
        assert near(got.cpu, node.cpu)
        assert near(got.memory, node.memory)
        assert near(got.disk, node.disk)  # root fs only: the full tmpfs must not count
        assert near(got.load1_per_cpu, node.load / node.cpus)


async def test_restarts_top(case: Case) -> None:
    s = case.scenario
    facts, warnings = await case.facts.restarts(top=2)
    assert warnings == () and facts.source == "kube-state-metrics"
    assert len(facts.top) == 2
    at = case.handle.seconds_since_anchor()
    for row in facts.top:
        assert row.namespace == "shop" and row.pod.startswith("checkout-")
        assert row.restarts_1h == pytest.approx(
            s.expected_restarts(row.namespace, row.pod, row.container, 3600, at), rel=0.02
        )
        assert row.restarts_15m == pytest.approx(
            s.expected_restarts(row.namespace, row.pod, row.container, 900, at), rel=0.02
        )
        assert row.waiting_reason == "CrashLoopBackOff"
        assert row.last_terminated_reason == "OOMKilled"


async def test_control_plane(case: Case) -> None:
    s = case.scenario
    facts, warnings = await case.facts.control_plane()
    assert warnings == ()
    sched = facts.scheduler
    assert sched is not None and sched.attempt_metric == s.scheduler.attempt_metric
    assert dict(sched.pending_by_queue) == dict(s.scheduler.pending())
    assert dict(sched.attempts_by_result) == pytest.approx(dict(s.scheduler.attempts()), rel=REL)
    assert near(sched.attempt_p99, s.expected_scheduler_attempt_quantile())
    assert near(sched.throughput, s.scheduler.binding_rate)
    assert [q.name for q in facts.workqueues] == sorted(
        (q.name for q in s.workqueues), key=lambda n: -next(w.adds_rate for w in s.workqueues if w.name == n)
    )
    for q in facts.workqueues:
        wq = next(w for w in s.workqueues if w.name == q.name)
        assert q.depth == wq.depth and q.adds_rate == pytest.approx(wq.adds_rate, rel=REL)
        assert near(q.work_p99, s.expected_workqueue_quantile(q.name, "work"))
        assert near(q.queue_p99, s.expected_workqueue_quantile(q.name, "queue"))
    assert near(facts.pod_start_p99, s.expected_pod_start_quantile())
    ops = {op.operation_type: op for op in facts.runtime_ops}
    assert set(ops) == {op.operation_type for op in s.kubelet.ops}
    for op in s.kubelet.ops:
        assert ops[op.operation_type].rate == pytest.approx(op.rate * len(s.nodes), rel=REL)
        assert near(ops[op.operation_type].p99, s.expected_runtime_op_quantile(op.operation_type))


async def test_no_rules_no_alerts(case: Case) -> None:
    facts, _ = await case.facts.alerts()
    assert facts.alerts == () and facts.server_has_rules is False


async def test_etcd_and_ksm_not_exposed(bare: Case) -> None:
    with pytest.raises(NotExposed, match="etcd metrics not exposed: managed control planes"):
        await bare.facts.etcd()
    with pytest.raises(NotExposed, match="kube-state-metrics not found"):
        await bare.facts.restarts()
    facts, _ = await bare.facts.nodes(top=2)  # the rest of the feed still works
    assert facts.total == len(BARE.nodes) and len(facts.worst) == 2


async def test_alerts_most_severe_first(bare: Case) -> None:
    facts = None
    for _ in range(100):  # the first rule evaluation happens a few seconds after start
        facts, _warnings = await bare.facts.alerts()
        if len(facts.alerts) == 2:
            break
        await asyncio.sleep(0.2)
    assert facts is not None and facts.server_has_rules is True
    assert [(a.name, a.state, a.severity) for a in facts.alerts] == [
        ("EverythingOnFire", "firing", "critical"),
        ("SlowlyGettingWorse", "pending", "warning"),
    ]
    assert facts.alerts[0].summary == "all is lost" and facts.alerts[0].value == "1e+00"
    assert facts.alerts[0].active_at is not None and not math.isnan(facts.alerts[0].active_at)


async def test_configured_selectors(case: Case) -> None:
    conv = case.scenario.labels
    settings = Settings(
        prometheus_url=case.handle.url,
        selectors=replace(
            Settings().selectors,
            apiserver=f'job="{conv.apiserver_job}"',
            node=f'job="{conv.node_job}"',
            etcd='job="no-such-etcd"',
        ),
    )
    facts = PrometheusFacts(case.client, settings)
    api, _ = await facts.apiserver(with_history=False)
    assert api.total_qps == pytest.approx(sum(r.qps for r in case.scenario.all_requests()), rel=REL)
    nodes, _ = await facts.nodes(top=1)
    assert nodes.total == len(case.scenario.nodes)
    with pytest.raises(NotExposed, match='none match selector job="no-such-etcd"'):
        await facts.etcd()
