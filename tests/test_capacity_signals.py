"""Requests against allocatable (kubernetes-mixin KubeCPUOvercommit / KubeMemoryOvercommit) end
to end on a real Prometheus: the finding, the KPI rows, the report and the workloads screen."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import histograms as h
import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.registry import SNAPSHOT_FEEDS
from k8stop.queries.model.finding import Component
from k8stop.queries.model.keys import NodeKey
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.report import make_report, render_text
from k8stop.queries.rules.grouping import rules_of
from k8stop.queries.rules.kpis import compute_kpis
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.detail_screen import TextBlock
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from k8stop.tui.screens.events_screen import EventsScreen
from k8stop.tui.screens.node_detail import NodeScreen
from k8stop.tui.screens.workloads_screen import WorkloadsScreen
from kubeapi.from_scenario import cluster_from_scenario
from kubeapi.kubeconfig import write_kubeconfig
from kubeapi.server import KubeApiServer
from scenario import GiB, Hpa, Scenario
from scenario_snapshot import snapshot_for, with_node
from screen import open_screen, screen_text, wait_for, wait_for_facts

MiB = 1024**2
CAPACITY_RULES = {"node.cpu_overcommit", "node.memory_overcommit"}


def big_node_scenario(**overrides: object) -> Scenario:
    """Six nodes, the fourth twice as big: losing it costs the most."""
    base = Scenario.overcommitted(**overrides)
    return with_node(base, 3, cpus=8, memory_total_bytes=32 * GiB)


def expected(scenario: Scenario, resource: str) -> tuple[float, float, float]:
    """(requests, allocatable, largest node's allocatable) as the scenario wrote them."""
    requests = sum(
        getattr(c, f"{resource}_request") or 0.0
        for p in scenario.pods
        if p.phase in ("Pending", "Running")
        for c in p.containers
    )
    per_node = [n.allocatable_cpu if resource == "cpu" else n.allocatable_memory for n in scenario.nodes]
    return requests, sum(per_node), max(per_node)


@pytest.mark.parametrize(("convention", "ksm_v1"), [("kube-prometheus", False), ("generic", True)])
def test_cpu_requests_past_n_minus_one_name_the_largest_node(prometheus_for, convention: str, ksm_v1: bool) -> None:
    scenario = big_node_scenario(cpu_request=2.0, convention=convention, ksm_v1=ksm_v1)
    big = scenario.nodes[3]
    requests, allocatable, largest = expected(scenario, "cpu")
    # 11 containers x 2 cores = 22 cores: fits the 27.4 allocatable, not the 19.5 left without node-4.
    assert allocatable - largest < requests < allocatable
    snap, settings = snapshot_for(prometheus_for, scenario)
    assert snap.workloads is not None
    [cpu, memory] = snap.workloads.commitments
    assert (cpu.resource, memory.resource) == ("cpu", "memory")
    assert cpu.requests == pytest.approx(requests)
    assert cpu.allocatable == pytest.approx(allocatable)
    assert (cpu.largest_node, cpu.largest_allocatable, cpu.nodes) == (big.name, pytest.approx(largest), 6)
    report = make_report(snap, settings)
    top = report.findings[0]
    assert top.id == "node.cpu_overcommit:cluster"
    assert top.component is Component.NODE and top.subject == "cluster"
    assert top.severity is Level.WARNING
    n1 = requests / (allocatable - largest)
    assert top.evidence[0].value == pytest.approx(n1)
    assert f"CPU requests 22 cores are {n1 * 100:.0f} %" in top.title
    assert f"without the largest node {big.name}" in top.title
    assert "KubeCPUOvercommit" in top.evidence[0].detail
    metric = "kube_pod_container_resource_requests_cpu_cores" if ksm_v1 else "kube_pod_container_resource_requests"
    assert metric in top.evidence[0].query and "kube_pod_status_phase" in top.evidence[0].query
    assert [e.value for e in top.evidence[1:]] == [pytest.approx(allocatable), pytest.approx(largest)]
    # Memory is not overcommitted (11 x 128 MiB).
    assert not [f for f in report.findings if "node.memory_overcommit" in rules_of(f)]
    kpis = {k.id: k for k in report.kpis}
    assert kpis["node.cpu_requests_n1"].status is Level.WARN
    assert kpis["node.cpu_requests_n1"].value.number == pytest.approx(n1)
    assert kpis["node.memory_requests_n1"].status is Level.OK
    text = render_text(report)
    assert f"1. [WARNING] node cluster: CPU requests 22 cores are {n1 * 100:.0f} %" in text


def test_requests_past_all_allocatable_are_critical(prometheus_for) -> None:
    # 11 x 3 GiB = 33 GiB requested of 6 x 15 GiB allocatable: fits; 11 x 2.5 cores = 27.5 of 23.4: does not.
    scenario = Scenario.overcommitted(cpu_request=2.5, memory_request=3 * GiB)
    snap, settings = snapshot_for(prometheus_for, scenario)
    report = make_report(snap, settings)
    top = report.findings[0]
    assert top.subject == "cluster" and top.severity is Level.CRITICAL
    assert rules_of(top) == {"node.cpu_overcommit"}
    requests, allocatable, _ = expected(scenario, "cpu")
    assert requests > allocatable
    assert compute_kpis(snap, settings.thresholds)[-2].status is Level.FAIL


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic", "prometheus-stack"])
def test_healthy_cluster_is_not_overcommitted(prometheus_for, convention: str) -> None:
    scenario = Scenario.healthy(convention=convention)
    snap, settings = snapshot_for(prometheus_for, scenario)
    assert snap.workloads is not None
    found = {c.resource: c for c in snap.workloads.commitments}
    for resource in ("cpu", "memory"):
        requests, allocatable, largest = expected(scenario, resource)
        assert found[resource].requests == pytest.approx(requests)
        assert found[resource].allocatable == pytest.approx(allocatable)
        assert found[resource].n1_ratio == pytest.approx(requests / (allocatable - largest))
    report = make_report(snap, settings)
    assert not [f for f in report.findings if rules_of(f) & CAPACITY_RULES]
    kpis = {k.id: k for k in report.kpis}
    assert kpis["node.cpu_requests_n1"].status is Level.OK
    assert kpis["node.memory_requests_n1"].status is Level.OK


async def test_workloads_screen_shows_requests_against_allocatable_at_80x24(prometheus_for) -> None:
    held = Hpa("shop", "cart", current=4, desired=6, min_replicas=2, max_replicas=10)
    base = big_node_scenario(cpu_request=2.0)
    changes = {2: {"ready_flaps_per_15m": 6.0}, 1: {"runtime_p99": (("create_container", 6.0),)}}
    nodes = tuple(replace(n, **changes.get(i, {})) for i, n in enumerate(base.nodes))  # type: ignore[arg-type]
    scenario = replace(base, name="screen-signals", nodes=nodes, hpas=(held,))
    big = scenario.nodes[3]
    prom = prometheus_for(scenario)
    app = K8sTopApp(Settings(prometheus_url=prom.url, use_kube=False, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: all(f in app.latest for f in SNAPSHOT_FEEDS), what="every feed")
        screen = await open_screen(pilot, "w", WorkloadsScreen, what="the workloads screen")
        await wait_for(pilot, lambda: screen.loaded, what="the workloads screen's blocks")
        lines = screen.text_of().splitlines()
        [cpu] = [line for line in lines if line.startswith("! cpu ")]
        requests, allocatable, largest = expected(scenario, "cpu")
        n1 = requests / (allocatable - largest)
        assert f"requests 22 cores of 27.4 cores ({requests / allocatable * 100:.0f} %)" in cpu
        assert f"N-1 {n1 * 100:.0f} % (without {big.name})" in cpu
        [memory] = [line for line in lines if line.startswith("  memory ")]
        # 11 containers x 128 MiB = 1.375 GiB of 5 x 15 GiB + 31 GiB.
        assert "requests 1.38 GiB of 106 GiB (1 %)  N-1 2 %" in memory
        [flapping] = [line for line in lines if line.startswith(f"! {scenario.nodes[2].name} ")]
        assert re.search(r"no evictions  Ready changed [56]x$", flapping), flapping
        [slow] = [line for line in lines if line.startswith(f"! {scenario.nodes[1].name} ")]
        create = h.expected_quantile(0.99, h.distribution(h.RUNTIME_OPS_BUCKETS, 6.0))
        assert slow.endswith(f"no evictions  create p99 {fmt_seconds(Value.of(create))}"), slow
        [hpa] = [line for line in lines if line.startswith("! shop/cart ")]
        assert hpa.endswith("current 4  desired 6  range 2-10  held")
        assert all(len(line) <= 78 for line in lines)
        # The section leads the screen: drawn without scrolling.
        drawn = screen_text(app)
        assert "! cpu " in drawn and big.name in drawn
        # The kubelet lines, scrolled into view.
        block = next(b for b in screen.query(TextBlock) if b.plain.startswith("Kubelets:"))
        screen.query_one("#body").scroll_to_widget(block, animate=False, top=True)
        await pilot.pause(0.2)
        drawn = screen_text(app)
        assert flapping in drawn and slow in drawn


@pytest.mark.parametrize("ksm_v1", [False, True])
def test_hpa_mismatch_held_fifteen_minutes_warns(prometheus_for, ksm_v1: bool) -> None:
    # Wants 6, has 4, for the whole hour of history: KubeHpaReplicasMismatch would fire.
    hpa = Hpa("shop", "cart", current=4, desired=6, min_replicas=2, max_replicas=10)
    snap, settings = snapshot_for(prometheus_for, Scenario.healthy(hpas=(hpa,), ksm_v1=ksm_v1))
    assert snap.workloads is not None
    [status] = snap.workloads.hpas
    assert (status.current, status.desired, status.mismatch_held) == (4, 6, True)
    top = make_report(snap, settings).findings[0]
    assert top.id == "workload.hpa_mismatch:shop/cart" and top.subject == "shop/cart"
    assert top.component is Component.WORKLOAD and top.severity is Level.WARNING
    assert "has 4 replicas, wants 6 for 15 min and more" in top.title
    [held] = [e for e in top.evidence if e.detail.startswith("1: desired != current")]
    assert held.value == 1.0 and "[900s:1m]" in held.query
    assert ("kube_hpa_" if ksm_v1 else "kube_horizontalpodautoscaler_") in held.query


@pytest.mark.parametrize("created", [False, True])
def test_hpa_mismatch_of_five_minutes_is_scaling_not_a_warning(prometheus_for, created: bool) -> None:
    # Five minutes ago it was settled, or (created) did not exist yet: nothing has held 15 minutes.
    settled = Hpa("shop", "cart", current=4, desired=4, min_replicas=2, max_replicas=10)
    scaling = replace(settled, desired=6)
    before = Scenario.healthy(hpas=() if created else (settled,))
    scenario = Scenario.healthy(hpas=(scaling,)).starting(300, before=before)
    snap, settings = snapshot_for(prometheus_for, scenario)
    assert snap.workloads is not None
    [status] = snap.workloads.hpas
    assert (status.current, status.desired, status.mismatch_held) == (4, 6, False)
    [found] = [f for f in make_report(snap, settings).findings if f.id == "workload.hpa_mismatch:shop/cart"]
    assert found.severity is Level.INFO and "scaling" in found.title


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
async def test_node_drilldown_shows_pod_usage_from_cadvisor_at_80x24(prometheus_for, convention: str) -> None:
    # No metrics-server and no kube API: the busiest pods of the node still show, from cAdvisor.
    base = Scenario.cpu_saturated_node(node=4, convention=convention)
    busy = base._change_containers("shop", "checkout", "busy-checkout", cpu_usage=0.75, memory_working_set=900 * MiB)
    scenario = replace(busy, nodes=base.nodes)
    hot = scenario.nodes[4]
    on_node = [p for p in scenario.pods if p.node == hot.name]
    assert {p.owner_name.split("-")[0] for p in on_node} == {"cart", "checkout"}
    prom = prometheus_for(scenario)
    app = K8sTopApp(Settings(prometheus_url=prom.url, use_kube=False, refresh=1.0), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.dashboard.panels()["nodes"]
        await wait_for(pilot, lambda: panel.facts is not None and bool(panel.facts.worst), what="node rows")
        app.dashboard.focus_panel("nodes")
        await pilot.pause()
        assert panel.selected_key == NodeKey(hot.name)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, NodeScreen) and "busiest pods" in app.screen.text_of(),
            what="the node drill-down's pod usage",
        )
        screen = app.screen
        assert isinstance(screen, NodeScreen)
        lines = screen.text_of().splitlines()
        start = lines.index("busiest pods (cAdvisor on this kubelet, CPU over 5m, working set):")
        rows = lines[start + 1 : start + 1 + len(on_node)]
        # Only this node's pods, busiest first, with the scenario's usage.
        checkout, cart = (next(p for p in on_node if p.owner_name.startswith(d)) for d in ("checkout", "cart"))
        assert rows[0].split() == [f"shop/{checkout.name}", "cpu", "750m", "mem", "900", "MiB"]
        assert rows[1].split() == [f"shop/{cart.name}", "cpu", "100m", "mem", "128", "MiB"]
        assert len(lines) == start + 1 + len(on_node) or not lines[start + 1 + len(on_node)].startswith("  shop/")
        block = next(b for b in screen.query(TextBlock) if "busiest pods" in b.plain)
        screen.query_one("#body").scroll_to_widget(block, animate=False, top=True)
        await pilot.pause(0.2)
        drawn = screen_text(app)
        assert f"shop/{checkout.name}" in drawn and "750m" in drawn


async def test_warning_events_screen_lists_the_cluster_newest_first_at_80x24(prometheus_for, tmp_path: Path) -> None:
    unschedulable = ("batch", "report-7f9c", "0/6 nodes are available: 6 Insufficient cpu.")
    scenario = Scenario.crashloop("shop", "checkout", failed_scheduling=(unschedulable,))
    crashing = [p for p in scenario.pods if p.owner_name.startswith("checkout-")]
    prom = prometheus_for(scenario)
    server = KubeApiServer(cluster_from_scenario(scenario, anchor=prom.anchor), token="events-token")
    url = await server.start()
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, "events-token")
        app = K8sTopApp(Settings(prometheus_url=prom.url, kubeconfig=str(kubeconfig), refresh=1.0), LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_facts(pilot, "kube", what="the kube summary")
            screen = await open_screen(pilot, "v", EventsScreen, what="the events screen")
            await wait_for(pilot, lambda: screen.loaded and len(screen.texts) > 1, what="the events")
            # Each crash-looping pod: the kubelet's BackOff and the kernel's OOMKilling on its node.
            n = len(crashing)
            assert screen.texts[0] == f"by reason: BackOff {n}, OOMKilling {n}, FailedScheduling 1"
            events = screen.texts[1:]
            assert len(events) == 2 * n + 1
            # Newest first: the scheduler's event is the scenario's oldest.
            assert events[-1].splitlines()[0].split()[1:] == ["FailedScheduling", "Pod/batch/report-7f9c"]
            assert events[-1].splitlines()[1] == "      x10 0/6 nodes are available: 6 Insufficient cpu."
            newest = events[0].splitlines()[0].split()
            assert newest[1] in ("BackOff", "OOMKilling")
            assert newest[2] in {f"Pod/shop/{crashing[-1].name}", f"Node/{crashing[-1].node}"}
            assert all(len(line) <= 78 for text in screen.texts for line in text.splitlines())
            drawn = screen_text(app)
            assert "Warning events, newest first" in drawn and f"by reason: BackOff {n}" in drawn
            await pilot.press("escape")
            # The same screen from the command line.
            await pilot.press("colon")
            await pilot.press(*"events", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen), what=":events")
    finally:
        await server.stop()


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
def test_readiness_flapping_names_the_node(prometheus_for, convention: str) -> None:
    base = Scenario.healthy(convention=convention)
    scenario = with_node(base, 2, name="readiness-flapping", ready_flaps_per_15m=6.0)
    node = scenario.nodes[2]
    snap, settings = snapshot_for(prometheus_for, scenario)
    top = make_report(snap, settings).findings[0]
    assert top.id == f"node.readiness_flapping:{node.name}"
    assert top.component is Component.NODE and top.subject == node.name and top.severity is Level.WARNING
    # Ready switches every 150 s: 6 changes in any 15 minutes (5 where a window's edge cuts one).
    assert 5 <= top.evidence[0].value <= 6
    assert f"Node {node.name} Ready condition changed" in top.title
    assert "KubeNodeReadinessFlapping" in top.evidence[0].detail
    assert 'condition="Ready"' in top.evidence[0].query and f'node="{node.name}"' in top.evidence[0].query
    assert snap.workloads is not None
    assert [k.node for k in snap.workloads.kubelets if k.ready_changes_15m] == [node.name]


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
def test_slow_container_runtime_names_the_node(prometheus_for, convention: str) -> None:
    base = Scenario.healthy(convention=convention)
    scenario = with_node(base, 1, name="slow-runtime", runtime_p99=(("create_container", 6.0),))
    node = scenario.nodes[1]
    snap, settings = snapshot_for(prometheus_for, scenario)
    top = make_report(snap, settings).findings[0]
    assert top.id == f"kubelet.runtime_slow:{node.name}"
    assert top.component is Component.KUBELET and top.subject == node.name and top.severity is Level.WARNING
    expected_p99 = h.expected_quantile(0.99, h.distribution(h.RUNTIME_OPS_BUCKETS, 6.0))
    assert top.evidence[0].value == pytest.approx(expected_p99, rel=0.02)
    assert 'operation_type="create_container"' in top.evidence[0].query
    assert "container_creation < 2 s" in top.evidence[0].detail
    # The other nodes' runtimes create containers in the scenario's 0.3 s.
    assert snap.workloads is not None
    others = [dict(k.runtime_p99).get("create_container") for k in snap.workloads.kubelets if k.node != node.name]
    assert all(v is None or v.number < 0.5 for v in others)
    assert [f.subject for f in make_report(snap, settings).findings if f.id.startswith("kubelet.runtime_slow")] == [
        node.name
    ]


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
def test_memory_stall_names_the_node(prometheus_for, convention: str) -> None:
    base = Scenario.healthy(convention=convention)
    scenario = with_node(base, 5, name="memory-stall", psi_full=(("memory", 0.35), ("io", 0.02)))
    node = scenario.nodes[5]
    snap, settings = snapshot_for(prometheus_for, scenario)
    assert snap.workloads is not None
    stalled = {k.node: k.psi_full for k in snap.workloads.kubelets}
    assert stalled[node.name] == (("memory", pytest.approx(0.35)), ("io", pytest.approx(0.02)))
    # Every other node reports the healthy default: 1 % on I/O, nothing on memory.
    assert all(dict(psi)["io"] == pytest.approx(0.01) for name, psi in stalled.items() if name != node.name)
    top = make_report(snap, settings).findings[0]
    assert top.id == f"node.psi_stalled:{node.name}"
    assert top.component is Component.NODE and top.subject == node.name and top.severity is Level.WARNING
    assert top.evidence[0].value == pytest.approx(0.35)
    assert "stalled on memory 35 % of the time" in top.title
    assert "node_pressure_memory_stalled_seconds_total" in top.evidence[0].query
    assert "systemd-oomd" in top.evidence[0].detail


async def test_diagnosis_opens_on_the_overcommit_at_80x24(prometheus_for) -> None:
    scenario = big_node_scenario(cpu_request=2.0)
    requests, allocatable, largest = expected(scenario, "cpu")
    n1 = requests / (allocatable - largest)
    prom = prometheus_for(scenario)
    app = K8sTopApp(Settings(prometheus_url=prom.url, use_kube=False, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: all(f in app.latest for f in SNAPSHOT_FEEDS), what="every feed")
        session = await open_screen(pilot, "d", DiagnosisScreen, what="the diagnosis screen")
        await wait_for(pilot, lambda: "› Nodes" in session.plain(), what="the nodes step")
        text = session.plain()
        assert text.splitlines()[1].startswith(f"WARNING: CPU requests 22 cores are {n1 * 100:.0f} %")
        # The step's KPI rows: CPU past N-1, memory within it.
        assert "CPU requests / allocatable without the largest node" in text
        assert "Memory requests / allocatable without the largest node" in text
        assert "WARNING: CPU requests 22 cores" in screen_text(app)
