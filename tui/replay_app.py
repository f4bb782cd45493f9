"""The dashboard over a recording: K8sTopApp plus the replay keys and the time bar.

A subclass keeps the live app free of replay concerns; arrows stay with the panels'
rows, so seeking uses shift+arrows or [ ].
"""

from __future__ import annotations

import time
from typing import ClassVar

from k8stop.queries.config import Settings
from k8stop.queries.feeds.replay import SEEK_STEP, ReplaySource
from k8stop.tui.app import K8sTopApp
from k8stop.tui.help_screen import HELP, HelpScreen
from k8stop.widgets.time_bar import TimeBar
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

DEMO_BANNER = "DEMO: recorded incident, not your cluster"
REPLAY_HELP = """\
[b]Replay keys[/b]

 space / p         pause / play
 > or .            faster (1x 2x 4x 8x)
 < or ,            slower
 ] or shift+→      forward one minute
 [ or shift+←      back one minute
 {  }              start / end of the recording
                   (home / end / page keys stay with scrolling)
 r                 re-show the current moment
"""


class ReplayHelpScreen(HelpScreen):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(HELP + "\n" + REPLAY_HELP)


class ReplayApp(K8sTopApp):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "Play/Pause"),
        Binding("greater_than_sign,full_stop", "replay_faster", "Faster", show=False),
        Binding("less_than_sign,comma", "replay_slower", "Slower", show=False),
        Binding("right_square_bracket,shift+right", f"replay_seek({SEEK_STEP:g})", "+1m"),
        Binding("left_square_bracket,shift+left", f"replay_seek({-SEEK_STEP:g})", "-1m"),
        # Not home/end: those scroll a drill-down, and must never move the replay under it.
        Binding("left_curly_bracket", "replay_start", "Start", show=False),
        Binding("right_curly_bracket", "replay_end", "End", show=False),
    ]

    def __init__(self, settings: Settings, source: ReplaySource, banner: str = "") -> None:
        super().__init__(settings, lambda _settings: source)
        self.replay = source
        self.banner = banner
        self._bar: TimeBar | None = None  # mounted once the dashboard is up

    def _start_source(self) -> None:
        # K8sTopApp.on_mount pushed the dashboard and scheduled this: the bar can join it now.
        self._bar = TimeBar(self.banner, id="time-bar")
        self.dashboard.mount(self._bar, after=self.dashboard.query_one("#grid"))
        self.set_interval(0.25, self._show_position)
        super()._start_source()

    def _show_position(self) -> None:
        bar = self._bar
        if bar is None:
            return
        source = self.replay
        bar.start, bar.end = source.start, source.end
        bar.position = source.now()
        bar.speed = source.speed
        bar.paused = source.paused

    def panel_mode(self) -> str:
        """REPLAY or PAUSED and the recorded time: never "live" over a recording."""
        state = "PAUSED" if self.replay.paused else "REPLAY"
        return f"{state} {time.strftime('%H:%M:%S', time.localtime(self.now()))}"

    def action_help(self) -> None:
        self.push_screen(ReplayHelpScreen())

    def action_replay_faster(self) -> None:
        self.replay.faster()
        self._show_position()

    def action_replay_slower(self) -> None:
        self.replay.slower()
        self._show_position()

    def action_replay_seek(self, seconds: float) -> None:
        self.replay.seek(seconds)
        self._tick()
        self._show_position()

    def action_replay_start(self) -> None:
        self.replay.jump_start()
        self._tick()
        self._show_position()

    def action_replay_end(self) -> None:
        self.replay.jump_end()
        self._tick()
        self._show_position()
