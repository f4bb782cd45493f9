"""A drill-down Chart drawn with plotext: lines over clock time, the threshold as a line."""

from __future__ import annotations

import time

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


TICKS = 5


def clock_ticks(start: float, end: float, count: int = TICKS) -> list[tuple[float, str]]:
    """Evenly spaced (time, label) pairs: HH:MM, with the weekday when the span passes a day."""
    if end <= start:
        return [(end, time.strftime("%H:%M", time.localtime(end)))]
    fmt = "%a %H:%M" if end - start > 86400 else "%H:%M:%S" if end - start < 600 else "%H:%M"
    step = (end - start) / (count - 1)
    return [(start + i * step, time.strftime(fmt, time.localtime(start + i * step))) for i in range(count)]


class ChartPlot(PlotextPlot):
    DEFAULT_CSS = """
    ChartPlot { height: 12; min-height: 6; }
    """

    def __init__(self, chart: Chart, now: float, start: float | None = None) -> None:
        super().__init__()
        self.chart = chart
        self._now = now
        # The window's start: the axis spans the window asked for, not just the samples found.
        self._start = start if start is not None else min((t for line in chart.lines for t in line.times), default=now)

    def on_mount(self) -> None:
        plt = self.plt
        factor, unit = scale_for(self.chart)
        plt.title(f"{self.chart.title} ({unit})")
        plt.xlabel(f"local time ({time.strftime('%Z', time.localtime(self._now))})")
        ticks = clock_ticks(self._start, self._now)
        plt.xticks([(at - self._now) / 60.0 for at, _ in ticks], [label for _, label in ticks])
        plt.xlim((self._start - self._now) / 60.0, 0.0)
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
