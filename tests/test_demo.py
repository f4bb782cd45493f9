"""The bundled demo (`k8stop demo`) at 80x24: one coherent incident in every view.

The recording was made by tests/tools/make_demo.py from `demo_scenario()` and the kube-API
cluster built from that same scenario; the assertions are the scenario's values, so a demo
regenerated from a changed scenario (or the wrong cluster) fails here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from kubeapi.from_scenario import cluster_from_scenario
from kubeapi.objects import Obj
from scenario import Scenario
from screen import screen_text, wait_for

sys.path.insert(0, str(Path(__file__).parent / "tools"))
from k8stop.queries.config import Settings
from k8stop.queries.drill.data import RECORDED_NOTE
from k8stop.queries.feeds.recording import Recording, read_recording
from k8stop.queries.feeds.replay import ReplaySource
from k8stop.queries.model.finding import Component
from k8stop.queries.model.keys import ApiKey, EtcdKey
from k8stop.queries.model.units import fmt_rate, fmt_seconds
from k8stop.tui.replay_app import DEMO_BANNER, ReplayApp
from k8stop.tui.replay_command import demo_path
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from k8stop.widgets.chart_plot import ChartPlot
from make_demo import demo_scenario

PANELS = ("apiserver", "etcd", "nodes", "restarts")
SCENARIO: Scenario = demo_scenario()


@pytest.fixture(scope="module")
def recording() -> Recording:
    rec = read_recording(demo_path())
    assert demo_path().stat().st_size < 2 * 1024 * 1024 and not rec.truncated
    return rec


@pytest.fixture
async def demo(recording: Recording) -> AsyncIterator[tuple[ReplayApp, object]]:
    source = ReplaySource(recording, loop=True, demo=True, speed=8.0)
    app = ReplayApp(Settings(), source, banner=DEMO_BANNER)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: all(app.dashboard.panels()[f].facts is not None for f in PANELS), what="data in every panel"
        )
        await pilot.press("right_curly_bracket", "space")  # the end of the incident, held still
        await pilot.pause(0.3)
        assert source.paused and source.now() == recording.last
        yield app, pilot


def slow_member() -> tuple[str, str]:
    """(name, ip) of the member the scenario made slow."""
    member = max(SCENARIO.etcd, key=lambda m: m.wal_fsync_p99)
    return member.name, member.ip


def kube_object(resource: str, name: str, namespace: str = "") -> Obj:
    obj = cluster_from_scenario(SCENARIO).get(resource, namespace, name)
    assert obj is not None, (resource, namespace, name)
    return obj


async def open_drill(pilot: object, app: ReplayApp, feed: str) -> DetailScreen:
    app.dashboard.focus_panel(feed)
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, what=f"{feed} drill-down")
    return app.screen  # type: ignore[return-value]


async def test_dashboard_shows_the_incident(demo: tuple[ReplayApp, object]) -> None:
    app, _ = demo
    text = screen_text(app)
    assert DEMO_BANNER[:30] in text and "DEMO" in app.dashboard.query_one("#header").flags
    for feed in PANELS:
        assert app.dashboard.panels()[feed].facts is not None, feed
    _, ip = slow_member()
    etcd = app.dashboard.panels()["etcd"].facts
    assert ip in etcd.members[0].instance and etcd.members[0].wal_fsync_p99.number > 0.1
    # The slow member leads; with the incident banner shown, 80x24 may have room for one more.
    others = [text.index(m.ip) for m in SCENARIO.etcd if m.ip != ip and m.ip in text]
    assert others and text.index(ip) < min(others)
    saturated = max(SCENARIO.nodes, key=lambda n: n.cpu)
    assert app.dashboard.panels()["nodes"].facts.worst[0].node == saturated.name
    looping = {p.name for p in SCENARIO.pods if any(c.waiting_reason for c in p.containers)}
    assert {r.pod for r in app.dashboard.panels()["restarts"].facts.top[: len(looping)]} == looping


async def test_node_drill_down_shows_kube_conditions_and_pods(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    node = app.dashboard.panels()["nodes"].facts.worst[0].node
    screen = await open_drill(pilot, app, "nodes")
    assert screen.heading.startswith(f"node › {node}")
    text = screen.text_of()
    ready = next(c for c in kube_object("nodes", node)["status"]["conditions"] if c["type"] == "Ready")
    assert f"Ready={ready['status']}" in text and "Ready=Unknown" not in text
    for pod in SCENARIO.pods:
        assert (f"{pod.namespace}/{pod.name}" in text) is (pod.node == node), pod.name


async def test_pod_drill_down_shows_the_same_pod_from_kube(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    top = app.dashboard.panels()["restarts"].facts.top[0]
    screen = await open_drill(pilot, app, "restarts")
    text = screen.text_of()
    obj = kube_object("pods", top.pod, top.namespace)
    (status,) = obj["status"]["containerStatuses"]
    assert f"node {obj['spec']['nodeName']}" in text
    assert f"restarts {status['restartCount']}" in text and "exit 137" in text
    assert "BackOff" in text and "the kube API does not know this pod" not in text


async def test_guided_diagnosis_puts_the_slow_etcd_member_first(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    await pilot.press("d")  # type: ignore[attr-defined]
    await wait_for(
        pilot, lambda: isinstance(app.screen, DiagnosisScreen) and app.screen.report is not None, what="diagnosis"
    )
    report = app.screen.report
    assert report is not None
    first = report.findings[0]
    _, ip = slow_member()
    assert first.component is Component.ETCD
    assert any(ip in member for member in first.label_values("etcd_member")), first


def test_report_on_the_demo_names_the_slow_etcd_member_first() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "k8stop.tui.cli", "report", "--replay", str(demo_path()), "--format", "json"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first = orjson.loads(done.stdout)["findings"][0]
    _, ip = slow_member()
    assert first["component"] == "etcd" and ip in first["subject"], first


async def test_a_recording_cannot_switch_context(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    source = app.source
    await pilot.press("colon", *"ctx prod", "enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert app.source is source
    assert any("cannot switch context" in str(n.message) for n in app._notifications)


async def test_api_and_etcd_drill_downs_draw_from_the_recording(
    demo: tuple[ReplayApp, object], recording: Recording
) -> None:
    app, pilot = demo
    state = recording.state_at(recording.last)
    screen = await open_drill(pilot, app, "apiserver")
    key = app.dashboard.panels()["apiserver"].selected_key
    assert isinstance(key, ApiKey) and screen.key == key
    stat = next(r for r in state["apiserver"].facts.requests if (r.verb, r.resource) == (key.verb, key.resource))
    text = screen.text_of()
    assert f"p99 {fmt_seconds(stat.p99)}" in text and f"rate {fmt_rate(stat.rate)}" in text
    assert f"4xx {fmt_rate(stat.rate_4xx)}  429 {fmt_rate(stat.rate_429)}" in text and "2xx/3xx n/a" in text
    assert "all API servers" in text and not screen.query_one("#state").has_class("error")
    # one point per recorded update (the demo is shorter than the hour a chart spans)
    p99 = next(plot.chart for plot in screen.query(ChartPlot) if plot.chart.unit == "s").lines[2]
    assert p99.label == "p99" and p99.values[-1] == stat.p99
    assert p99.times == tuple(u.at for u in recording.updates if u.feed == "apiserver" and u.facts is not None)
    window = "charts: last 1h   W next window, :window 6h, :since 14:05"
    assert str(screen.query_one("#state").render()) == f"{window}\n{RECORDED_NOTE}"
    await pilot.press("escape")  # type: ignore[attr-defined]

    _, ip = slow_member()
    screen = await open_drill(pilot, app, "etcd")
    assert isinstance(screen.key, EtcdKey) and ip in screen.key.instance
    member = next(m for m in state["etcd"].facts.members if m.instance == screen.key.instance)
    text = screen.text_of()
    assert f"wal fsync p99 {fmt_seconds(member.wal_fsync_p99)}" in text
    # the DB growth fit works on the recorded sizes as it does on Prometheus' range
    assert "DB growth" in text and "not enough samples" not in text


async def test_control_plane_charts_in_a_replay(demo: tuple[ReplayApp, object], recording: Recording) -> None:
    app, pilot = demo
    await pilot.press("c")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, what="sched")
    facts = recording.state_at(recording.last)["control_plane"].facts
    charts = {plot.chart.title: plot.chart for plot in app.screen.query(ChartPlot)}
    throughput = charts["pods bound per second"].lines[0]
    assert throughput.values[-1] == facts.scheduler.throughput
    recorded = [u for u in recording.updates if u.feed == "control_plane" and u.facts is not None]
    assert throughput.times[-1] == recorded[-1].at and len(throughput.times) > 1
    # It ends, like every drill-down, with the commands to run next (the demo has no --context).
    assert "  $ kubectl get pods -A --field-selector status.phase=Pending -o wide" in app.screen.text_of()
