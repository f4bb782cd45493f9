"""Readable snapshots of the main screens at 80x24, built from the bundled recording.

No Prometheus and no kube API: the demo recording is replayed, paused at its last moment, so
every screen is a pure function of recorded facts. A snapshot is the screen as plain text in
tests/snapshots/NAME.txt; a difference fails with both versions side by side. After a change
to what users see, review the new screens and accept them with
`K8STOP_UPDATE_SNAPSHOTS=1 python3 -m pytest -q tests/test_snapshots.py`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.recording import Recording, read_recording
from k8stop.queries.feeds.replay import ReplaySource
from k8stop.tui.replay_app import DEMO_BANNER, ReplayApp
from k8stop.tui.replay_command import demo_path
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from screen import screen_text, wait_for

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("K8STOP_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="module")
def recording() -> Recording:
    return read_recording(demo_path())


@pytest.fixture
async def demo(recording: Recording) -> AsyncIterator[tuple[ReplayApp, object]]:
    source = ReplaySource(recording, loop=False, demo=True, speed=8.0)
    app = ReplayApp(Settings(), source, banner=DEMO_BANNER)
    async with app.run_test(size=(80, 24)) as pilot:
        panels = app.dashboard.panels().values()
        await wait_for(pilot, lambda: all(panel.facts is not None for panel in panels), what="every panel drawn")
        await pilot.press("right_curly_bracket", "space")  # the end of the incident, held still
        await wait_for(pilot, lambda: source.paused and source.now() == recording.last, what="paused at the end")
        app.dashboard.update_incident()  # the banner follows the updates once a second: now, for the shot
        await pilot.pause(0.3)
        yield app, pilot


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    shown = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}: review the screen and accept it with K8STOP_UPDATE_SNAPSHOTS=1")
        path.write_text(shown, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if shown != expected:
        diff = "\n".join(
            difflib.unified_diff(expected.splitlines(), shown.splitlines(), "snapshot", "screen", lineterm="")
        )
        pytest.fail(f"{path.name} differs from the screen (accept with K8STOP_UPDATE_SNAPSHOTS=1):\n{diff}")


async def settle_on(pilot: object, app: ReplayApp, ready: object, what: str) -> None:
    await wait_for(pilot, ready, what=what)  # type: ignore[arg-type]
    await pilot.pause(0.3)  # type: ignore[attr-defined]


async def test_dashboard(demo: tuple[ReplayApp, object]) -> None:
    app, _ = demo
    assert_snapshot("dashboard", screen_text(app))


@pytest.mark.parametrize(("name", "tabs"), [("api-detail", 0), ("etcd-member", 1), ("node", 2), ("pod", 3)])
async def test_drill_down(demo: tuple[ReplayApp, object], name: str, tabs: int) -> None:
    app, pilot = demo
    await pilot.press(*(["tab"] * tabs), "enter")  # type: ignore[attr-defined]
    await settle_on(pilot, app, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, name)
    assert_snapshot(name, screen_text(app))


@pytest.mark.parametrize(("name", "key"), [("kpi-scorecard", "s"), ("alerts", "a"), ("control-plane", "c")])
async def test_screen_one_key_away(demo: tuple[ReplayApp, object], name: str, key: str) -> None:
    app, pilot = demo
    await pilot.press(key)  # type: ignore[attr-defined]
    await settle_on(pilot, app, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, name)
    assert_snapshot(name, screen_text(app))


async def test_guided_diagnosis(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    await pilot.press("d")  # type: ignore[attr-defined]
    await settle_on(
        pilot, app, lambda: isinstance(app.screen, DiagnosisScreen) and app.screen.report is not None, "diagnosis"
    )
    assert_snapshot("diagnosis", screen_text(app))


async def test_help(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    await pilot.press("question_mark")  # type: ignore[attr-defined]
    await pilot.pause(0.3)  # type: ignore[attr-defined]
    assert "help" in screen_text(app).lower()
    assert_snapshot("help", screen_text(app))
