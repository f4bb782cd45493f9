"""Issue 21: every node is named as `kubectl get nodes` names it, whatever the scrape config.

Each label convention (tests/conventions.py) names node-exporter targets its own way: the
node name in `instance`, IP:9100 with the name in node_uname_info (twice, as after a kernel
upgrade), IP:9100 with only kube_node_info{internal_ip}, a `kubernetes_node` label beside a
uname hostname kubectl does not know, and IP:9100 with nothing but the kube API's node
addresses. A real Prometheus serves each scenario and the kube-API test server serves the same
cluster; the nodes panel facts, findings, KPIs, report, built-in alert, drill-down and etcd
members must all carry the test server's node names, joined to its pods, at a per-refresh
query cost that does not grow with the number of nodes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from conventions import CONVENTIONS, NODE_NAMING
from k8stop.queries.config import Settings
from k8stop.queries.drill.common import RangeWindow
from k8stop.queries.drill.node import node_history, node_kube, node_kubelet
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.sources import Sources, open_sources
from k8stop.queries.model.finding import Component
from k8stop.queries.model.keys import NodeKey
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState
from k8stop.queries.prom.builtin_alerts import builtin_alerts
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from k8stop.queries.report import make_report, render_text
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.detail_screen import DetailScreen
from kubeapi.from_scenario import cluster_from_scenario
from kubeapi.kubeconfig import write_kubeconfig
from kubeapi.server import KubeApiServer
from prometheus_fixture import PrometheusHandle
from scenario import Scenario, make_nodes
from screen import screen_lines, screen_text, wait_for

TOKEN = "naming-token"
HOT = 4  # node-5: the cart and checkout pods with restarts run there, so findings cite them

# How each convention's nodes must be named, in the words the drill-down and report use.
EXPECTED_NAMING = {
    "kube-prometheus": "node_uname_info",  # instance is the name too; uname says so first
    "generic": "label node",
    "prometheus-stack": "node_uname_info",
    "node-info": "kube_node_info",
    "kubernetes-node": "label kubernetes_node",  # wins over uname's "host-10-0-1-5"
    "bare-ip": "kube API node addresses",
    "uname-hostname": "kube API node addresses",  # uname says host-10-0-1-5, kubectl node-5
}

# How each convention's kubelet targets (IP:10250, or the node name) are tied to their node.
EXPECTED_KUBELET = {
    "kube-prometheus": "label node",
    "generic": "its host's address",  # instance is the node name (scraped via the API proxy)
    "prometheus-stack": "its host's address",  # IP:10250, named through node_uname_info's target
    "node-info": "its host's address",  # IP:10250, named through kube_node_info{internal_ip}
    "kubernetes-node": "its host's address",
    "bare-ip": "kube API node addresses",
    "uname-hostname": "its host's address",  # kube_node_info's internal_ip, ahead of uname's hostname
}


def scenario(convention: str, nodes: int = 6) -> Scenario:
    """A CPU-saturated node; the etcd members run on the first three nodes' addresses."""
    base = Scenario.cpu_saturated_node(node=HOT, convention=convention)
    if nodes != len(base.nodes):
        many = make_nodes(nodes)
        base = replace(
            base, nodes=tuple(replace(n, cpu=0.97, load1=14.0) if i == HOT else n for i, n in enumerate(many))
        )
    etcd = tuple(replace(m, ip=base.nodes[i].ip) for i, m in enumerate(base.etcd))
    return replace(base, name=f"naming-{convention}-{nodes}", etcd=etcd)


@dataclass
class Cluster:
    scenario: Scenario
    prom: PrometheusHandle
    settings: Settings
    sources: Sources  # open: the live kube feed and Prometheus, as the app has them

    @property
    def hot(self) -> str:
        return self.scenario.nodes[HOT].name

    @property
    def kube_names(self) -> set[str]:
        assert self.sources.kube is not None
        return {n.name for n in self.sources.kube.nodes()}


@pytest.fixture(params=NODE_NAMING)
async def cluster(request: pytest.FixtureRequest, prometheus_for, tmp_path: Path) -> AsyncIterator[Cluster]:
    s = scenario(request.param)
    prom = prometheus_for(s)
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    url = await server.start()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, TOKEN)
    settings = Settings(prometheus_url=prom.url, kubeconfig=str(kubeconfig))
    sources = await open_sources(settings)
    try:
        assert sources.kube is not None and sources.prometheus is not None, sources.kube_error
        await asyncio.wait_for(sources.kube.wait_settled(), 10)
        yield Cluster(s, prom, settings, sources)
    finally:
        await sources.close()
        await server.stop()


async def test_nodes_panel_names_nodes_as_kubectl_does(cluster: Cluster) -> None:
    s, how = cluster.scenario, EXPECTED_NAMING[cluster.scenario.convention]
    assert cluster.kube_names == {n.name for n in s.nodes}  # what `kubectl get nodes` lists
    assert cluster.sources.prometheus is not None
    facts, warnings = await cluster.sources.prometheus.nodes(top=len(s.nodes))
    assert warnings == ()
    assert facts.worst[0].node == cluster.hot and facts.total == len(s.nodes)
    assert {n.node for n in facts.worst} == cluster.kube_names
    conv = CONVENTIONS[s.convention]
    for row in facts.worst:
        node = s.node(row.node)
        assert row.named_by == how
        assert row.instance == (node.name if conv.node_instance == "name" else f"{node.ip}:9100")
        assert row.cpu.number == pytest.approx(node.cpu, rel=1e-3)
        assert row.memory.number == pytest.approx(node.memory, rel=1e-3)
    assert facts.naming == f"node names from {how}"


async def test_findings_kpis_report_and_etcd_use_the_names(cluster: Cluster) -> None:
    s = cluster.scenario
    snap: ClusterSnapshot = await collect_snapshot(cluster.settings)
    assert snap.prometheus.state is SourceState.OK and snap.kube.state is SourceState.OK
    report = make_report(snap, cluster.settings)

    node_findings = [f for f in report.findings if f.component is Component.NODE]
    assert {f.subject for f in node_findings} == {cluster.hot}
    cpu = next(f for f in node_findings if f.id == f"node.cpu_saturated:{cluster.hot}")
    assert cpu.title.startswith(f"Node {cluster.hot} CPU at 97")
    # The kube feed's pods join to the node: the restarting pods on it are cited as evidence.
    restarting = {
        f"/api/v1/namespaces/{p.namespace}/pods/{p.name}"
        for p in s.pods
        if p.node == cluster.hot and any(c.restarts_base for c in p.containers)
    }
    assert restarting and {e.query for e in cpu.evidence} >= restarting

    kpi = next(k for k in report.kpis if k.id == "node.cpu_utilisation_max")
    assert cluster.hot in kpi.detail
    text = render_text(report)
    assert f"feed nodes: ok - node names from {EXPECTED_NAMING[s.convention]}" in text

    # etcd members run on nodes 1-3: named where the instance's host is a node's address
    # (kube-prometheus style targets are IP:2379; generic ones are the member's name).
    assert snap.etcd is not None
    by_ip = {n.ip: n.name for n in s.nodes}
    conv = CONVENTIONS[s.convention]
    for member in snap.etcd.members:
        ip = next(m.ip for m in s.etcd if m.ip in member.instance or m.name in member.instance)
        assert member.node == (by_ip[ip] if conv.style == "kube-prometheus" else "")


async def test_builtin_alert_and_drill_down_name_the_node(cluster: Cluster) -> None:
    s, how = cluster.scenario, EXPECTED_NAMING[cluster.scenario.convention]
    assert cluster.sources.prometheus is not None and cluster.sources.kube is not None
    ctx = cluster.sources.prometheus.context
    alerts, _ = await builtin_alerts(ctx)
    cpu_alerts = [dict(a.labels) for a in alerts.alerts if a.name == "NodeCPUHigh"]
    assert [a["node"] for a in cpu_alerts] == [cluster.hot]

    window = RangeWindow.ending(ctx.clock(), 1200.0, 20)
    history, warnings = await node_history(ctx, cluster.hot, window)
    assert warnings == ()
    node = s.node(cluster.hot)
    conv = CONVENTIONS[s.convention]
    instance = node.name if conv.node_instance == "name" else f"{node.ip}:9100"
    assert history.instances == (instance,)
    assert history.naming == f"node name from {how} (instance {instance})"
    lines = {line.label: line for line in history.saturation.lines}
    assert lines["cpu"].last is not None and lines["cpu"].last.number == pytest.approx(0.97, rel=1e-3)
    assert lines["memory"].last is not None and lines["memory"].last.number == pytest.approx(node.memory, rel=1e-3)

    kubelet, warnings = await node_kubelet(ctx, cluster.hot)
    assert kubelet is not None and warnings == ()
    kubelet_instance = f"{node.ip}:10250" if conv.style == "kube-prometheus" else node.name
    assert kubelet.naming == f"node name from {EXPECTED_KUBELET[s.convention]} (instance {kubelet_instance})"
    assert kubelet.pod_start_p99.number == pytest.approx(s.expected_pod_start_quantile(), rel=0.02)
    ops = {op.operation_type: op for op in kubelet.runtime_ops}
    assert ops.keys() == {op.operation_type for op in s.kubelet.ops}
    for op in s.kubelet.ops:  # this node's kubelet alone, not the sum over nodes
        assert ops[op.operation_type].rate == pytest.approx(op.rate, rel=1e-3)
        assert ops[op.operation_type].p99.number == pytest.approx(
            s.expected_runtime_op_quantile(op.operation_type), rel=0.02
        )

    kube = await node_kube(cluster.sources.kube, cluster.hot)
    assert kube.record is not None and kube.record.name == cluster.hot
    assert {(r.pod.namespace, r.pod.name) for r in kube.pods} == {
        (p.namespace, p.name) for p in s.pods if p.node == cluster.hot
    }
    assert kube.allocation is not None and kube.allocation.allocatable_cpu_millis > 0

    # A name nothing knows finds no target rather than another node's series.
    nobody, _ = await node_history(ctx, "no-such-node", window)
    assert nobody.instances == () and all(not line.values for line in nobody.saturation.lines)


@pytest.mark.parametrize("convention", ["prometheus-stack", "bare-ip"])
async def test_queries_per_refresh_do_not_grow_with_nodes(prometheus_for, tmp_path: Path, convention: str) -> None:
    """Naming travels inside the nodes and etcd queries: 2 and 1 per refresh at 6 or 40 nodes."""
    costs = []
    for count in (6, 40):
        s = scenario(convention, nodes=count)
        prom = prometheus_for(s)
        server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
        url = await server.start()
        settings = Settings(
            prometheus_url=prom.url, kubeconfig=str(write_kubeconfig(tmp_path / f"kc{count}", url, TOKEN))
        )
        sources = await open_sources(settings)
        try:
            assert sources.kube is not None and sources.prom_client is not None
            await asyncio.wait_for(sources.kube.wait_settled(), 10)
            client: PromClient = sources.prom_client
            facts = PrometheusFacts(client, settings, kube_nodes=sources.kube.node_addresses)
            await facts.nodes()  # the metric-name probe, cached for minutes, is not per refresh
            before = client.queries_sent
            nodes, _ = await facts.nodes()
            mid = client.queries_sent
            await facts.etcd(with_history=False)
            costs.append((mid - before, client.queries_sent - mid))
            assert nodes.total == count and nodes.worst[0].node == s.nodes[HOT].name
            assert {n.node for n in nodes.worst} <= {n.name for n in s.nodes}
        finally:
            await sources.close()
            await server.stop()
    assert costs == [(2, 1), (2, 1)]


@pytest.mark.parametrize("convention", ["bare-ip", "prometheus-stack"])
async def test_dashboard_and_node_screen_show_kubectl_names(prometheus_for, tmp_path: Path, convention: str) -> None:
    """At 80x24: the nodes panel lists node-5, not 10.0.1.5:9100; Enter opens its drill-down,
    which says how the name was found and lists the kube API's pods on it."""
    s = scenario(convention)
    hot = s.nodes[HOT]
    prom = prometheus_for(s)
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    url = await server.start()
    try:
        settings = Settings(
            prometheus_url=prom.url, kubeconfig=str(write_kubeconfig(tmp_path / "kc", url, TOKEN)), refresh=1.0
        )
        app = K8sTopApp(settings, LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            panel = app.dashboard.panels()["nodes"]
            await wait_for(pilot, lambda: panel.facts is not None and bool(panel.facts.worst), what="node rows")
            await pilot.pause(0.3)
            assert panel.selected_key == NodeKey(hot.name)
            lines = screen_lines(app)
            # the panel's row (the incident banner above may name the node too)
            hot_line = next(line for line in lines if re.search(rf"{re.escape(hot.name)}\s.*\d+%", line))
            assert "97%" in hot_line.split(hot.name, 1)[1]
            assert f"{hot.ip}:9100" not in screen_text(app)

            app.dashboard.focus_panel("nodes")
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, DetailScreen) and "pods on this node" in app.screen.text_of(),
                what="node drill-down with kube parts",
            )
            text = app.screen.text_of()
            how = EXPECTED_NAMING[convention]
            assert f"node name from {how} (instance {hot.ip}:9100)" in text
            assert f"{hot.name}: cpu 97%" in text
            for pod in (p for p in s.pods if p.node == hot.name):
                assert f"{pod.namespace}/{pod.name}" in text
            assert "● Ready=True" in text
            assert f"kubelet: node name from {EXPECTED_KUBELET[convention]} (instance {hot.ip}:10250)" in text
    finally:
        await server.stop()
