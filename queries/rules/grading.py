"""Grading a measured Value against a target and a hard limit, shared by KPIs and findings.

The rule everywhere: a value at or above the *target* (the seed guide's figure or an SLO)
is a warning; at or above the *limit* (the upstream mixin alert threshold or SLO) it fails.
An AT_LEAST value is graded by its bound, because the true value can only be higher.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from k8stop.queries.model.values import ABSENT, NO_TRAFFIC, Kind, Value


class Level(IntEnum):
    UNKNOWN = -1
    OK = 0
    WARN = 1
    FAIL = 2


def grade(value: Value, target: float, limit: float | None = None) -> Level:
    if limit is not None and value.at_least(limit):
        return Level.FAIL
    if value.at_least(target):
        return Level.WARN
    if value.kind is Kind.NUMBER:
        return Level.OK
    # AT_LEAST under the target: the true value is anywhere above the bound, so not "ok".
    return Level.UNKNOWN


def worst(items: Iterable[tuple[str, Value]]) -> tuple[str | None, Value]:
    """The item with the highest known value; if none is known, why (no traffic / absent)."""
    best: tuple[str | None, Value] = (None, ABSENT)
    saw_no_traffic = False
    for label, value in items:
        if value.known:
            if not best[1].known or value.number > best[1].number:
                best = (label, value)
        elif value.kind is Kind.NO_TRAFFIC:
            saw_no_traffic = True
    if best[1].known:
        return best
    return (None, NO_TRAFFIC if saw_no_traffic else ABSENT)


def unknown_reason(value: Value) -> str:
    if value.kind is Kind.NO_TRAFFIC:
        return "no traffic: the histogram had no observations in the window"
    if value.kind is Kind.ABSENT:
        return "metric not exposed (no such series)"
    if value.kind is Kind.AT_LEAST:
        return "beyond the histogram's top bucket: only a lower bound is known"
    if value.kind is Kind.INFINITE and value.number < 0:
        return "invalid value (-Inf) from the server"
    return ""


def ratio(numerator: Value, denominator: Value) -> Value:
    """numerator/denominator when both are plain numbers and the denominator is positive."""
    if numerator.kind is Kind.NUMBER and denominator.kind is Kind.NUMBER and denominator.number > 0:
        return Value.of(numerator.number / denominator.number)
    return ABSENT
