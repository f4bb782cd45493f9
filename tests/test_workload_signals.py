"""Workload signals end to end on a real Prometheus: CPU throttling and memory headroom.

Each incident is a scenario knob in general form; the report's top finding must name the
workload the scenario broke, with the numbers the scenario put in, and a healthy cluster
(under every label convention) raises none of these findings.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.registry import SNAPSHOT_FEEDS
from k8stop.queries.model.finding import Component
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.report import Report, make_report, render_text
from k8stop.queries.rules.grouping import rules_of
from k8stop.queries.rules.guided import STEPS
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from k8stop.tui.screens.workloads_screen import WorkloadsScreen
from scenario import Hpa, Scenario
from scenario_snapshot import snapshot_for
from screen import open_screen, screen_text, wait_for

SIGNAL_RULES = (
    "workload.cpu_throttled",
    "workload.memory_near_limit",
    "node.filesystem_space_filling",
    "node.filesystem_inodes_filling",
    "kubelet.pleg_slow",
    "kubelet.evictions",
    "node.pressure",
    "workload.hpa_maxed",
    "workload.hpa_mismatch",
    "node.cpu_overcommit",
    "node.memory_overcommit",
    "node.readiness_flapping",
    "kubelet.runtime_slow",
    "node.psi_stalled",
)


def report_for(prometheus_for, scenario: Scenario) -> Report:
    snap, settings = snapshot_for(prometheus_for, scenario)
    return make_report(snap, settings)


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic", "prometheus-stack"])
def test_healthy_cluster_raises_no_workload_signal(prometheus_for, convention: str) -> None:
    # Healthy autoscalers: one in its range, one pinned by min == max (a fixed size is not maxed out).
    hpas = (Hpa("shop", "frontend", 3, 3, 2, 10), Hpa("kube-system", "coredns", 2, 2, 2, 2))
    snap, settings = snapshot_for(prometheus_for, Scenario.healthy(convention=convention, hpas=hpas))
    assert snap.workloads is not None
    # The healthy containers are measured (1 % throttled, 25 % of their memory limit) ...
    assert snap.workloads.throttled and snap.workloads.memory
    assert all(c.throttled_ratio == pytest.approx(0.01, rel=0.05) for c in snap.workloads.throttled)
    assert all(c.ratio == pytest.approx(0.25, rel=0.01) for c in snap.workloads.memory)
    # No filesystem is filling; every kubelet relists fast, none evicts, no node is under pressure.
    assert snap.workloads.filesystems == ()
    assert snap.workloads.kubelets
    assert all(
        k.pleg_relist_p99.number < 0.1 and not k.evictions_1h and not k.pressure for k in snap.workloads.kubelets
    )
    assert {k.node for k in snap.workloads.kubelets} <= {n.name for n in Scenario.healthy().nodes}
    # Ready never changes; every runtime creates containers in the scenario's 0.3 s; the requests
    # fit even without the largest node.
    assert all(k.ready_changes_15m == 0 for k in snap.workloads.kubelets)
    assert all(p99.number < 1.0 for k in snap.workloads.kubelets for _, p99 in k.runtime_p99)
    assert [c.resource for c in snap.workloads.commitments] == ["cpu", "memory"]
    assert all(c.n1_ratio < 0.1 for c in snap.workloads.commitments)
    # PSI is exported (1 % of the time stalled on I/O), far from the 10 % warning.
    assert all(dict(k.psi_full)["io"] == pytest.approx(0.01) for k in snap.workloads.kubelets)
    # ... and none of them is a finding.
    report = make_report(snap, settings)
    assert not [f for f in report.findings if rules_of(f) & set(SIGNAL_RULES)]


@pytest.mark.parametrize(("convention", "ksm_v1"), [("kube-prometheus", False), ("generic", True)])
def test_cpu_throttled_limit_too_low(prometheus_for, convention: str, ksm_v1: bool) -> None:
    scenario = Scenario.cpu_throttled(
        "shop", "frontend", throttled_ratio=0.6, cpu_limit=0.5, convention=convention, ksm_v1=ksm_v1
    )
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.id == "workload.cpu_throttled:shop/frontend"
    assert top.component is Component.WORKLOAD and top.subject == "shop/frontend"
    assert top.severity is Level.WARNING
    assert "3 replicas of Deployment shop/frontend" in top.title and "60 %" in top.title
    assert "limit too low" in top.title and "500m" in top.recommendation
    assert top.evidence[0].value == pytest.approx(0.6, rel=0.01)
    assert "container_cpu_cfs_throttled_periods_total" in top.evidence[0].query
    assert "CPUThrottlingHigh" in top.evidence[0].detail
    limits = [e.value for e in top.evidence if e.detail.startswith("CPU limit")]
    assert limits == [pytest.approx(0.5)] * 3
    pods = {p.name: p.node for p in scenario.pods if p.owner_name.startswith("frontend-")}
    assert set(top.label_values("node")) == set(pods.values())
    # Only the broken workload is throttled.
    assert [f.subject for f in report.findings if f.id.startswith("workload.cpu_throttled")] == ["shop/frontend"]
    text = render_text(report)
    assert "1. [WARNING] workload shop/frontend: 3 replicas of Deployment shop/frontend CPU-throttled 60 %" in text
    assert "feed workloads: ok" in text


def test_cpu_throttled_on_a_saturated_node_is_node_contention(prometheus_for) -> None:
    base = Scenario.cpu_saturated_node(node=1)
    # frontend's first replica runs on node-2 (index 1), which is saturated; only it is throttled.
    [pod] = [p for p in base.pods if p.owner_name.startswith("frontend-") and p.node == base.nodes[1].name]
    throttled = base.cpu_throttled("shop", "frontend", throttled_ratio=0.4)
    pods = tuple(next(t for t in throttled.pods if t.name == p.name) if p.name == pod.name else p for p in base.pods)
    scenario = replace(base, name="contention", pods=pods)
    report = report_for(prometheus_for, scenario)
    [found] = [f for f in report.findings if f.id.startswith("workload.cpu_throttled")]
    assert found.subject == "shop/frontend" and "node contention" in found.title
    assert base.nodes[1].name in found.recommendation and "will not" in found.recommendation
    # The busy node is the cause: it leads, the throttling follows as its symptom.
    cause = report.findings[0]
    assert cause.component is Component.NODE and cause.subject == base.nodes[1].name
    assert found.caused_by == cause.id


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic"])
def test_memory_leak_is_critical_before_the_oom_kill(prometheus_for, convention: str) -> None:
    scenario = Scenario.memory_leak("shop", "cart", ratio=0.92, minutes_to_limit=20.0, convention=convention)
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.id == "workload.memory_near_limit:shop/cart"
    assert top.component is Component.WORKLOAD and top.subject == "shop/cart"
    # 92 % is a warning by share; the trend reaching the limit within the hour makes it critical.
    assert top.severity is Level.CRITICAL
    assert "2 replicas of Deployment shop/cart container app" in top.title
    assert "of its memory limit" in top.title and "1 GiB" in top.title and "reaches its limit in" in top.title
    # The series grows through the test: the share is at least the anchor's 92 %.
    assert 0.92 <= top.evidence[0].value < 1.0
    forecasts = [e.value for e in top.evidence if e.detail.startswith("seconds to the limit")]
    assert len(forecasts) == 2
    # 20 minutes from the anchor; the test runs a little after it.
    assert all(0 < v <= 20 * 60 * 1.02 for v in forecasts)
    assert all("least squares" in e.detail for e in top.evidence if e.detail.startswith("seconds to the limit"))
    assert "1. [CRITICAL] workload shop/cart: 2 replicas of Deployment shop/cart" in render_text(report)


async def test_workloads_screen_and_diagnosis_at_80x24(prometheus_for) -> None:
    leak = Scenario.memory_leak("shop", "cart", ratio=0.92, minutes_to_limit=20.0)
    throttled = Scenario.cpu_throttled("shop", "frontend", throttled_ratio=0.6, cpu_limit=0.5)
    # Both touch the pods: frontend's from one, the rest from the other.
    pods = tuple(t if t.owner_name.startswith("frontend-") else m for m, t in zip(leak.pods, throttled.pods))
    filling = Scenario.disk_filling(node=2, used=0.78, minutes_to_full=20.0).nodes
    nodes = tuple(
        replace(n, evictions_per_hour=(("memory.available", 3.0),)) if i == 4 else n for i, n in enumerate(filling)
    )
    hpa = Hpa("shop", "frontend", current=10, desired=16, min_replicas=2, max_replicas=10)
    scenario = replace(leak, name="leak-throttled-filling-evicting-maxed", pods=pods, nodes=nodes, hpas=(hpa,))
    prom = prometheus_for(scenario)
    app = K8sTopApp(Settings(prometheus_url=prom.url, use_kube=False, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: all(f in app.latest for f in SNAPSHOT_FEEDS), what="every feed")
        await pilot.press("w")
        await wait_for(
            pilot, lambda: isinstance(app.screen, WorkloadsScreen) and app.screen.loaded, what="the workloads screen"
        )
        screen = app.screen
        assert isinstance(screen, WorkloadsScreen)
        text = screen.text_of()
        frontend = [p for p in scenario.pods if p.owner_name.startswith("frontend-")]
        cart = [p for p in scenario.pods if p.owner_name.startswith("cart-")]
        lines = text.splitlines()
        throttled = [line for line in lines if line.startswith("! shop/frontend-")]
        assert len(throttled) == len(frontend)
        assert all(" 60 % use  500m/500m " in line for line in throttled)
        assert {line.split()[-1] for line in throttled} == {p.node for p in frontend}
        # Growing toward the limit within the runway: critical, with the minutes left.
        leaking = [line for line in lines if line.startswith("‼ shop/cart-")]
        assert len(leaking) == len(cart)
        assert all("  1 GiB full " in line and line.endswith("min") for line in leaking)
        [disk] = [line for line in lines if line.startswith(f"‼ {scenario.nodes[2].name} /")]
        # 78 % at the anchor, a little more by now; 20 minutes from the anchor.
        assert re.search(r" space   7[89] % used  full in (1[5-9](\.\d)?|20) min$", disk), disk
        [evicting] = [line for line in lines if line.startswith(f"! {nodes[4].name} ")]
        assert "PLEG p99 " in evicting and evicting.endswith("memory.available 3")
        assert any(
            line.startswith("! shop/frontend") and "current 10  desired 16  range 2-10" in line for line in lines
        )
        assert all(len(line) <= 78 for line in lines)
        drawn = screen_text(app)
        assert "workloads and nodes: limits, disk runway" in drawn and "‼ shop/cart-" in drawn

        await pilot.press("escape")
        await pilot.press("question_mark")
        assert "w                 workloads: CPU throttling, memory limits, disk runway" in screen_text(app)
        await pilot.press("escape")

        # The guided diagnosis' last step leads with the leak, then the throttling.
        session = await open_screen(pilot, "d", DiagnosisScreen, what="the diagnosis screen")
        while session.step < len(STEPS) - 1:  # it opens on the top cause's step
            await pilot.press("n")
        text = session.plain()
        assert f"{len(STEPS)}/{len(STEPS)} › Workloads" in text
        verdict = text.splitlines()[1]
        assert verdict.startswith("CRITICAL: 2 replicas of Deployment shop/cart container app at 9")
        assert "3 replicas of Deployment shop/frontend CPU-throttled 60 %" in text  # the next finding
        # The filling disk is in the nodes step, critical.
        await pilot.press("b")
        text = session.plain()
        assert f"{len(STEPS) - 1}/{len(STEPS)} › Nodes" in text
        assert text.splitlines()[1].startswith(
            f"CRITICAL: Node {scenario.nodes[2].name} filesystem / (/dev/sda1) space"
        )


@pytest.mark.parametrize(
    ("convention", "inodes"), [("kube-prometheus", False), ("prometheus-stack", False), ("generic", True)]
)
def test_filesystem_filling_fast_is_critical_before_it_is_full(prometheus_for, convention: str, inodes: bool) -> None:
    scenario = Scenario.disk_filling(node=2, used=0.78, minutes_to_full=20.0, inodes=inodes, convention=convention)
    node = scenario.nodes[2]
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    resource = "inodes" if inodes else "space"
    assert top.component is Component.NODE and top.subject == node.name
    assert top.severity is Level.CRITICAL
    assert f"node.filesystem_{resource}_filling" in rules_of(top)
    # 20 minutes from the anchor at a linear fill; the test runs a little after the anchor.
    [left] = [e.value for e in top.evidence if e.detail == "seconds until full"]
    assert 15 * 60 < left <= 20 * 60 * 1.02
    assert f"filesystem / (/dev/sda1) {resource} 7" in top.title
    assert f"% used, full in {fmt_seconds(Value.of(left))} at the trend of the last 1h" in top.title
    [free] = [e.value for e in top.evidence if e.detail.startswith("free ")]
    assert free == pytest.approx(0.22, abs=0.03)
    assert "NodeFilesystemSpaceFillingUp" in " ".join(e.detail for e in top.evidence)
    assert "deriv(node_filesystem_" in top.evidence[0].query
    # 78 % used is under the node's saturation thresholds: only the runway makes it critical.
    assert "node.disk_saturated" not in rules_of(top)
    # Only that node's filesystem is filling.
    runway = [f for f in report.findings if rules_of(f) & set(SIGNAL_RULES[2:])]
    assert [f.subject for f in runway] == [node.name]


@pytest.mark.parametrize("convention", ["kube-prometheus", "generic", "prometheus-stack"])
def test_slow_pleg_names_the_node(prometheus_for, convention: str) -> None:
    scenario = Scenario.sick_kubelet(node=1, pleg_relist_p99=12.0, convention=convention)
    node = scenario.nodes[1]
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.id == f"kubelet.pleg_slow:{node.name}"
    assert top.component is Component.KUBELET and top.subject == node.name
    assert top.severity is Level.WARNING
    # 12 s is past the top bucket (10 s): only a lower bound is known, and it is past the threshold.
    assert top.evidence[0].value == pytest.approx(10.0)
    assert "PLEG relist p99 >= 10 s" in top.title
    assert "KubeletPlegDurationHigh" in top.evidence[0].detail
    assert [f.subject for f in report.findings if f.id.startswith("kubelet.pleg_slow")] == [node.name]


def test_evictions_and_pressure_name_the_node(prometheus_for) -> None:
    scenario = Scenario.sick_kubelet(
        node=3, evictions_per_hour=(("memory.available", 6.0), ("nodefs.available", 2.0)), pressure=("MemoryPressure",)
    )
    node = scenario.nodes[3]
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.id == f"kubelet.evictions:{node.name}" and top.subject == node.name
    assert top.component is Component.KUBELET and top.severity is Level.WARNING
    assert "memory.available 6" in top.title and "nodefs.available 2" in top.title
    assert sorted(round(e.value) for e in top.evidence) == [2, 6]
    [pressure] = [f for f in report.findings if "node.pressure" in rules_of(f)]
    assert pressure.subject == node.name and "MemoryPressure" in pressure.title
    others = [f for f in report.findings if rules_of(f) & {"kubelet.evictions", "node.pressure"}]
    assert {f.subject for f in others} == {node.name}


@pytest.mark.parametrize("ksm_v1", [False, True])
def test_hpa_maxed_out(prometheus_for, ksm_v1: bool) -> None:
    hpas = (
        Hpa("shop", "frontend", current=10, desired=16, min_replicas=2, max_replicas=10),
        Hpa("shop", "cart", current=3, desired=3, min_replicas=2, max_replicas=10),
    )
    report = report_for(prometheus_for, Scenario.healthy(hpas=hpas, ksm_v1=ksm_v1))
    top = report.findings[0]
    assert top.id == "workload.hpa_maxed:shop/frontend" and top.subject == "shop/frontend"
    assert top.component is Component.WORKLOAD and top.severity is Level.WARNING
    assert "at its maximum of 10 replicas (desired 16" in top.title
    values = {e.detail: e.value for e in top.evidence}
    assert values == {"current replicas": 10, "desired replicas": 16, "maxReplicas": 10, "minReplicas": 2}
    metric = "kube_hpa" if ksm_v1 else "kube_horizontalpodautoscaler"
    assert all(f"{metric}_" in e.query for e in top.evidence)
    assert not [f for f in report.findings if "shop/cart" in f.subject]
