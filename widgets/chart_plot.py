"""A drill-down Chart drawn with plotext: lines over minutes ago, the threshold as a line."""

from __future__ import annotations

from k8stop.queries.drill.common import Chart
from textual_plotext import PlotextPlot

# Seconds read better in ms below one second; bytes in MiB; ratios in percent.
_SCALES = {"bytes": (1 / 2**20, "MiB"), "ratio": (100.0, "%")}


def scale_for(chart: Chart) -> tuple[float, str]:
    if chart.unit == "s":
        peak = max((v.number for line in chart.lines for v in line.values if v.known), default=0.0)
        peak = max(peak, chart.threshold or 0.0)
        return (1000.0, "ms") if peak < 1.0 else (1.0, "s")
    return _SCALES.get(chart.unit, (1.0, chart.unit))


class ChartPlot(PlotextPlot):
    DEFAULT_CSS = """
    ChartPlot { height: 12; min-height: 6; }
    """

    def __init__(self, chart: Chart, now: float) -> None:
        super().__init__()
        self.chart = chart
        self._now = now

    def on_mount(self) -> None:
        plt = self.plt
        factor, unit = scale_for(self.chart)
        plt.title(f"{self.chart.title} ({unit})")
        plt.xlabel("minutes ago")
        drawn = False
        top = (self.chart.threshold or 0.0) * factor
        for line in self.chart.lines:
            points = [((at - self._now) / 60.0, v.number * factor) for at, v in zip(line.times, line.values) if v.known]
            if points:
                # One line needs no legend (the title names it) and a legend would sit on it.
                label = line.label if len(self.chart.lines) > 1 else None
                plt.plot([x for x, _ in points], [y for _, y in points], label=label)
                top = max(top, *(y for _, y in points))
                drawn = True
        if self.chart.threshold is not None:
            plt.hline(self.chart.threshold * factor, "red")
        if top > 0:
            # Latencies, rates, ratios and sizes are never negative: a zero baseline keeps a
            # quiet period visible instead of letting autoscale push it off the chart. Headroom
            # above the highest line keeps plotext's top-left legend clear of the data.
            legend_rows = len(self.chart.lines) if len(self.chart.lines) > 1 else 0
            plt.ylim(0, top * (1.05 + 0.12 * legend_rows))
        if not drawn:
            plt.title(f"{self.chart.title}: no samples in the window")
