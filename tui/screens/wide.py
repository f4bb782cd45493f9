"""On a wide terminal, drill-down charts go side by side: two 100-column charts read as well as
one 200-column chart and halve the scrolling."""

from __future__ import annotations

from k8stop.widgets.chart_plot import ChartPlot
from textual.containers import Horizontal
from textual.widget import Widget

# From this width on, consecutive charts are laid out in pairs
SIDE_BY_SIDE_WIDTH = 160


class ChartRow(Horizontal):
    DEFAULT_CSS = """
    ChartRow { height: auto; }
    ChartRow > ChartPlot { width: 1fr; }
    """


def side_by_side(widgets: list[Widget], width: int) -> list[Widget]:
    """`widgets` with each run of consecutive charts grouped two to a row when `width` allows."""
    if width < SIDE_BY_SIDE_WIDTH:
        return widgets
    out: list[Widget] = []
    run: list[Widget] = []
    for widget in [*widgets, None]:
        if isinstance(widget, ChartPlot):
            run.append(widget)
            continue
        for start in range(0, len(run), 2):
            pair = run[start : start + 2]
            out.append(ChartRow(*pair) if len(pair) == 2 else pair[0])
        run = []
        if widget is not None:
            out.append(widget)
    return out
