"""Regenerate the SVG screenshots in this folder from real runs of the app.

The app runs against the test fixtures: Debian's real Prometheus backfilled with an
incident scenario (tests/scenario.py). Run: python3 screenshots/regenerate.py
"""
from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from prometheus_fixture import start_prometheus  # noqa: E402
from scenario import Scenario  # noqa: E402
from screen import wait_for  # noqa: E402

from k8stop.queries.config import Settings  # noqa: E402
from k8stop.tui.app import K8sTopApp  # noqa: E402
from k8stop.tui.live_source import LiveSource  # noqa: E402

Steps = Callable[[object], Awaitable[None]]


def incident() -> Scenario:
    """The slow etcd member spreading into API latency, a hot node, a crash-looping deployment."""
    slow = Scenario.slow_etcd_member(member=1, fsync_p99=0.2, commit_p99=0.35)
    return replace(
        slow.starting(900),
        name="screenshot-incident",
        nodes=Scenario.cpu_saturated_node(node=2).nodes,
        pods=Scenario.crashloop().pods,
    )


async def no_steps(pilot: object) -> None:
    return None


async def shoot(url: str, name: str, size: tuple[int, int], steps: Steps = no_steps) -> None:
    app = K8sTopApp(Settings(prometheus_url=url, use_kube=False, refresh=1.0), LiveSource)
    async with app.run_test(size=size) as pilot:
        panels = app.dashboard.panels()
        await wait_for(
            pilot,
            lambda: all(panels[f].facts is not None for f in ("apiserver", "etcd", "nodes", "restarts")),
            what="data in every panel",
        )
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


DRILLDOWNS = (
    ("api-detail", "apiserver", "enter"),
    ("etcd-member", "etcd", "enter"),
    ("node", "nodes", "enter"),
    ("pod", "restarts", "enter"),
    ("control-plane", None, "c"),
    ("kpi-scorecard", None, "s"),
    ("alerts", None, "a"),
)


async def main() -> None:
    prometheus = start_prometheus(incident())
    try:
        await shoot(prometheus.url, "dashboard-80x24", (80, 24))
        await shoot(prometheus.url, "dashboard-160x50", (160, 50))
        await shoot(prometheus.url, "help-80x24", (80, 24), help_screen)
        for name, feed, key in DRILLDOWNS:
            await shoot(prometheus.url, f"{name}-80x24", (80, 24), drill(feed, key))
    finally:
        prometheus.stop()


if __name__ == "__main__":
    asyncio.run(main())
