"""Node saturation: CPU, memory and disk bars per node, worst first, thresholds 70/85/95 %."""

from __future__ import annotations

from k8stop.queries.model.facts import NodeSaturation, NodesFacts
from k8stop.queries.model.keys import NodeKey
from k8stop.queries.model.units import fmt_count
from k8stop.queries.model.values import Value
from k8stop.widgets.fact_panel import FactPanel, Row
from k8stop.widgets.levels import level_of
from rich.text import Text

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(ratio: float, width: int) -> str:
    ratio = max(0.0, min(1.0, ratio))
    filled = ratio * width
    full = int(filled)
    part = EIGHTHS[int((filled - full) * 8)] if full < width else ""
    return ("█" * full + part).ljust(width)


class NodeBars(FactPanel[NodesFacts]):
    TITLE = "Node saturation"  # worst first: the order says it, and "↓N more" needs the room

    def __init__(self, thresholds: tuple[float, float, float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds

    def empty_text(self) -> str:
        return "waiting for node metrics…"

    def _layout(self, width: int) -> tuple[int, int]:
        name = max(8, min(24, width // 3))
        bar_width = max(0, (width - name - 3 * 9) // 3)
        return name, bar_width

    def summary_lines(self, facts: NodesFacts, width: int) -> list[Text]:
        name, bar_width = self._layout(width)
        cols = "".join(f" {label:<{bar_width + 7}}" for label in ("CPU", "MEM", "DISK"))
        return [Text(f"{'node':<{name}}{cols}"[:width], style=self.get_component_rich_style("panel--dim"))]

    def _cell(self, label: str, value: Value, bar_width: int) -> Text:
        level = level_of(value, self.thresholds)
        style = self.level_style(level)
        if not value.known:
            return Text(f" {'n/a':>{bar_width + 5}} ", style=style)
        text = Text(" ")
        if bar_width:
            text.append(bar(value.number, bar_width), style=style)
        text.append_text(self.marked(f"{value.number * 100:>4.0f}%", level))
        return text

    def _line(self, node: NodeSaturation, width: int) -> Text:
        name, bar_width = self._layout(width)
        line = Text(node.node[:name].ljust(name))
        for label, value in (("CPU", node.cpu), ("MEM", node.memory), ("DISK", node.disk)):
            line.append_text(self._cell(label, value, bar_width))
        return line

    def row_lines(self, facts: NodesFacts, width: int) -> list[Row]:
        return [(NodeKey(node.node), self._line(node, width)) for node in facts.worst]

    def rows_total(self, facts: NodesFacts) -> int:
        return facts.total  # the worst N were fetched: the panel counts the rest as "more"

    def footer_lines(self, facts: NodesFacts, width: int) -> list[Text]:
        text = f"{fmt_count(facts.total)} nodes · {facts.source}"
        return [Text(text, style=self.get_component_rich_style("panel--dim"))]
