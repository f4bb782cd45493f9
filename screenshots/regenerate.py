"""Regenerate the SVG screenshots in this folder from real runs of the app.

The app runs against the test fixtures: Debian's real Prometheus backfilled with an
incident scenario (tests/scenario.py) and the kube-API test server serving the same
cluster (tests/kubeapi/from_scenario.py); the demo shot plays the bundled recording.
Run: python3 screenshots/regenerate.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from k8stop.queries.config import Settings  # noqa: E402
from k8stop.queries.feeds.live import LiveSource  # noqa: E402
from k8stop.tui.app import K8sTopApp  # noqa: E402
from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig  # noqa: E402
from kubeapi.from_scenario import cluster_from_scenario  # noqa: E402
from prometheus_fixture import PrometheusHandle, start_prometheus  # noqa: E402
from scenario import Fleet, Scenario  # noqa: E402
from screen import wait_for  # noqa: E402

Steps = Callable[[object], Awaitable[None]]
PANELS = ("apiserver", "etcd", "nodes", "restarts")


def incident() -> Scenario:
    """The slow etcd member spreading into API latency, a hot node, a crash-looping deployment."""
    slow = Scenario.slow_etcd_member(member=1, fsync_p99=0.2, commit_p99=0.35)
    return replace(
        slow.starting(900),
        name="screenshot-incident",
        nodes=Scenario.cpu_saturated_node(node=2).nodes,
        pods=Scenario.crashloop().pods,
    )


@contextmanager
def running(scenario: Scenario | Fleet) -> Iterator[PrometheusHandle]:
    """A real Prometheus backfilled with the scenario, stopped however the shots end."""
    prometheus = start_prometheus(scenario)
    try:
        yield prometheus
    finally:
        prometheus.stop()


@contextmanager
def serving(
    cluster: Cluster, prometheus: PrometheusHandle, context: str
) -> Iterator[tuple[ThreadedKubeApiServer, Settings]]:
    """The kube-API test server holding the cluster, and the app's settings for it and Prometheus."""
    with ThreadedKubeApiServer(cluster) as kube, tempfile.TemporaryDirectory() as tmp:
        kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", kube.url, kube.token, context=context)
        yield kube, Settings(prometheus_url=prometheus.url, kubeconfig=str(kubeconfig), refresh=1.0)


async def no_steps(pilot: object) -> None:
    return None


async def shoot(settings: Settings, name: str, size: tuple[int, int], steps: Steps = no_steps) -> None:
    app = K8sTopApp(settings, LiveSource)
    async with app.run_test(size=size) as pilot:
        panels = app.dashboard.panels()
        await wait_for(pilot, lambda: all(panels[f].facts is not None for f in PANELS), what="data in every panel")
        await pilot.pause(0.5)
        await steps(pilot)
        await pilot.pause(0.5)
        app.save_screenshot(f"{name}.svg", str(HERE))
    print(f"wrote screenshots/{name}.svg")


async def help_screen(pilot: object) -> None:
    await pilot.press("question_mark")  # type: ignore[attr-defined]


def drill(feed: str | None, key: str = "enter") -> Steps:
    """Open a drill-down (Enter on a panel's first row, or a screen key) and wait for it to load."""

    async def steps(pilot: object) -> None:
        from k8stop.tui.screens.detail_screen import DetailScreen

        app = pilot.app  # type: ignore[attr-defined]
        if feed is not None:
            app.dashboard.focus_panel(feed)
            await pilot.pause()  # type: ignore[attr-defined]
        await pilot.press(key)  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, what="drill-down")

    return steps


def keys(*pressed: str, settle: float = 2.0) -> Steps:
    """Press keys (a screen's key, or `:` and a command), then let the screen load."""

    async def steps(pilot: object) -> None:
        await pilot.press(*pressed)  # type: ignore[attr-defined]
        await pilot.pause(settle)  # type: ignore[attr-defined]

    return steps


async def evidence(pilot: object) -> None:
    """`y` on the API drill-down: its PromQL and the next commands."""
    await drill("apiserver")(pilot)
    await keys("y", settle=1.0)(pilot)


DRILLDOWNS = (
    ("api-detail", "apiserver", "enter"),
    ("etcd-member", "etcd", "enter"),
    ("node", "nodes", "enter"),
    ("pod", "restarts", "enter"),
    ("control-plane", None, "c"),
    ("kpi-scorecard", None, "s"),
    ("alerts", None, "a"),
)


async def diagnosis(pilot: object) -> None:
    """The guided diagnosis on its etcd step, where this incident's cause is."""
    from k8stop.tui.screens.diagnosis import DiagnosisScreen

    app = pilot.app  # type: ignore[attr-defined]
    await pilot.press("d")  # type: ignore[attr-defined]
    await wait_for(
        pilot, lambda: isinstance(app.screen, DiagnosisScreen) and bool(app.screen.results), what="diagnosis"
    )
    await pilot.press("n")  # type: ignore[attr-defined]


async def demo() -> None:
    from k8stop.queries.feeds.recording import read_recording
    from k8stop.queries.feeds.replay import ReplaySource
    from k8stop.tui.replay_app import DEMO_BANNER, ReplayApp
    from k8stop.tui.replay_command import demo_path

    source = ReplaySource(read_recording(demo_path()), loop=True, demo=True)
    app = ReplayApp(Settings(), source, banner=DEMO_BANNER)
    async with app.run_test(size=(80, 24)) as pilot:
        panels = app.dashboard.panels()
        await wait_for(pilot, lambda: all(panels[f].facts is not None for f in PANELS), what="demo data")
        await pilot.press("right_curly_bracket", "space")
        await pilot.pause(0.5)
        app.save_screenshot("demo-80x24.svg", str(HERE))
    print("wrote screenshots/demo-80x24.svg")


async def config_audit() -> None:
    """The `:config` tuning and sizing audit of a large kubeadm-style cluster in trouble
    (tests/audit_cluster.py): APF rejections and a nearly full etcd make warnings of advice."""
    from audit_cluster import EVIDENCE, KUBELET, large_kubeadm_cluster
    from k8stop.tui.screens.config_screen import ConfigScreen

    async def steps(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: "audit" in app.latest, what="the audit")
        await pilot.press("t")  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: isinstance(app.screen, ConfigScreen) and bool(app.screen.checks))

    with running(EVIDENCE) as prometheus, serving(large_kubeadm_cluster(), prometheus, "large") as (kube, settings):
        kube.kubelet_configs.set_default(KUBELET)
        await shoot(settings, "config-80x24", (80, 24), steps)


def request_path_incident() -> Scenario:
    """A slow admission webhook, a LIST storm rejected by APF, a slow DNS upstream, one node's
    kube-proxy behind and another's conntrack table nearly full."""
    proxy = Scenario.slow_kube_proxy(node=1)
    nodes = tuple(replace(n, conntrack_used=0.93) if i == 4 else n for i, n in enumerate(proxy.nodes))
    return (
        Scenario.slow_webhook("policy.example.com", p99=3.0)
        .also(Scenario.list_storm())
        .also(Scenario.slow_dns())
        .also(replace(proxy, nodes=nodes))
    )


async def request_path() -> None:
    """The `e` screen on the request-path incident."""

    async def steps(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: getattr(app.latest.get("request_path"), "facts", None) is not None)
        await drill(None, "e")(pilot)

    with running(request_path_incident()) as prometheus:
        settings = Settings(prometheus_url=prometheus.url, use_kube=False, refresh=1.0)
        await shoot(settings, "request-path-80x24", (80, 24), steps)


async def workloads() -> None:
    """The `w` screen: a CPU-throttled deployment and another one heading for its memory limit."""

    async def steps(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: getattr(app.latest.get("workloads"), "facts", None) is not None)
        await drill(None, "w")(pilot)

    with running(Scenario.cpu_throttled().also(Scenario.memory_leak())) as prometheus:
        settings = Settings(prometheus_url=prometheus.url, use_kube=False, refresh=1.0)
        await shoot(settings, "workloads-80x24", (80, 24), steps)


def fleet() -> Fleet:
    """Four clusters behind one backend with the same member and node names: one slow etcd
    member, one saturated node, one crash-looping deployment, one healthy."""
    small = {"kubelet_exposed": False, "cadvisor_exposed": False, "history": 1200.0}
    return Fleet(
        (
            ("prod-us", Scenario.slow_etcd_member(member=1, fsync_p99=0.8, **small)),
            ("prod-eu", Scenario.healthy(**small)),
            ("staging", Scenario.cpu_saturated_node(node=2, **small)),
            ("dev", Scenario.crashloop(**small)),
        )
    )


async def fleet_overview() -> None:
    """The fleet screen the app opens on when the backend holds several clusters."""
    from k8stop.tui.screens.fleet_screen import FleetScreen

    with running(fleet()) as prometheus:
        app = K8sTopApp(Settings(prometheus_url=prometheus.url, use_kube=False, refresh=1.0), LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen) and app.screen.facts is not None)
            await pilot.pause(0.5)
            app.save_screenshot("fleet-80x24.svg", str(HERE))
    print("wrote screenshots/fleet-80x24.svg")


async def main() -> None:
    scenario = incident()
    with running(scenario) as prometheus:
        cluster = cluster_from_scenario(scenario, anchor=prometheus.anchor)
        with serving(cluster, prometheus, "incident") as (_, settings):
            await shoot(settings, "dashboard-80x24", (80, 24))
            await shoot(settings, "dashboard-160x50", (160, 50))
            await shoot(settings, "help-80x24", (80, 24), help_screen)
            await shoot(settings, "diagnosis-80x24", (80, 24), diagnosis)
            for name, feed, key in DRILLDOWNS:
                await shoot(settings, f"{name}-80x24", (80, 24), drill(feed, key))
            await shoot(settings, "dashboard-200x60", (200, 60))
            await shoot(settings, "events-80x24", (80, 24), keys("v"))
            await shoot(settings, "pods-80x24", (80, 24), keys("colon", *"pods", "enter"))
            await shoot(settings, "evidence-80x24", (80, 24), evidence)
    await config_audit()
    await request_path()
    await workloads()
    await fleet_overview()
    await demo()


if __name__ == "__main__":
    # `python3 screenshots/regenerate.py fleet`: only the fleet overview
    asyncio.run(fleet_overview() if sys.argv[1:] == ["fleet"] else main())
