"""Drill-down screens in the live app against a real Prometheus: Enter opens them from the
dashboard at 80x24, the numbers shown are the scenario's, Esc restores the dashboard's focus."""

from __future__ import annotations

import pytest
from drilldown_scenarios import SEED_RULES, growing, incidents
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.keys import ApiKey, EtcdKey, NodeKey, PodKey, RowKey
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.alerts_screen import AlertsScreen
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.kpi_screen import KpiScreen
from screen import wait_for, wait_for_facts

FEEDS = ("apiserver", "etcd", "nodes", "restarts")


def make_app(url: str) -> K8sTopApp:
    return K8sTopApp(Settings(prometheus_url=url, use_kube=False, refresh=1.0), LiveSource)


async def ready(pilot, app: K8sTopApp) -> None:
    await wait_for(
        pilot, lambda: all(app.dashboard.panels()[f].facts is not None for f in FEEDS), what="dashboard data"
    )


async def drill(pilot, app: K8sTopApp, feed: str) -> DetailScreen:
    app.dashboard.focus_panel(feed)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(
        pilot, lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.texts), what=f"{feed} detail"
    )
    return app.screen  # type: ignore[return-value]


async def back(pilot, app: K8sTopApp, feed: str, key: RowKey | None) -> None:
    await pilot.press("escape")
    await pilot.pause()
    assert app.screen is app.dashboard
    panel = app.dashboard.panels()[feed]
    assert app.dashboard.focused is panel
    assert panel.selected_key == key


async def test_drill_into_each_panel(prometheus_for) -> None:
    s = incidents()
    prom = prometheus_for(s)
    app = make_app(prom.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)

        # API server: the busiest pair is the LIST pods storm.
        key = app.dashboard.panels()["apiserver"].selected_key
        assert key == ApiKey("LIST", "pods")
        screen = await drill(pilot, app, "apiserver")
        text = screen.text_of()
        assert f"p99 {fmt_seconds(Value.of(s.expected_api_quantile('LIST', 'pods')))}" in text
        assert "429 40/s" in text and "rate 300/s" in text
        assert text.count("readOnly 400/400 (100%)") == len(s.apiserver_ips)
        await back(pilot, app, "apiserver", key)

        # etcd: the slow member first, its fsync p99 and the seed's disk guidance.
        key = app.dashboard.panels()["etcd"].selected_key
        assert key == EtcdKey("10.0.0.2:2379")
        screen = await drill(pilot, app, "etcd")
        text = screen.text_of()
        assert f"wal fsync p99 {fmt_seconds(Value.of(s.expected_etcd_quantile('etcd-b')))}" in text
        assert "IOPS > 5000" in text and "fio --name=etcd-test" in text
        assert "not growing toward the quota" in text
        await back(pilot, app, "etcd", key)

        # Nodes: the saturated node first; kube-only parts say why they are missing.
        hot = s.nodes[2]
        key = app.dashboard.panels()["nodes"].selected_key
        assert key == NodeKey(hot.name)
        screen = await drill(pilot, app, "nodes")
        text = screen.text_of()
        assert f"{hot.name}: cpu {hot.cpu:.0%}  memory {hot.memory:.0%}  disk {hot.disk:.0%}" in text
        assert "need the kube API" in text
        await back(pilot, app, "nodes", key)

        # Pod: a crash-looping checkout pod, from the restarts feed.
        key = app.dashboard.panels()["restarts"].selected_key
        assert isinstance(key, PodKey) and key.namespace == "shop" and key.pod.startswith("checkout-")
        screen = await drill(pilot, app, "restarts")
        assert "waiting CrashLoopBackOff  last terminated OOMKilled" in screen.text_of()
        await back(pilot, app, "restarts", key)


async def test_scorecard_and_control_plane(prometheus_for) -> None:
    s = incidents()
    app = make_app(prometheus_for(s).url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await wait_for_facts(pilot, "control_plane", what="control plane")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, KpiScreen) and bool(app.screen.texts), what="KPIs")
        kpis = {k.id: k for k in app.screen.kpis}
        fsync = kpis["etcd.wal_fsync_p99"]
        # 0.2 s: above the seed's 10 ms target, below the mixin's 0.5 s alert.
        assert fsync.status is Level.WARN
        assert fsync.value.number == pytest.approx(s.expected_etcd_quantile("etcd-b"), rel=0.02)
        assert kpis["scheduler.throughput"].value.number == pytest.approx(s.scheduler.binding_rate, rel=0.02)
        assert any("▲ warn" in t and "fsync" in t for t in app.screen.texts)
        await pilot.press("escape")
        assert app.screen is app.dashboard

        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.texts), what="sched")
        text = app.screen.text_of()
        assert "pending by queue: active 0" in text
        assert "endpoint_slice" in text and "depth target < 1000" in text
        await pilot.press("escape")
        assert app.focused is app.dashboard.panels()["apiserver"]


async def test_alerts_builtin_when_no_rules(prometheus_for) -> None:
    app = make_app(prometheus_for(incidents()).url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, AlertsScreen) and app.screen.facts is not None and app.screen.loaded,
            what="alerts",
        )
        facts = app.screen.facts
        assert {a.name for a in facts.alerts} == {"APIServerLatencyHigh", "EtcdDiskLatencyHigh", "NodeCPUHigh"}
        assert all(a.source == "k8stop" for a in facts.alerts)
        assert "evaluated the seed's three rules" in str(app.screen.query_one("#state").render())
        assert app.screen.texts[0].startswith("✖ firing  critical EtcdDiskLatencyHigh")


def rules_evaluated(prometheus: object) -> bool:
    """Every rule of the group has run once: a group evaluates its rules one after another, so
    on a loaded machine the alerts API can show the first rules' alerts before the last ran."""
    groups = prometheus.api("rules")["groups"]  # type: ignore[attr-defined,index]
    return all(not rule["lastEvaluation"].startswith("0001") for g in groups for rule in g["rules"])


async def test_alerts_from_prometheus_rules(prometheus_for) -> None:
    prometheus = prometheus_for(growing(), rules=SEED_RULES)
    app = make_app(prometheus.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: rules_evaluated(prometheus), timeout=30.0, what="rules evaluated")
        await ready(pilot, app)
        await pilot.press("a")

        def shown() -> bool:
            screen = app.screen
            if not isinstance(screen, AlertsScreen) or screen.facts is None or not screen.loaded:
                return False
            if not screen.facts.alerts:  # rules evaluate every 5 s: ask again
                screen.action_reload()
                return False
            return True

        await wait_for(pilot, shown, timeout=30.0, what="Prometheus alerts")
        facts = app.screen.facts
        assert facts.server_has_rules and all(a.source == "prometheus" for a in facts.alerts)
        states = {(a.name, a.state) for a in facts.alerts}
        assert ("EtcdDiskLatencyHigh", "firing") in states
        assert ("NodeCPUHigh", "pending") in states  # its `for: 1h` has not elapsed
        assert facts.alerts[0].severity == "critical"


async def test_tiny_terminal_does_not_crash(prometheus_for) -> None:
    app = make_app(prometheus_for(incidents()).url)
    async with app.run_test(size=(40, 12)) as pilot:
        await ready(pilot, app)
        screen = await drill(pilot, app, "etcd")
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.loaded)
        await pilot.press("escape")
        assert app.screen is app.dashboard
