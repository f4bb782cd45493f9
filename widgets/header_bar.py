"""The top line: context, version, Prometheus source, refresh, mode flags and the clock.

The clock is a widget of its own: it changes every second, and a terminal over SSH should
carry those eight characters, not the whole line, each time (bench/terminal_bytes.py)."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget

MIN_SIZE = (60, 20)
CLOCK_WIDTH = len(" HH:MM:SS ")


class HeaderClock(Widget):
    DEFAULT_CSS = f"""
    HeaderClock {{ dock: right; width: {CLOCK_WIDTH}; height: 1; background: $primary-background; color: $text; }}
    """

    clock: reactive[float] = reactive(0.0)

    def on_mount(self) -> None:
        parent = self.parent
        if isinstance(parent, HeaderBar):
            self.clock = parent.clock

    def render(self) -> Text:
        return Text(time.strftime(" %H:%M:%S ", time.localtime(self.clock or time.time())), style="bold")


class HeaderBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"header--flag", "header--dim"}
    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $primary-background; color: $text; }
    HeaderBar > .header--flag { background: $error; color: $text; text-style: bold; }
    HeaderBar > .header--dim { color: $text-muted; }
    """

    context: reactive[str] = reactive("")
    version: reactive[str] = reactive("")
    prometheus: reactive[str] = reactive("")
    refresh_seconds: reactive[float] = reactive(2.0)
    flags: reactive[tuple[str, ...]] = reactive(())  # PAUSED, REC, DEMO, TLS-UNVERIFIED...
    clock: reactive[float] = reactive(0.0, repaint=False)  # HeaderClock draws it

    def compose(self) -> ComposeResult:
        yield HeaderClock()

    def watch_clock(self, clock: float) -> None:
        for child in self.query(HeaderClock):  # none until composed: on_mount reads it then
            child.clock = clock

    def render(self) -> Text:
        width = self.size.width
        screen = self.screen.size
        if screen.width < MIN_SIZE[0] or screen.height < MIN_SIZE[1]:
            # Panels cannot show rows at this size: say so rather than look empty.
            text = f" k8stop: {screen.width}x{screen.height} is too small, panels need {MIN_SIZE[0]}x{MIN_SIZE[1]} "
            return Text(text[: max(0, width - CLOCK_WIDTH)], style=self.get_component_rich_style("header--flag"))
        flag_style = self.get_component_rich_style("header--flag")
        line = Text(" k8stop ", style="bold")
        for flag in self.flags:
            line.append(f" {flag} ", style=flag_style)
            line.append(" ")
        # The Prometheus source goes last: it is the longest, so it is what a narrow terminal cuts.
        parts = [
            f"ctx {self.context or '-'}",
            self.version or "version ?",
            f"every {self.refresh_seconds:g}s",
            f"prom {self.prometheus or '-'}",
        ]
        line.append(" │ ".join(parts))
        line.truncate(max(0, width - CLOCK_WIDTH))
        return line
