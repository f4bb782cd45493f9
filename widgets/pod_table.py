"""The `:pods` table: draws only the rows that fit, so 150,000 pods cost what 20 do."""

from __future__ import annotations

from typing import ClassVar

from k8stop.queries.kube.pod_list import PodList, PodRow
from k8stop.queries.model.keys import PodKey
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

# (title, width) of the fixed columns; the pod name takes what is left.
COLUMNS = (("NAMESPACE", 10), ("NODE", 10), ("PHASE", 9), ("RST", 4), ("REASON", 16), ("AGE", 4))
MIN_NAME = 16


def pod_age(seconds: float) -> str:
    """As kubectl shows it, in at most four cells: 40s, 12m, 5h, 6d."""
    seconds = max(0.0, seconds)
    for unit, size, below in (("s", 1, 90), ("m", 60, 90 * 60), ("h", 3600, 48 * 3600)):
        if seconds < below:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds / 86400:.0f}d"


def fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


class PodTable(Widget, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"pod-table--header", "pod-table--cursor", "pod-table--failing"}
    DEFAULT_CSS = """
    PodTable { height: 1fr; }
    PodTable > .pod-table--header { text-style: bold; color: $text-muted; }
    PodTable > .pod-table--cursor { background: $accent 40%; }
    PodTable > .pod-table--failing { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "PgUp", show=False),
        Binding("pagedown,space", "page(1)", "PgDn", show=False),
        Binding("home,g", "move(-1000000000)", "Top", show=False),
        Binding("end,G", "move(1000000000)", "Bottom", show=False),
        Binding("enter", "select", "Drill down"),
    ]

    class Selected(Message):
        def __init__(self, key: PodKey) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pods: PodList | None = None
        self.cursor = 0  # index into pods.matches
        self.top = 0  # the first match drawn (not `offset`: a Widget attribute)
        self.now = 0.0

    def show(self, pods: PodList, now: float) -> None:
        self.pods, self.now = pods, now
        self.cursor = self.top = 0
        self.refresh()

    def set_filter(self, text: str) -> int:
        """Filter the rows; returns how many match."""
        if self.pods is None:
            return 0
        count = len(self.pods.filter(text))
        self.cursor = self.top = 0
        self.refresh()
        return count

    @property
    def selected(self) -> PodRow | None:
        if self.pods is None or not self.pods.matches:
            return None
        return self.pods.rows[self.pods.matches[min(self.cursor, len(self.pods.matches) - 1)]]

    def _room(self) -> int:
        return max(1, self.size.height - 1)  # less the header

    def action_move(self, delta: int) -> None:
        count = len(self.pods.matches) if self.pods is not None else 0
        self.cursor = max(0, min(count - 1, self.cursor + delta)) if count else 0
        room = self._room()
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + room:
            self.top = self.cursor - room + 1
        self.refresh()

    def action_page(self, pages: int) -> None:
        self.action_move(pages * self._room())

    def action_select(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.Selected(PodKey(row.namespace, row.name)))

    def render(self) -> Text:
        width = max(self.size.width, 20)
        name_width = max(MIN_NAME, width - sum(w + 1 for _, w in COLUMNS))
        header = f"{fit(COLUMNS[0][0], COLUMNS[0][1])} {fit('NAME', name_width)} " + " ".join(
            fit(title, w) for title, w in COLUMNS[1:]
        )
        lines = [Text(header[:width], style=self.get_component_rich_style("pod-table--header"))]
        pods = self.pods
        if pods is not None:
            cursor_style = self.get_component_rich_style("pod-table--cursor")
            failing_style = self.get_component_rich_style("pod-table--failing")
            matches = pods.matches
            for index in range(self.top, min(len(matches), self.top + self._room())):
                row = pods.rows[matches[index]]
                line = Text(self._cells(row, name_width)[:width], no_wrap=True)
                if row.failing:
                    line.stylize(failing_style)
                if index == self.cursor and self.has_focus:
                    line.pad_right(width - line.cell_len)
                    line.stylize(cursor_style)
                lines.append(line)
        return Text("\n").join(lines)

    def _cells(self, row: PodRow, name_width: int) -> str:
        created = row.created_at
        age = pod_age(self.now - created) if created is not None else "?"
        widths = dict(COLUMNS)
        return " ".join(
            (
                fit(row.namespace, widths["NAMESPACE"]),
                fit(row.name, name_width),
                fit(row.node or "-", widths["NODE"]),
                fit(row.phase, widths["PHASE"]),
                fit(str(row.restarts), widths["RST"]),
                fit(row.reason or "-", widths["REASON"]),
                fit(age, widths["AGE"]),
            )
        )

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
