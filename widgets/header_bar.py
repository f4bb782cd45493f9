"""The top line: context, version, Prometheus source, refresh, mode flags and the clock."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

MIN_SIZE = (60, 20)


class HeaderBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"header--flag", "header--dim"}
    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $primary-background; color: $text; }
    HeaderBar > .header--flag { background: $error; color: $text; text-style: bold; }
    HeaderBar > .header--dim { color: $text-muted; }
    """

    context: reactive[str] = reactive("")
    cluster: reactive[str] = reactive("")  # a fleet backend's cluster this session reads (cleaned)
    version: reactive[str] = reactive("")
    prometheus: reactive[str] = reactive("")
    refresh_seconds: reactive[float] = reactive(2.0)
    flags: reactive[tuple[str, ...]] = reactive(())  # PAUSED, REC, DEMO, TLS-UNVERIFIED...
    clock: reactive[float] = reactive(0.0)

    def render(self) -> Text:
        width = self.size.width
        screen = self.screen.size
        if screen.width < MIN_SIZE[0] or screen.height < MIN_SIZE[1]:
            # Panels cannot show rows at this size: say so rather than look empty.
            text = f" k8stop: {screen.width}x{screen.height} is too small, panels need {MIN_SIZE[0]}x{MIN_SIZE[1]} "
            return Text(text[:width], style=self.get_component_rich_style("header--flag"))
        flag_style = self.get_component_rich_style("header--flag")
        line = Text(" k8stop ", style="bold")
        for flag in self.flags:
            line.append(f" {flag} ", style=flag_style)
            line.append(" ")
        # The Prometheus source goes last: it is the longest, so it is what a narrow terminal cuts.
        parts = [
            *([f"cluster {self.cluster}"] if self.cluster else []),
            f"ctx {self.context or '-'}",
            self.version or "version ?",
            f"every {self.refresh_seconds:g}s",
            f"prom {self.prometheus or '-'}",
        ]
        line.append(" │ ".join(parts))
        clock = time.strftime("%H:%M:%S", time.localtime(self.clock or time.time()))
        line.truncate(max(0, width - len(clock) - 2))
        line.append(" " * max(1, width - line.cell_len - len(clock) - 1))
        line.append(clock + " ")
        return line
