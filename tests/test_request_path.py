"""The request path on the real Prometheus fixture: admission webhooks.

A slow webhook adds its latency to apiserver_request_duration_seconds only; the report must name
the webhook first and list the verbs it slows as its symptoms, with the numbers the scenario put in.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.finding import Component
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from k8stop.queries.report import Report, make_report, render_text
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.detail_screen import DetailScreen
from scenario import Scenario, Webhook, make_nodes
from screen import wait_for, wait_for_facts
from textual.widgets import Static

# A healthy cluster still has webhooks: fast ones, that deny now and then.
HEALTHY_WEBHOOKS = (
    Webhook("pod-policy.example.com", operations=("CREATE",), resources=("pods",), p99=0.02, rejection_rate=0.1),
    Webhook("defaults.example.com", operations=("CREATE", "UPDATE"), type="admit", p99=0.008),
)
REQUEST_PATH_RULES = ("webhook.", "apiserver.webhook_time")


def snapshot_of(prometheus_for, scenario: Scenario) -> tuple[ClusterSnapshot, Settings]:
    handle = prometheus_for(scenario)
    settings = Settings(prometheus_url=handle.url, use_kube=False)
    return asyncio.run(collect_snapshot(settings)), settings


def report_of(prometheus_for, scenario: Scenario) -> Report:
    snap, settings = snapshot_of(prometheus_for, scenario)
    return make_report(snap, settings)


@pytest.mark.parametrize("histogram", ["sli", "slo"])
def test_slow_webhook_is_the_cause_of_slow_writes(prometheus_for, histogram: str) -> None:
    scenario = Scenario.slow_webhook(
        "policy.example.com", p99=3.0, convention="generic", apiserver_histogram=histogram, webhooks=HEALTHY_WEBHOOKS
    )
    report = report_of(prometheus_for, scenario)
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.APISERVER, "policy.example.com")
    assert top.severity is Level.CRITICAL  # raised to its symptoms' severity (writes over the 1 s SLO)
    assert top.evidence[0].value == pytest.approx(scenario.expected_webhook_quantile("policy.example.com"), rel=0.02)
    # The slow verbs are its symptoms, with and without webhook time as the scenario wrote them.
    verbs = [f for f in report.findings if f.id.startswith("apiserver.webhook_time:")]
    assert {f.subject for f in verbs} == {"POST", "PUT"}  # PATCH only patches nodes/status here
    assert set(top.symptoms) >= {f.id for f in verbs}
    for f in verbs:
        assert f.caused_by == top.id and "likely caused by" in f.title
        assert f.evidence[0].value == pytest.approx(scenario.expected_verb_quantile(f.subject, True), rel=0.02)
        assert f.evidence[1].value == pytest.approx(scenario.expected_verb_quantile(f.subject, False), rel=0.02)
        assert histogram in f.evidence[1].query
    # The healthy webhooks raise nothing.
    assert not any(f.subject in {w.name for w in HEALTHY_WEBHOOKS} for f in report.findings)
    text = render_text(report)
    assert "policy.example.com" in text and "timeoutSeconds" in text and "failurePolicy" in text


def test_slow_webhook_with_legacy_histogram_explains_latency_findings(prometheus_for) -> None:
    """Without an SLI histogram the gap is unknown, but the slow write findings still name the
    webhook intercepting their verb as the cause, not etcd."""
    scenario = Scenario.slow_webhook(p99=4.0, convention="kube-prometheus", apiserver_histogram="legacy")
    report = report_of(prometheus_for, scenario)
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.APISERVER, "policy.example.com")
    writes = [f for f in report.findings if f.id.startswith("apiserver.latency:") and f.severity is Level.CRITICAL]
    assert {f.label_values("verb")[0] for f in writes} == {"POST", "PUT"}
    assert all(f.caused_by == top.id for f in writes)


def test_webhook_facts_match_the_scenario(prometheus_for) -> None:
    scenario = Scenario.slow_webhook(p99=3.0, convention="kube-prometheus", webhooks=HEALTHY_WEBHOOKS)
    snap, _ = snapshot_of(prometheus_for, scenario)
    facts = snap.request_path
    assert facts is not None and facts.sli_metric == "apiserver_request_sli_duration_seconds"
    seen = {(w.name, w.operation): w for w in facts.webhooks}
    for w in scenario.webhooks:
        for op in w.operations:
            stat = seen[(w.name, op)]
            assert stat.rate == pytest.approx(scenario.webhook_calls(w, op), rel=0.01)
            assert stat.p99.number == pytest.approx(scenario.expected_webhook_quantile(w.name), rel=0.02)
            assert stat.type == w.type
    assert facts.webhooks[0].name == "policy.example.com"  # slowest first
    denials = sum(s.rejection_rate for s in facts.webhooks if s.name == "pod-policy.example.com")
    assert denials == pytest.approx(0.1, rel=0.01)
    failures = sum(s.failure_rate for s in facts.webhooks if s.name == "policy.example.com")
    assert failures == pytest.approx(0.05, rel=0.01)


@pytest.mark.parametrize("histogram", ["sli", "legacy"])
def test_healthy_cluster_raises_no_request_path_finding(prometheus_for, histogram: str) -> None:
    scenario = Scenario.healthy(convention="generic", apiserver_histogram=histogram, webhooks=HEALTHY_WEBHOOKS)
    report = report_of(prometheus_for, scenario)
    assert report.snapshot.request_path is not None and report.snapshot.request_path.webhooks
    assert not [f.id for f in report.findings if f.id.startswith(REQUEST_PATH_RULES)]
    assert not [f for f in report.findings if f.severity > Level.INFO]


async def test_request_path_screen_at_80x24(prometheus_for) -> None:
    proxy = Scenario.slow_kube_proxy(node=1)  # and node-5's conntrack full: both change `nodes`
    nodes = tuple(replace(n, conntrack_used=0.93) if i == 4 else n for i, n in enumerate(proxy.nodes))
    scenario = (
        Scenario.slow_webhook("policy.example.com", p99=3.0, webhooks=HEALTHY_WEBHOOKS)
        .also(Scenario.list_storm())
        .also(Scenario.slow_dns(forward_p99=6.0))
        .also(replace(proxy, nodes=nodes))
    )
    app = K8sTopApp(Settings(prometheus_url=prometheus_for(scenario).url, use_kube=False, refresh=1.0), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_facts(pilot, "request_path", what="request path")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.texts), what="path")
        text = app.screen.text_of()
        slow = fmt_seconds(Value.of(scenario.expected_webhook_quantile("policy.example.com")))
        lines = [line for line in text.splitlines() if "policy.example.com" in line and "pod-policy" not in line]
        assert lines and all(line.lstrip().startswith("▲") and f" {slow:>7} " in line for line in lines)
        post = next(line for line in text.splitlines() if line.lstrip().startswith(("▲ POST", "● POST")))
        assert post.lstrip().startswith("▲")
        assert fmt_seconds(Value.of(scenario.expected_verb_quantile("POST", True))) in post
        assert fmt_seconds(Value.of(scenario.expected_verb_quantile("POST", False))) in post
        [storm] = [a for a in scenario.apf if a.rejected_rate > 0]
        flows = [line for line in text.splitlines() if f"{storm.flow_schema} / {storm.priority_level}" in line]
        wait = fmt_seconds(Value.of(scenario.expected_apf_wait_quantile(storm.flow_schema)))
        share = fmt_ratio(Value.of(storm.rejected_rate / (storm.rejected_rate + storm.dispatched_rate)))
        assert len(flows) == 1 and flows[0].lstrip().startswith("▲") and f"wait {wait:>7}" in flows[0]
        assert flows[0].endswith(f"429 {share}")
        assert f"pods {scenario.objects[0][1]:,.0f}" in text
        hour = next(line for line in text.splitlines() if " 1h " in line)
        assert f"1h {scenario.expected_burn_ratio() / 0.01:.1f}x" in hour
        [dns] = scenario.dns
        upstream = next(line for line in text.splitlines() if f"upstream {dns.upstream}" in line)
        assert upstream.lstrip().startswith("▲")
        assert f"p99 {fmt_seconds(Value.of(scenario.expected_dns_quantile(dns.server, forward=True))):>7}" in upstream
        server = next(line for line in text.splitlines() if f"{dns.server} {dns.zone}" in line)
        assert server.lstrip().startswith("▲") and f"fail {fmt_ratio(Value.of(dns.servfail_ratio)):>6}" in server
        slow, full = scenario.nodes[1], scenario.nodes[4]
        proxy = next(line for line in text.splitlines() if slow.name in line and "sync" in line)
        sync = fmt_seconds(Value.of(scenario.expected_proxy_quantile(slow.name, "sync")))
        assert proxy.lstrip().startswith("▲") and f"sync {sync:>7}" in proxy
        table = text.split("conntrack per node", 1)[1].splitlines()[1:]
        assert table[0].split() == ["▲", full.name, fmt_ratio(Value.of(full.conntrack_used)).split()[0], "%"]
        assert all(line.lstrip().startswith("●") for line in table[1:])
        # No line wraps at 80x24: 1 column of padding each side, 2 of scrollbar.
        assert [line for line in text.splitlines() if len(line) > 76] == []
        await pilot.press("escape")
        assert app.screen is app.dashboard
        await pilot.press("question_mark")
        await pilot.pause()
        assert "request path" in str(app.screen.query_one(Static).render())


@pytest.mark.parametrize("legacy_objects", [False, True])
def test_list_storm_names_its_flow_schema_and_priority_level(prometheus_for, legacy_objects: bool) -> None:
    scenario = Scenario.list_storm(
        convention="generic",
        legacy_object_counts=legacy_objects,
        objects=(("pods", 150_000.0), ("events", 4_000.0), ("services", 800.0)),
    )
    report = report_of(prometheus_for, scenario)
    [flow] = [a for a in scenario.apf if a.rejected_rate > 0]
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.APISERVER, f"flowschema/{flow.flow_schema}")
    assert top.severity is Level.CRITICAL and flow.priority_level in top.title
    servers = len(scenario.apiserver_ips)
    share = flow.rejected_rate / (flow.rejected_rate + flow.dispatched_rate)
    assert top.evidence[0].value == pytest.approx(share, rel=0.01)
    values = {e.detail: e for e in top.evidence}
    assert values["429/s"].value == pytest.approx(flow.rejected_rate * servers, rel=0.01)
    assert values["requests queued"].value == pytest.approx(flow.inqueue * servers)
    assert values["dispatched/s"].value == pytest.approx(flow.dispatched_rate * servers, rel=0.01)
    wait = values["queue wait p99"].value
    assert wait == pytest.approx(scenario.expected_apf_wait_quantile(flow.flow_schema), rel=0.02)
    assert all(f'flow_schema="{flow.flow_schema}"' in values[d].query for d in ("429/s", "requests queued"))
    objects = next(e for e in top.evidence if "pods objects" in e.detail)
    assert objects.value == 150_000.0
    assert ("etcd_object_counts" in objects.query) is legacy_objects
    # The storm and the saturation are its symptoms, in that order, each naming its cause.
    storm = next(f for f in report.findings if f.id.startswith("apiserver.heavy_traffic"))
    assert storm.caused_by == top.id and storm.id in top.symptoms
    assert f"likely caused by apiserver flowschema/{flow.flow_schema}" in storm.title
    assert "kubectl get flowschema" in top.recommendation
    # The other flows are healthy: no finding about them.
    assert [f.subject for f in report.findings if f.id.startswith("apf.")] == [top.subject]


@pytest.mark.parametrize("histogram", ["sli", "legacy"])
def test_error_budget_burn(prometheus_for, histogram: str) -> None:
    scenario = Scenario.error_budget_burn(0.05, convention="kube-prometheus", apiserver_histogram=histogram)
    report = report_of(prometheus_for, scenario)
    ratio = scenario.expected_burn_ratio()
    assert 0.06 < ratio < 0.144  # the 6h/30m pair fires (critical), the 1h/5m one does not
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.APISERVER, "error budget")
    assert top.severity is Level.CRITICAL and "over 6h and 30m" in top.title
    assert {e.detail.split(":")[0] for e in top.evidence} == {"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
    for e in top.evidence:
        assert e.value == pytest.approx(ratio, rel=0.01), e.detail
        assert scenario.apiserver_metric in e.query
    kpi = next(k for k in report.kpis if k.id == "apiserver.error_budget_burn")
    assert kpi.status is Level.FAIL and kpi.value.number == pytest.approx(ratio / 0.01, rel=0.01)
    assert "6h/30m x6" in kpi.detail
    # The 5xx behind it are their own (warning) finding, ranked after the budget.
    errors = next(f for f in report.findings if f.id.startswith("apiserver.errors_5xx"))
    assert errors.severity is Level.WARNING and report.findings.index(errors) > 0


def test_healthy_error_budget(prometheus_for) -> None:
    report = report_of(prometheus_for, Scenario.healthy(convention="generic"))
    kpi = next(k for k in report.kpis if k.id == "apiserver.error_budget_burn")
    assert kpi.status is Level.OK and kpi.value.number < 1.0
    assert not any(f.id.startswith("apiserver.error_budget_burn") for f in report.findings)


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
def test_slow_dns_upstream_is_the_cause(prometheus_for, convention: str) -> None:
    scenario = Scenario.slow_dns(forward_p99=6.0, convention=convention)
    report = report_of(prometheus_for, scenario)
    [dns] = scenario.dns
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.NETWORK, "coredns")
    assert top.id.startswith("dns.forward_latency:") and dns.upstream in top.title
    assert top.severity is Level.CRITICAL
    assert top.evidence[0].value == pytest.approx(scenario.expected_dns_quantile(dns.server, forward=True), rel=0.02)
    slow = next(f for f in report.findings if f.id.startswith("dns.latency:"))
    errors = next(f for f in report.findings if f.id.startswith("dns.errors:"))
    assert slow.caused_by == top.id and errors.caused_by == top.id
    assert set(top.symptoms) == {slow.id, errors.id}
    assert slow.evidence[0].value == pytest.approx(scenario.expected_dns_quantile(dns.server), rel=0.02)
    assert errors.evidence[0].value == pytest.approx(dns.servfail_ratio + dns.refused_ratio, rel=0.01)
    assert errors.severity is Level.CRITICAL  # 5 % SERVFAIL: past the mixin's 3 %
    cache = next(e for e in slow.evidence if e.detail == "cache hits")
    assert cache.value == pytest.approx(dns.cache_hit_ratio, rel=0.01)
    assert not any('job="' in e.query for f in report.findings for e in f.evidence)


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
def test_slow_kube_proxy_names_its_node(prometheus_for, convention: str) -> None:
    scenario = Scenario.slow_kube_proxy(node=1, sync_p99=12.0, programming_p99=45.0, convention=convention)
    report = report_of(prometheus_for, scenario)
    slow = scenario.nodes[1].name
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.NETWORK, slow)
    assert top.severity is Level.CRITICAL and top.id.startswith("proxy.slow:")
    values = {e.detail.split(";")[0]: e.value for e in top.evidence}
    assert values["rule sync p99"] == pytest.approx(scenario.expected_proxy_quantile(slow, "sync"), rel=0.02)
    programming = scenario.expected_proxy_quantile(slow, "programming")
    assert values["network programming p99"] == pytest.approx(programming, rel=0.02)
    assert [f.subject for f in report.findings if f.id.startswith("proxy.")] == [slow]


@pytest.mark.parametrize("convention", ["kube-prometheus", "node-info"])
def test_full_conntrack_names_its_node(prometheus_for, convention: str) -> None:
    scenario = Scenario.full_conntrack(node=4, used=0.93, convention=convention)
    report = report_of(prometheus_for, scenario)
    full = scenario.nodes[4]
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.NODE, full.name)
    assert top.severity is Level.CRITICAL and "conntrack" in top.title
    assert top.evidence[0].value == pytest.approx(full.conntrack_used, rel=0.001)
    assert "nf_conntrack_max" in top.recommendation
    assert [f.subject for f in report.findings if "conntrack" in f.id] == [full.name]


def test_full_cilium_map_names_its_node(prometheus_for) -> None:
    healthy = Scenario.healthy(convention="kube-prometheus")
    nodes = tuple(
        replace(n, bpf_maps=(("cilium_ct4_global", 0.95 if i == 2 else 0.2), ("cilium_lb4_services_v2", 0.01)))
        for i, n in enumerate(healthy.nodes)
    )
    report = report_of(prometheus_for, replace(healthy, name="full-bpf-map", nodes=nodes))
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.NODE, nodes[2].name)
    assert "cilium_ct4_global" in top.title and top.evidence[0].value == pytest.approx(0.95)
    assert len([f for f in report.findings if f.id.startswith("node.bpf_map_full")]) == 1


async def test_request_path_costs_two_queries_whatever_the_node_count(prometheus_for) -> None:
    """Webhooks, APF, objects, DNS and the burn ratios travel in one query, the worst nodes for
    kube-proxy and conntrack (named on the server) in a second: 2 per refresh at 6 or 40 nodes."""
    costs = []
    for count in (6, 40):
        s = Scenario.full_conntrack(node=4, nodes=make_nodes(count), convention="node-info")
        settings = Settings(prometheus_url=prometheus_for(s).url, use_kube=False)
        client = PromClient(settings.prometheus_url)
        try:
            facts = PrometheusFacts(client, settings)
            await facts.request_path()  # the metric-name probe, cached for minutes, is not per refresh
            before = client.queries_sent
            path, _ = await facts.request_path(with_burn=True)
            mid = client.queries_sent
            await facts.request_path(with_burn=False)
            costs.append((mid - before, client.queries_sent - mid))
        finally:
            await client.close()
        assert path.conntrack[0].node == s.nodes[4].name and len(path.conntrack) == 5
        assert len(path.proxies) == 5 and {p.node for p in path.proxies} <= {n.name for n in s.nodes}
        assert len(path.burn) == 7
    assert costs == [(2, 2), (2, 2)]
