"""Replay without traps, on the bundled demo at 80x24: the time bar's keys leave scrolling
alone, panels say REPLAY / PAUSED and the recorded time, drill-downs show the cluster as of
the replay moment, and the alerts the incident fired are recorded and shown."""

from __future__ import annotations

import time

import test_demo
from k8stop.queries.feeds.recording import Recording
from k8stop.tui.replay_app import ReplayApp
from k8stop.tui.screens.alerts_screen import AlertsScreen
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.pods_screen import PodsScreen
from screen import screen_text, wait_for
from test_demo import SCENARIO, open_drill, slow_member

# The demo's fixtures: the recording, and the app paused at its end.
recording = test_demo.recording
demo = test_demo.demo


def clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


async def test_panels_say_paused_or_replay_with_the_recorded_time(
    demo: tuple[ReplayApp, object], recording: Recording
) -> None:
    app, pilot = demo
    text = screen_text(app)
    assert f"PAUSED {clock(recording.last)}" in text and "live" not in text
    await pilot.press("space")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: "● REPLAY " in screen_text(app), what="REPLAY in the panels")
    text = screen_text(app)
    assert "● PAUSED" not in text and "live" not in text


async def test_scrolling_keys_stay_with_a_drill_down(demo: tuple[ReplayApp, object], recording: Recording) -> None:
    app, pilot = demo
    await pilot.press("left_curly_bracket")  # type: ignore[attr-defined]
    assert app.replay.now() == recording.first
    await pilot.press("right_curly_bracket")  # type: ignore[attr-defined]
    assert app.replay.now() == recording.last
    screen = await open_drill(pilot, app, "restarts")
    body = screen.query_one("#body")
    assert body.max_scroll_y > 0  # the pod drill-down is longer than 24 rows
    for key in ("end", "home", "pagedown"):
        await pilot.press(key)  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert app.replay.now() == recording.last, key
        assert app.screen is screen
    assert body.scroll_y > 0  # page down scrolled the drill-down, not the replay


async def test_pod_drill_down_shows_the_pod_as_of_the_replay_moment(
    demo: tuple[ReplayApp, object], recording: Recording
) -> None:
    app, pilot = demo
    top = app.dashboard.panels()["restarts"].facts.top[0]
    screen = await open_drill(pilot, app, "restarts")
    assert screen.key.pod == top.pod
    end_text = screen.text_of()
    finished = [line for line in end_text.splitlines() if "last terminated" in line and " at 20" in line]
    assert finished, end_text  # at the end the recorded termination is shown, with its time
    stamp = finished[0].rsplit(" at ", 1)[1]
    await pilot.press("escape")  # type: ignore[attr-defined]

    # Five minutes in: the pod already crash-loops, but its recorded last termination came later.
    await pilot.press("left_curly_bracket", *["right_square_bracket"] * 5)  # type: ignore[attr-defined]
    moment = app.replay.now()
    assert moment == recording.first + 300
    assert time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone > moment
    screen = await open_drill(pilot, app, "restarts")
    text = screen.text_of()
    assert stamp not in text and "no previous termination" in text
    assert "the kube API does not know this pod" not in text


async def test_alerts_screen_shows_the_recorded_alerts(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    await pilot.press("a")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.loaded, what="alerts")
    text = screen_text(app)
    _, ip = slow_member()
    assert "no firing or pending alerts" not in text
    assert "firing  critical EtcdDiskLatencyHigh" in text and ip in text
    assert "Prometheus had no rules: the seed's rules as k8stop evaluated them, recorded" in text
    # The scenario's mutating verbs are 8x slower: the seed's 1 s rule fires for them, never for reads.
    alerts = app.screen.facts.alerts
    slow_verbs = {dict(a.labels).get("verb") for a in alerts if a.name == "APIServerLatencyHigh"}
    assert slow_verbs and slow_verbs <= {"POST", "PUT", "PATCH", "DELETE"}


async def test_help_lists_the_replay_keys(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    await pilot.press("question_mark", "end")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    text = screen_text(app)
    assert "{  }" in text and "start / end of the recording" in text
    assert "home / end / page keys stay with scrolling" in text
    assert not isinstance(app.screen, DetailScreen)


async def test_pod_list_in_a_replay_reads_the_recorded_pods(demo: tuple[ReplayApp, object]) -> None:
    app, pilot = demo
    await pilot.press("colon", *"pods", "enter")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, PodsScreen) and app.screen.pods is not None, what=":pods")
    scheduled = [p for p in SCENARIO.pods if p.node]
    looping = sorted(p.name for p in scheduled if any(c.waiting_reason for c in p.containers))
    await wait_for(pilot, lambda: f"{len(scheduled)} of {len(scheduled)} pods" in screen_text(app), what="count")
    rows = screen_text(app).splitlines()[4 : 4 + len(looping)]
    assert all("CrashLoopBackOff" in row for row in rows), rows
    assert sorted(app.screen.pods.rows[i].name for i in range(len(looping))) == looping
