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
from k8stop.widgets.levels import LEVEL_COMPONENT_CLASSES, LEVEL_MARKS, describe_status, level_css
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive, var
from textual.widget import Widget

F = TypeVar("F")

Row = tuple[RowKey, Text]  # (key passed to drill-downs, rendered line)
LineSignature = tuple[str, object, tuple[object, ...]]


def _signature(line: Text) -> LineSignature:
    """What a line looks like on screen (Text's == ignores its base style)."""
    return (line.plain, line.style, tuple(line.spans))


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
        "level--mark-fail",
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
    /* Critical outranks warning without colour too (NO_COLOR): underlined, and its ‼ reversed */
    FactPanel > .level--fail { color: $error; text-style: bold underline; }
    FactPanel > .level--mark-fail { color: $error; text-style: bold reverse; }
    """

    TITLE: ClassVar[str] = ""

    # New facts, status and clock arrive on every poll and tick; the panel repaints only the
    # lines they change (see _repaint_changed): over SSH a refresh that moves one number then
    # costs one row of terminal output, not the whole panel.
    facts: var[Any] = var(None, always_update=False)
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
        self._painted: list[LineSignature] | None = None  # the lines the last render drew

    def _status_line(self) -> str:
        return describe_status(self.status, self.now or time.time(), self.mode)

    def _status_changed(self) -> None:
        text = self._status_line()
        if text != self._status_text:
            self._status_text = text
            self._repaint_changed()

    def _repaint_changed(self) -> None:
        """Mark dirty only the lines whose text or style differ from the last render."""
        painted = self._painted
        width, height = self.size
        if painted is None or not self.is_mounted or width <= 0 or height <= 0:
            self.refresh()
            return
        lines = [_signature(line) for line in self._render_lines()]
        changed = [
            Region(0, y, width, 1)
            for y in range(max(len(lines), len(painted)))
            if y >= len(lines) or y >= len(painted) or lines[y] != painted[y]
        ]
        if changed:
            self.refresh(*changed)

    def watch_facts(self) -> None:
        self._repaint_changed()

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

    def rows_total(self, facts: F) -> int | None:
        """How many rows exist, fetched or not, when the facts are capped (the worst N of
        all nodes): the panel then says how many more there are. None: all were fetched."""
        return None

    def level_style(self, level: Level) -> Style:
        return self.get_component_rich_style(level_css(level))

    def marked(self, text: str, level: Level) -> Text:
        """A value in its level's style followed by its mark (! or ‼): the critical mark is
        reversed, so it is the most prominent thing on a monochrome screen."""
        style = self.level_style(level)
        mark_style = self.get_component_rich_style("level--mark-fail") if level is Level.FAIL else style
        return Text(text, style=style) + Text(LEVEL_MARKS[level], style=mark_style)

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
        lines = self._render_lines()
        self._painted = [_signature(line) for line in lines]
        return Text("\n").join(lines)

    def _render_lines(self) -> list[Text]:
        """The panel's lines, one terminal row each, at most its height."""
        width = max(self.size.width, 10)
        height = max(self.size.height, 1)
        title_style = self.get_component_rich_style("panel--title-focused" if self.has_focus else "panel--title")
        facts = self.facts
        if facts is None:
            empty = [self._title_line(width, title_style), *self._no_facts_lines(width)]
            return empty[:height]
        lines: list[Text] = []
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
        room = max(0, height - 1 - len(lines) - len(footer))
        if self.filter_text:
            count = f"{len(rows)} match" + ("" if len(rows) == 1 else "es")
            footer = [Text(f"filter: /{self.filter_text}  ({count})", style="italic")] + footer
            room = max(0, room - 1)
        # Rows that exist beyond the fetched ones (the facts are capped); unknown under a filter
        unfetched = 0 if self.filter_text else max(0, (self.rows_total(facts) or 0) - len(rows))
        cursor = min(self.cursor, max(0, len(rows) - 1))
        self._keep_cursor_shown(cursor, len(rows), room)
        # What is not shown is said in the title bar when it fits there, else on a line of
        # its own: a capped list never drops rows silently.
        more = self._more_text(len(rows), unfetched, room)
        title = self._title_line(width, title_style, more)
        if more and more not in title.plain and room >= 2:
            room -= 1
            self._keep_cursor_shown(cursor, len(rows), room)
            dim = self.get_component_rich_style("panel--dim")
            footer = [Text(self._more_text(len(rows), unfetched, room), style=dim), *footer]
        cursor_style = self.get_component_rich_style("panel--cursor")
        for index in range(self._offset, min(len(rows), self._offset + room)):
            line = rows[index][1].copy()
            line.truncate(width)
            if self.has_focus and index == cursor:
                line.pad_right(width - line.cell_len)
                line.stylize(cursor_style)
            lines.append(line)
        lines = [title, *lines, *footer]
        for line in lines:  # one terminal row each: a wrapped line would push the rest down
            line.truncate(width, overflow="ellipsis")
        return lines[:height]

    def _keep_cursor_shown(self, cursor: int, count: int, room: int) -> None:
        """Keep the cursor's row inside the `room` rows shown."""
        if cursor < self._offset:
            self._offset = cursor
        elif room and cursor >= self._offset + room:
            self._offset = cursor - room + 1
        self._offset = max(0, min(self._offset, max(0, count - room)))

    def _more_text(self, count: int, unfetched: int, room: int) -> str:
        """'↓4 more (z)': what a capped list does not show, and how to see it (z zooms, then
        j/k scroll); "" when every row is shown."""
        if count + unfetched <= room:
            return ""
        above, below = self._offset, max(0, count - self._offset - room) + unfetched
        parts = [f"↑{above:,}"] if above else []
        if below:
            parts.append(f"↓{below:,} more")
        zoomed = self.is_attached and self.screen.maximized is self
        return " ".join([*parts, "" if zoomed else "(z)"]).strip()

    def _no_facts_lines(self, width: int) -> list[Text]:
        """Without data the body has room to say why in full; the title line may be cut."""
        status = self.status
        if status.state in (FeedState.ERROR, FeedState.NOT_EXPOSED, FeedState.DISABLED) and status.reason:
            style = self.get_component_rich_style(
                "panel--status-bad" if status.state is FeedState.ERROR else "panel--dim"
            )
            return [Text(line, style=style) for line in textwrap.wrap(status.reason, max(10, width))]
        return [Text(self.empty_text(), style=self.get_component_rich_style("panel--dim"))]

    def _title_line(self, width: int, style: Style, more: str = "") -> Text:
        """' Title  ↓3 more (z)      ● live': `more` only when it fits whole."""
        status_text = self._status_line()
        self._status_text = status_text
        title = Text(f" {self.TITLE} ", style=style)
        if more and title.cell_len + len(more) + 3 + len(status_text) + 2 <= width:
            title.append(f" {more} ")
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
