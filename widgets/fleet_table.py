"""The fleet overview's table: one row per cluster, its worst KPIs coloured by level (with a
mark for monochrome terminals) and its top finding. Cluster names and subjects are backend
data: cells are `rich.text.Text`, never markup."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from k8stop.queries.model.fleet import FleetCell, FleetFacts, FleetRow
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_count, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.widgets.levels import LEVEL_COMPONENT_CLASSES, LEVEL_MARKS, level_css
from rich.text import Text
from textual.widgets import DataTable

COLUMNS = ("cluster", "API", "etcd", "node", "restarts", "alerts", "top finding")


def _count(value: Value) -> str:
    return fmt_count(value.number) if value.known else "n/a"


# column -> how its value reads
FORMATS: tuple[Callable[[Value], str], ...] = (fmt_seconds, fmt_seconds, fmt_ratio, _count, _count)


class FleetTable(DataTable[Text]):
    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | LEVEL_COMPONENT_CLASSES
    DEFAULT_CSS = """
    FleetTable { height: 1fr; }
    FleetTable > .level--unknown { color: $text-muted; }
    FleetTable > .level--ok { color: $success; }
    FleetTable > .level--info { color: $warning; }
    FleetTable > .level--warn { color: $warning; text-style: bold; }
    FleetTable > .level--fail { color: $error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.facts: FleetFacts | None = None

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def _cell(self, cell: FleetCell, fmt: Callable[[Value], str]) -> Text:
        shown = f"{fmt(cell.value)}{LEVEL_MARKS[cell.level]}" if cell.level is not Level.UNKNOWN else "n/a"
        return Text(shown, style=self.get_component_rich_style(level_css(cell.level)), no_wrap=True)

    def row_cells(self, row: FleetRow) -> list[Text]:
        name = Text(row.cluster, style=self.get_component_rich_style(level_css(row.worst)), no_wrap=True)
        cells = [self._cell(cell, fmt) for cell, fmt in zip(row.cells, FORMATS, strict=True)]
        return [name, *cells, Text(row.top or "-", no_wrap=True, overflow="ellipsis")]

    def show(self, facts: FleetFacts) -> None:
        """Replace the rows, keeping the cursor on the same cluster."""
        selected = self.selected_cluster
        self.facts = facts
        self.clear()
        for row in facts.rows:
            self.add_row(*self.row_cells(row), key=row.cluster)
        names = [row.cluster for row in facts.rows]
        if selected in names:
            self.move_cursor(row=names.index(selected))

    @property
    def selected_cluster(self) -> str | None:
        if self.facts is None or not self.facts.rows or not 0 <= self.cursor_row < len(self.facts.rows):
            return None
        return self.facts.rows[self.cursor_row].cluster
