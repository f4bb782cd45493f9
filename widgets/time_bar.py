"""One line under the panels during a replay: where in the recording, how fast, paused or not."""

from __future__ import annotations

import time
from typing import ClassVar

from k8stop.queries.model.units import clock_text
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class TimeBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"time-bar--banner", "time-bar--done", "time-bar--dim"}
    DEFAULT_CSS = """
    TimeBar { height: 1; background: $panel; color: $text; }
    TimeBar > .time-bar--banner { background: $warning; color: $background; text-style: bold; }
    TimeBar > .time-bar--done { color: $accent; }
    TimeBar > .time-bar--dim { color: $text-muted; }
    """

    start: reactive[float] = reactive(0.0)
    end: reactive[float] = reactive(0.0)
    position: reactive[float] = reactive(0.0)
    speed: reactive[float] = reactive(1.0)
    paused: reactive[bool] = reactive(False)

    def __init__(self, banner: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.banner = banner

    def render(self) -> Text:
        width = self.size.width
        line = Text()
        if self.banner:
            line.append(f" {self.banner} ", style=self.get_component_rich_style("time-bar--banner"))
            line.append(" ")
        state = f"❚❚ paused ({self.speed:g}x)" if self.paused else f"▶ {self.speed:g}x"
        offset = clock_text(self.position - self.start)
        duration = clock_text(self.end - self.start)
        wall = time.strftime("%H:%M:%S", time.localtime(self.position)) if self.position else "--:--:--"
        head = f"{state}  {offset} / {duration}  "
        tail = f"  {wall} "
        line.append(head)
        room = width - line.cell_len - len(tail)
        if room >= 8:
            span = self.end - self.start
            done = round(room * (self.position - self.start) / span) if span > 0 else room
            done = max(0, min(room, done))
            line.append("━" * done, style=self.get_component_rich_style("time-bar--done"))
            line.append("─" * (room - done), style=self.get_component_rich_style("time-bar--dim"))
        line.append(tail)
        line.truncate(width)
        return line
