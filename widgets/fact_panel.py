"""Base of the dashboard panels: a title bar with the feed's status, selectable rows, a filter.

Subclasses turn their facts into lines; this class owns focus, cursor, scrolling and the
status line, so every panel tells staleness and errors the same way.
"""

from __future__ import annotations

import textwrap
import time
from typing import Any, ClassVar, Generic, TypeVar

from k8stop.queries.model.keys import RowKey
from k8stop.queries.model.level import Level
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.widgets.levels import LEVEL_COMPONENT_CLASSES, describe_status, level_css
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive, var
from textual.widget import Widget

F = TypeVar("F")

Row = tuple[RowKey, Text]  # (key passed to drill-downs, rendered line)


class FactPanel(Widget, Generic[F], can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "PgUp", show=False),
        Binding("pagedown", "cursor(10)", "PgDn", show=False),
        Binding("enter", "select", "Drill down"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = LEVEL_COMPONENT_CLASSES | {
        "panel--title",
        "panel--title-focused",
        "panel--status-bad",
        "panel--cursor",
        "panel--dim",
    }
    DEFAULT_CSS = """
    FactPanel { height: 1fr; min-height: 3; }
    FactPanel > .panel--title { background: $panel; color: $text; text-style: bold; }
    FactPanel > .panel--title-focused { background: $primary; color: $text; text-style: bold; }
    FactPanel > .panel--status-bad { color: $error; text-style: bold; }
    FactPanel > .panel--cursor { background: $boost; text-style: reverse; }
    FactPanel > .panel--dim { color: $text-muted; }
    FactPanel > .level--unknown { color: $text-muted; }
    FactPanel > .level--ok { color: $success; }
    FactPanel > .level--info { color: $warning; }
    FactPanel > .level--warn { color: $warning; text-style: bold; }
    FactPanel > .level--fail { color: $error; text-style: bold; }
    """

    TITLE: ClassVar[str] = ""

    facts: reactive[Any] = reactive(None, always_update=False)
    # Status and clock change on every poll and tick; the panel repaints only when the status
    # line they produce changes (see _status_changed), which keeps an idle dashboard cheap.
    status: var[FeedStatus] = var(FeedStatus(FeedState.WAITING))
    now: var[float] = var(0.0)
    mode: var[str] = var("")  # said instead of "live" when paused or replaying
    cursor: reactive[int] = reactive(0)
    filter_text: reactive[str] = reactive("")

    class Selected(Message):
        """The user pressed Enter on a row: the app opens the drill-down for it."""

        def __init__(self, panel: FactPanel[Any], key: RowKey) -> None:
            super().__init__()
            self.panel = panel
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._offset = 0
        self._status_text = ""

    def _status_line(self) -> str:
        return describe_status(self.status, self.now or time.time(), self.mode)

    def _status_changed(self) -> None:
        text = self._status_line()
        if text != self._status_text:
            self._status_text = text
            self.refresh()

    def watch_status(self) -> None:
        self._status_changed()

    def watch_now(self) -> None:
        self._status_changed()

    def watch_mode(self) -> None:
        self._status_changed()

    # --- for subclasses ------------------------------------------------------------------

    def summary_lines(self, facts: F, width: int) -> list[Text]:
        return []

    def row_lines(self, facts: F, width: int) -> list[Row]:
        return []

    def footer_lines(self, facts: F, width: int) -> list[Text]:
        return []

    def empty_text(self) -> str:
        return "no data yet"

    def level_style(self, level: Level) -> Style:
        return self.get_component_rich_style(level_css(level))

    # --- behaviour -------------------------------------------------------------------------

    def _visible_rows(self, width: int) -> list[Row]:
        if self.facts is None:
            return []
        rows = self.row_lines(self.facts, width)
        if self.filter_text:
            needle = self.filter_text.lower()
            rows = [row for row in rows if needle in row[1].plain.lower()]
        return rows

    @property
    def selected_key(self) -> RowKey | None:
        rows = self._visible_rows(max(self.size.width, 1))
        if not rows:
            return None
        return rows[min(self.cursor, len(rows) - 1)][0]

    def action_cursor(self, delta: int) -> None:
        count = len(self._visible_rows(max(self.size.width, 1)))
        self.cursor = max(0, min(self.cursor + delta, count - 1)) if count else 0

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def watch_filter_text(self) -> None:
        self.cursor = 0

    def render(self) -> Text:
        width = max(self.size.width, 10)
        height = max(self.size.height, 1)
        title_style = self.get_component_rich_style("panel--title-focused" if self.has_focus else "panel--title")
        lines: list[Text] = [self._title_line(width, title_style)]
        facts = self.facts
        if facts is None:
            lines.extend(self._no_facts_lines(width))
            return Text("\n").join(lines[:height])
        if self.status.state is FeedState.STALE:
            # The title is cut in narrow panels; the age and the reason must stay readable.
            problem = Text(
                describe_status(self.status, self.now or time.time()),
                style=self.get_component_rich_style("panel--status-bad"),
            )
            problem.truncate(width, overflow="ellipsis")
            lines.append(problem)
        lines.extend(self.summary_lines(facts, width))
        footer = self.footer_lines(facts, width)
        rows = self._visible_rows(width)
        room = max(0, height - len(lines) - len(footer))
        if self.filter_text:
            count = f"{len(rows)} match" + ("" if len(rows) == 1 else "es")
            footer = [Text(f"filter: /{self.filter_text}  ({count})", style="italic")] + footer
            room = max(0, room - 1)
        cursor = min(self.cursor, max(0, len(rows) - 1))
        if cursor < self._offset:
            self._offset = cursor
        elif room and cursor >= self._offset + room:
            self._offset = cursor - room + 1
        self._offset = max(0, min(self._offset, max(0, len(rows) - room)))
        cursor_style = self.get_component_rich_style("panel--cursor")
        for index in range(self._offset, min(len(rows), self._offset + room)):
            line = rows[index][1].copy()
            line.truncate(width)
            if self.has_focus and index == cursor:
                line.pad_right(width - line.cell_len)
                line.stylize(cursor_style)
            lines.append(line)
        lines.extend(footer)
        for line in lines:  # one terminal row each: a wrapped line would push the rest down
            line.truncate(width, overflow="ellipsis")
        return Text("\n").join(lines[:height])

    def _no_facts_lines(self, width: int) -> list[Text]:
        """Without data the body has room to say why in full; the title line may be cut."""
        status = self.status
        if status.state in (FeedState.ERROR, FeedState.NOT_EXPOSED, FeedState.DISABLED) and status.reason:
            style = self.get_component_rich_style(
                "panel--status-bad" if status.state is FeedState.ERROR else "panel--dim"
            )
            return [Text(line, style=style) for line in textwrap.wrap(status.reason, max(10, width))]
        return [Text(self.empty_text(), style=self.get_component_rich_style("panel--dim"))]

    def _title_line(self, width: int, style: Style) -> Text:
        status_text = self._status_line()
        self._status_text = status_text
        title = Text(f" {self.TITLE} ", style=style)
        bad = self.status.state in (FeedState.STALE, FeedState.ERROR)
        status = Text(f" {status_text} ")
        if bad:
            status.stylize(self.get_component_rich_style("panel--status-bad"))
        else:
            status.stylize(style)
        if title.cell_len + 1 + status.cell_len > width:
            # The status says whether the data is live: the title gives way first.
            title.truncate(max(4, width - 1 - status.cell_len), overflow="ellipsis")
        line = title + Text(" " * max(1, width - title.cell_len - status.cell_len), style=style)
        line += status
        line.truncate(width)
        return line
