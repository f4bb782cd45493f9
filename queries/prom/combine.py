"""Run several catalog expressions as one request, then split the answer by tag.

Each expression is wrapped in `label_replace(expr, "k8stop_q", "<tag>", "", "")` and the
pieces are joined with `or`: their label sets differ by the tag, so `or` keeps them all.
One HTTP round trip per feed keeps the per-refresh query count low; Prometheus still
evaluates every piece, so the server-side cost is unchanged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from k8stop.queries.model.values import ABSENT, Kind, Value
from k8stop.queries.prom.client import LabelMap, Matrix, Sample, Series, Vector

TAG = "k8stop_q"
T = TypeVar("T")


def tagged(expr: str, tag: str) -> str:
    return f'label_replace({expr}, "{TAG}", "{tag}", "", "")'


def combine(parts: dict[str, str]) -> str:
    return " or ".join(tagged(expr, tag) for tag, expr in parts.items())


def _by_tag(rows: Iterable[tuple[LabelMap, T]]) -> dict[str, list[tuple[LabelMap, T]]]:
    out: dict[str, list[tuple[LabelMap, T]]] = defaultdict(list)
    for labels, item in rows:
        tag = labels.pop(TAG, "")
        out[tag].append((labels, item))
    return out


def split(vector: Vector) -> dict[str, list[Sample]]:
    return _by_tag(vector.samples)


def split_series(matrix: Matrix) -> dict[str, list[Series]]:
    return _by_tag(matrix.series)


def quantile(value: Value, top_bucket: float | None) -> Value:
    """Apply the histogram saturation rule to a value parsed from the server."""
    if value.kind is Kind.NUMBER:
        return Value.quantile(value.number, top_bucket)
    return value


def by_key(samples: list[Sample], *names: str) -> dict[tuple[str, ...], Value]:
    return {tuple(labels.get(n, "") for n in names): value for labels, value in samples}


def number(value: Value | None, default: float = 0.0) -> float:
    """A plain float for rates and gauges, where no sample honestly means zero."""
    if value is None or not value.known or math.isnan(value.number):
        return default
    return value.number


def or_absent(value: Value | None) -> Value:
    return ABSENT if value is None else value


def columns(
    points: tuple[tuple[float, Value], ...], start: float, step: float, count: int, top: float | None
) -> tuple[Value, ...]:
    """Place range-query points on a fixed grid; missing steps are ABSENT."""
    cells: list[Value] = [ABSENT] * count
    for at, value in points:
        index = round((at - start) / step)
        if 0 <= index < count:
            cells[index] = quantile(value, top)
    return tuple(cells)
