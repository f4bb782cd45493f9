"""The direct path: the API server's own /metrics through the kube API when no Prometheus
answers. Against the kube-API test server serving a scenario's API server numbers (its 1/n
share per instance), Debian's Prometheus where one is needed, Pilot at 80x24."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import histograms as h
import orjson
import pytest
from faulty_proxy import Fault as ProxyFault
from faulty_proxy import FaultyProxy, Misbehaviour
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.kube.connection import connect
from k8stop.queries.kube.metrics_scrape import (
    ApiserverScraper,
    apiserver_from,
    etcd_from,
    interval,
    parse_scrape,
    wanted,
)
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.facts import SOURCE_APISERVER_METRICS, SOURCE_PROMETHEUS
from k8stop.queries.model.quantile import histogram_quantile
from k8stop.queries.model.units import fmt_seconds
from k8stop.tui.app import K8sTopApp
from kubeapi import Fault, ThreadedKubeApiServer, write_kubeconfig
from kubeapi.from_scenario import cluster_from_scenario
from prometheus_fixture import start_prometheus
from scenario import Scenario
from screen import screen_text, wait_for

STORM = Scenario.list_storm()
HEALTHY = Scenario.healthy()


def storm_cluster() -> Any:
    return cluster_from_scenario(STORM)


def healthy_cluster() -> Any:
    return cluster_from_scenario(HEALTHY)


# --- histogram_quantile ---------------------------------------------------------------------


def test_histogram_quantile_follows_prometheus() -> None:
    inf = math.inf
    # Linear interpolation inside the bucket the rank falls in; the first bucket starts at 0.
    assert histogram_quantile(0.5, [(1.0, 50.0), (2.0, 100.0), (inf, 100.0)]) == pytest.approx(1.0)
    assert histogram_quantile(0.75, [(1.0, 50.0), (2.0, 100.0), (inf, 100.0)]) == pytest.approx(1.5)
    assert histogram_quantile(0.25, [(1.0, 50.0), (2.0, 100.0), (inf, 100.0)]) == pytest.approx(0.5)
    # A rank in +Inf: the highest finite bound, a lower bound.
    assert histogram_quantile(0.99, [(1.0, 10.0), (2.0, 20.0), (inf, 100.0)]) == 2.0
    # No traffic, no +Inf bucket, a single bucket: NaN.
    assert math.isnan(histogram_quantile(0.99, [(1.0, 0.0), (inf, 0.0)]))
    assert math.isnan(histogram_quantile(0.99, [(1.0, 5.0), (2.0, 10.0)]))
    assert math.isnan(histogram_quantile(0.99, [(inf, 10.0)]))
    # q outside [0, 1]
    assert histogram_quantile(-0.1, [(1.0, 1.0), (inf, 1.0)]) == -inf
    assert histogram_quantile(1.1, [(1.0, 1.0), (inf, 1.0)]) == inf
    # Unsorted input, and counters read a moment apart that dip: made monotonic, not rejected.
    assert histogram_quantile(0.5, [(inf, 100.0), (2.0, 100.0), (1.0, 50.0)]) == pytest.approx(1.0)
    assert histogram_quantile(0.9, [(1.0, 50.0), (2.0, 49.0), (4.0, 100.0), (inf, 100.0)]) == pytest.approx(3.6)
    # Equal bounds (two series summed by le) add up.
    assert histogram_quantile(0.5, [(1.0, 25.0), (1.0, 25.0), (2.0, 100.0), (inf, 100.0)]) == pytest.approx(1.0)


@pytest.mark.parametrize("p99", [0.03, 0.07, 0.35, 1.1, 8.0, 59.0, 75.0])
def test_histogram_quantile_matches_the_reference_on_scenario_shapes(p99: float) -> None:
    """The scenario's distributions, checked against tests/histograms.py's copy of
    Prometheus' bucketQuantile (which the Prometheus tests check against the server)."""
    for bounds in (h.APISERVER_SLI_BUCKETS, h.APISERVER_LEGACY_BUCKETS):
        buckets = tuple((le, 37.0 * frac) for le, frac in h.distribution(bounds, p99))
        for q in (0.5, 0.9, 0.99):
            assert histogram_quantile(q, buckets) == pytest.approx(h.expected_quantile(q, buckets), rel=1e-12)


# --- the scraper against the kube-API test server -------------------------------------------


@pytest.mark.parametrize("kube_api", [storm_cluster], indirect=True)
async def test_scrape_rates_and_quantiles_equal_the_scenario(kube_api: ThreadedKubeApiServer, tmp_path: Path) -> None:
    share = len(STORM.apiserver_ips)  # one instance answers: its share of the traffic
    connection = await connect(str(write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)))
    try:
        scraper = ApiserverScraper(connection)
        first = await scraper.latest(max_age=0)
        assert first.before is None and "since the API server process started" in first.note
        await asyncio.sleep(1.0)
        span = await scraper.latest(max_age=0)
        assert span.before is not None and "rates over the last" in span.note
        for current in (first, span):
            facts = apiserver_from(current, {"readOnly": 400.0}, scraper.server)
            assert facts.source == SOURCE_APISERVER_METRICS and "whichever API server answered" in facts.source_note
            stats = {(r.verb, r.resource): r for r in facts.requests}
            storm = stats[("LIST", "pods")]
            assert storm.p99.number == pytest.approx(STORM.expected_api_quantile("LIST", "pods"), rel=1e-6)
            assert storm.rate == pytest.approx(STORM.expected_api_qps("LIST", "pods") / share, rel=0.05)
            assert storm.rate_429 == pytest.approx(40.0 / share, rel=0.05)
            get = stats[("GET", "pods")]
            assert get.p99.number == pytest.approx(STORM.expected_api_quantile("GET", "pods"), rel=1e-6)
            assert not any(r.verb in ("WATCH", "CONNECT") for r in facts.requests)
            assert {i.request_kind: i.current for i in facts.inflight} == {
                "readOnly": STORM.inflight_readonly,
                "mutating": STORM.inflight_mutating,
            }
            low = next(a for a in facts.apf if a.priority_level == "workload-low")
            assert low.inqueue == 150.0 and low.rejected_rate == pytest.approx(20.0, rel=0.05)
        # The heatmap grows one column per scrape interval.
        facts = apiserver_from(span, {}, scraper.server)
        heat = scraper.heatmap(facts, span)
        assert heat is not None and heat.rows[0].cells[-1] == facts.requests[0].p99
        etcd = etcd_from(span, scraper.server)
        assert "not visible" in etcd.source_note and etcd.members == ()
        lists = next(s for s in etcd.api_requests if s.type == "/registry/pods" and s.operation == "listWithCount")
        assert lists.p99.number == pytest.approx(STORM.expected_api_quantile("LIST", "pods") / 2, rel=0.02)
        pods = next(s for s in etcd.stored if s.resource == "pods")
        assert pods.objects == len(STORM.pods)
        assert scraper.requests == 2 and scraper.bytes_read > 0
    finally:
        await connection.close()
    metrics = [r for r in kube_api.requests if r.path == "/metrics"]
    assert len(metrics) == 2 and all(r.method == "GET" and r.accept == "text/plain" for r in metrics)


async def test_forbidden_metrics_names_the_missing_rbac_rule(kube_api: ThreadedKubeApiServer, tmp_path: Path) -> None:
    kube_api.inject(Fault(r"^/metrics$", status=403))
    connection = await connect(str(write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)))
    try:
        with pytest.raises(FeedError, match=r'nonResourceURLs: \["/metrics"\], verbs: \["get"\]'):
            await ApiserverScraper(connection).latest(max_age=0)
    finally:
        await connection.close()


# --- end to end -------------------------------------------------------------------------------


def k8stop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "K8STOP_PROMETHEUS_URL")}
    env["HOME"] = str(cwd)
    return subprocess.run(
        [sys.executable, "-m", "k8stop.tui.cli", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


@pytest.mark.parametrize("kube_api", [storm_cluster], indirect=True)
def test_report_without_prometheus_finds_the_list_storm(kube_api: ThreadedKubeApiServer, tmp_path: Path) -> None:
    """Only a kubeconfig: the cluster's Prometheus Service has no endpoints (discovery finds it,
    every query fails), so the API server's own /metrics answers."""
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)
    done = k8stop("report", "--format", "json", "--kubeconfig", str(kubeconfig), cwd=tmp_path)
    # The discovered Prometheus failed while the kube API answered: a partial report (exit 4)
    assert done.returncode == 4, done.stderr
    assert "a configured source failed: Prometheus" in done.stderr
    doc = orjson.loads(done.stdout)
    kpis = {k["id"]: k for k in doc["kpis"]}
    latency = kpis["apiserver.request_latency_p99"]
    assert latency["value"] == pytest.approx(STORM.expected_api_quantile("LIST", "pods"), rel=1e-6)
    assert f"source: {SOURCE_APISERVER_METRICS}" in latency["detail"]
    assert "since the API server process started" in latency["detail"]
    assert "not visible" in kpis["etcd.wal_fsync_p99"]["detail"]
    top = next(f for f in doc["findings"] if f["component"] == "apiserver")
    assert top["id"] == "apiserver.heavy_traffic:LIST pods" and top["severity"] == "critical"
    assert all(e["query"].startswith(f"[{SOURCE_APISERVER_METRICS}]") for e in top["evidence"])
    assert {r.verb for r in kube_api.requests} <= {"get", "list", "watch"}


@pytest.mark.parametrize("kube_api", [storm_cluster], indirect=True)
async def test_dashboard_with_only_a_kubeconfig_shows_the_heatmap(
    kube_api: ThreadedKubeApiServer, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)
    app = K8sTopApp(Settings(kubeconfig=str(kubeconfig), use_prometheus=False, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.dashboard.panels()["apiserver"]

        def heat_columns() -> int:
            facts = panel.facts
            return len(facts.heatmap.rows[0].cells) if facts is not None and facts.heatmap is not None else 0

        await wait_for(pilot, lambda: heat_columns() >= 2, what="two heatmap columns from successive scrapes")
        await pilot.pause(0.2)
        text = screen_text(app)
        expected = fmt_seconds(panel.facts.requests[0].p99)
        assert panel.facts.requests[0].p99.number == pytest.approx(STORM.expected_api_quantile("LIST", "pods"))
        # the heatmap's row (the incident banner above may name LIST pods too)
        row = next(line for line in text.splitlines() if line.startswith("LIST pods"))
        assert expected in row
        assert "API via /metrics" in text and f"source: {SOURCE_APISERVER_METRICS}" in text
        etcd = app.dashboard.panels()["etcd"]
        assert etcd.facts is not None and etcd.facts.source == SOURCE_APISERVER_METRICS
        assert "etcd disk: not visible via /metrics" in text
        storm = fmt_seconds(etcd.facts.api_requests[0].p99)
        assert etcd.facts.api_requests[0].type == "/registry/pods"
        assert any("pods listWithCount" in line and storm in line for line in text.splitlines())


@pytest.mark.parametrize("kube_api", [healthy_cluster], indirect=True)
async def test_prometheus_killed_mid_session_the_direct_path_takes_over(
    kube_api: ThreadedKubeApiServer, tmp_path: Path
) -> None:
    prom = start_prometheus(HEALTHY)
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)
    settings = Settings(kubeconfig=str(kubeconfig), prometheus_url=prom.url, refresh=0.5)
    app = K8sTopApp(settings, LiveSource)
    updates: list[Any] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            app.listeners.append(lambda u: updates.append(u) if u.feed == "apiserver" else None)
            panel = app.dashboard.panels()["apiserver"]
            await wait_for(pilot, lambda: panel.facts is not None, what="API facts from Prometheus")
            assert panel.facts.source == SOURCE_PROMETHEUS
            from_prometheus = {(r.verb, r.resource): r.p99.number for r in panel.facts.requests}
            prom.stop()
            updates.clear()
            await wait_for(pilot, lambda: len(updates) >= 2, what="two API refreshes after Prometheus died")
            assert any(u.facts is not None and u.facts.source == SOURCE_APISERVER_METRICS for u in updates[:2])
            await wait_for(pilot, lambda: len(updates) >= 4, what="the direct path keeps updating")
            last = updates[-1].facts
            assert last.source == SOURCE_APISERVER_METRICS and "rates over the last" in last.source_note
            direct = {(r.verb, r.resource): r.p99.number for r in last.requests}
            # The same scenario through both paths: the same p99 per verb and resource.
            assert direct[("LIST", "pods")] == pytest.approx(from_prometheus[("LIST", "pods")], rel=0.01)
            assert direct[("GET", "pods")] == pytest.approx(from_prometheus[("GET", "pods")], rel=0.01)
            await pilot.pause(0.2)
            assert "API via /metrics" in screen_text(app)
    finally:
        prom.stop()
    assert {r.verb for r in kube_api.requests} <= {"get", "list", "watch"}


@pytest.mark.parametrize("kube_api", [healthy_cluster], indirect=True)
async def test_switches_to_the_direct_path_and_back_with_prometheus(
    kube_api: ThreadedKubeApiServer, prometheus_for: Any, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)
    with FaultyProxy(prometheus_for(HEALTHY).url) as proxy:
        app = K8sTopApp(Settings(kubeconfig=str(kubeconfig), prometheus_url=proxy.url, refresh=0.5), LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            panel = app.dashboard.panels()["apiserver"]

            def source() -> str:
                return panel.facts.source if panel.facts is not None else ""

            await wait_for(pilot, lambda: source() == SOURCE_PROMETHEUS, what="API facts from Prometheus")
            proxy.set(ProxyFault(Misbehaviour.DOWN))
            await wait_for(pilot, lambda: source() == SOURCE_APISERVER_METRICS, what="the direct path")
            await pilot.pause(0.1)
            assert "API via /metrics" in screen_text(app)
            proxy.clear()
            await wait_for(pilot, lambda: source() == SOURCE_PROMETHEUS, what="Prometheus again")
            await pilot.pause(0.1)
            assert "API via /metrics" not in screen_text(app) and "source: API server" not in screen_text(app)


def test_the_filter_keeps_only_the_families_read() -> None:
    kept = [
        b'apiserver_request_total{code="200",verb="LIST"} 5',
        b'apiserver_request_sli_duration_seconds_bucket{le="+Inf",verb="GET"} 3',
        b"# TYPE apiserver_request_sli_duration_seconds histogram",
        b"# TYPE apiserver_request_total counter",
        b'apiserver_flowcontrol_current_inqueue_requests{priority_level="global-default"} 0',
        b'etcd_request_duration_seconds_bucket{le="0.005",operation="get",type="/registry/pods"} 1',
        b"process_start_time_seconds 1.7e+09",
    ]
    dropped = [
        b"go_goroutines 873",
        b"# HELP apiserver_request_total Counter of apiserver requests",
        b'apiserver_request_sli_duration_seconds_sum{verb="GET"} 0.3',
        b'apiserver_flowcontrol_request_wait_duration_seconds_bucket{le="1",priority_level="x"} 2',
        b"apiserver_request_total_extra 1",
        b"",
    ]
    assert all(wanted(line) for line in kept)
    assert not any(wanted(line) for line in dropped)


async def test_a_big_metrics_body_keeps_the_same_lines(kube_api: ThreadedKubeApiServer, tmp_path: Path) -> None:
    connection = await connect(str(write_kubeconfig(tmp_path / "kc", kube_api.url, kube_api.token)))
    try:
        small, small_read = await connection.get_lines("/metrics", wanted, what="get /metrics")
        kube_api.apiserver_metrics.unrelated_series = 20_000
        big, big_read = await connection.get_lines("/metrics", wanted, what="get /metrics")
    finally:
        await connection.close()
    assert big_read > small_read + 20_000 * 50  # the padding was read...
    assert len(big) == len(small)  # ...and none of it kept
    facts = apiserver_from(parse_then_span(big), {}, "test")
    assert {(r.verb, r.resource) for r in facts.requests} >= {("LIST", "pods"), ("GET", "pods")}


def parse_then_span(lines: list[bytes]) -> Any:
    scrape = parse_scrape(lines, at=time.time())
    span = interval(scrape, None)
    assert span is not None and span.before is None
    return span
