"""Shared shapes of the drill-down details: charts over time and the range-query helper.

A drill-down asks for a short history (an hour by default) at a step sized to the chart
width, so a 70-column chart costs 70 points per line, never the raw scrape resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from k8stop.queries.model.values import ABSENT, Value

if TYPE_CHECKING:  # the app's first frame needs RangeWindow, not the HTTP client behind these
    from k8stop.queries.prom.client import LabelMap
    from k8stop.queries.prom.context import PromContext

DEFAULT_WINDOW = 3600.0
DEFAULT_POINTS = 60
# Rate windows shorter than 5 m are noisy on a 30 s scrape and would skip samples between steps.
MIN_RATE_WINDOW = 300.0


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    times: tuple[float, ...]  # unix seconds
    values: tuple[Value, ...]

    @property
    def last(self) -> Value | None:
        return self.values[-1] if self.values else None


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str  # "s", "bytes", "ratio", "req/s", "count", "pods/s"
    lines: tuple[Line, ...]
    threshold: float | None = None
    threshold_label: str = ""


@dataclass(frozen=True, slots=True)
class RangeWindow:
    start: float
    end: float
    step: float

    @classmethod
    def ending(cls, end: float, window: float = DEFAULT_WINDOW, points: int = DEFAULT_POINTS) -> RangeWindow:
        points = max(2, points)
        step = max(1.0, window / (points - 1))
        return cls(end - step * (points - 1), end, step)

    @property
    def rate_window(self) -> str:
        return f"{int(max(MIN_RATE_WINDOW, self.step))}s"


async def tagged_range(
    ctx: PromContext, parts: dict[str, str], window: RangeWindow, top_bucket: float | None = None
) -> tuple[dict[str, list[tuple[LabelMap, Line]]], tuple[str, ...]]:
    """Run several expressions as one query_range; lines grouped by their tag."""
    if not parts:
        return {}, ()
    from k8stop.queries.prom.combine import combine, quantile, split_series

    matrix = await ctx.client.query_range(combine(parts), window.start, window.end, window.step)
    out: dict[str, list[tuple[LabelMap, Line]]] = {}
    for tag, series in split_series(matrix).items():
        for labels, points in series:
            line = Line(
                tag,
                tuple(at for at, _ in points),
                tuple(quantile(value, top_bucket) for _, value in points),
            )
            out.setdefault(tag, []).append((labels, line))
    return out, matrix.warnings


def relabel(line: Line, label: str) -> Line:
    return Line(label, line.times, line.values)


def matcher(label: str, value: str) -> str:
    """An exact-match PromQL matcher with the value escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{label}="{escaped}"'


@dataclass(frozen=True, slots=True)
class LinearFit:
    """Least squares y = intercept + slope * (t - t0); slope_stderr from the residuals."""

    t0: float
    intercept: float
    slope: float  # units per second
    slope_stderr: float
    points: int

    def at(self, t: float) -> float:
        return self.intercept + self.slope * (t - self.t0)


def linear_fit(times: tuple[float, ...], values: tuple[float, ...]) -> LinearFit | None:
    n = len(times)
    if n < 3 or n != len(values):
        return None
    t0 = times[-1]
    xs = [t - t0 for t in times]
    mean_x = sum(xs) / n
    mean_y = sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, values)) / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, values))
    stderr = math.sqrt(residual / (n - 2) / sxx)
    return LinearFit(t0, intercept, slope, stderr, n)


# Two standard errors of the slope: roughly a 95 % band on the growth rate.
BAND = 2.0


@dataclass(frozen=True, slots=True)
class QuotaForecast:
    """Time until a growing quantity (an etcd DB, a container's working set) reaches its quota
    at the growth fitted over the window."""

    growth_bytes_per_s: float
    growth_stderr: float
    seconds_left: Value  # ABSENT when not growing (or no quota known)
    seconds_left_low: Value  # at the fast end of the band
    seconds_left_high: Value  # at the slow end; ABSENT when the band includes no growth
    points: int


def forecast(line: Line, quota: float | None) -> QuotaForecast | None:
    """Least squares over the line; None with fewer than three known points."""
    known = [(at, v.number) for at, v in zip(line.times, line.values) if v.known]
    fit = linear_fit(tuple(a for a, _ in known), tuple(v for _, v in known))
    if fit is None:
        return None
    current = known[-1][1]

    def left(slope: float) -> Value:
        if quota is None or slope <= 0:
            return ABSENT
        return Value.of(max(0.0, (quota - current) / slope))

    band = BAND * fit.slope_stderr
    return QuotaForecast(
        growth_bytes_per_s=fit.slope,
        growth_stderr=fit.slope_stderr,
        seconds_left=left(fit.slope),
        seconds_left_low=left(fit.slope + band),
        seconds_left_high=left(fit.slope - band),
        points=fit.points,
    )
