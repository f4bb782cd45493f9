"""Threshold levels: every status is told by glyph and word as well as colour (NO_COLOR, 16 colours)."""

from __future__ import annotations

from k8stop.queries.model.level import Level
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.queries.model.units import fmt_age
from k8stop.queries.model.values import Kind, Value


def level_css(level: Level) -> str:
    """The component class a widget styles this level with."""
    return f"level--{level.name.lower()}"


# Shades get denser with severity so a monochrome terminal still shows the gradient.
HEAT_GLYPHS = {
    Level.UNKNOWN: "·",
    Level.OK: "░",
    Level.INFO: "▒",
    Level.WARN: "▓",
    Level.FAIL: "█",
}

# A mark after a value, so a monochrome terminal (NO_COLOR) still says "over threshold".
LEVEL_MARKS = {Level.UNKNOWN: " ", Level.OK: " ", Level.INFO: " ", Level.WARN: "!", Level.FAIL: "‼"}

LEVEL_COMPONENT_CLASSES = {level_css(level) for level in Level}


def level_of(value: Value, thresholds: tuple[float, ...]) -> Level:
    """Map a value to a level: below the first threshold OK, then one level per threshold."""
    if value.kind in (Kind.NO_TRAFFIC, Kind.ABSENT):
        return Level.UNKNOWN
    if not value.known:
        return Level.UNKNOWN
    level = Level.OK
    for i, bound in enumerate(thresholds):
        if value.number >= bound:
            level = Level(min(Level.OK + i + 1, Level.FAIL))
    if len(thresholds) == 1 and level is Level.INFO:
        return Level.FAIL
    return level


def warn_critical(value: Value, warn: float, critical: float) -> Level:
    """Two bounds, as the findings grade: over the target is a warning (!), over the limit critical (‼)."""
    level = level_of(value, (warn, critical))
    return {Level.INFO: Level.WARN, Level.WARN: Level.FAIL}.get(level, level)


STATUS_GLYPHS = {
    FeedState.WAITING: "…",
    FeedState.OK: "●",
    FeedState.STALE: "◐",
    FeedState.ERROR: "✖",
    FeedState.DISABLED: "○",
    FeedState.NOT_EXPOSED: "○",
}


FRESH_SECONDS = 5.0


def describe_status(status: FeedStatus, now: float, mode: str = "") -> str:
    """One line: '● live', '● live 12s', '◐ STALE data 40s old: connection refused', '✖ ERROR: ...'.

    `mode` replaces "live" when the data is not live: "PAUSED", "REPLAY 14:05:03"."""
    glyph = STATUS_GLYPHS[status.state]
    if status.state is FeedState.OK:
        # A fresh feed's age ticking 0s/1s/2s says nothing and would repaint every panel every
        # second; the age appears once the data is older than a few seconds.
        seconds = now - status.updated_at if status.updated_at is not None else 0.0
        age = fmt_age(seconds) if seconds >= FRESH_SECONDS else ""
        warn = f" ⚠ {status.warnings[0]}" if status.warnings else ""
        # "live", not "ok": the dot is about the data's freshness, not the cluster's health.
        return f"{glyph} {mode or 'live'} {age}{warn}".rstrip()
    if status.state is FeedState.STALE:
        age = fmt_age(now - status.updated_at) if status.updated_at is not None else "?"
        return f"{glyph} STALE data {age} old: {status.reason}"
    if status.state is FeedState.ERROR:
        return f"{glyph} ERROR: {status.reason}"
    if status.state is FeedState.NOT_EXPOSED:
        return f"{glyph} not exposed: {status.reason}"
    if status.state is FeedState.DISABLED:
        return f"{glyph} disabled: {status.reason}" if status.reason else f"{glyph} disabled"
    return f"{glyph} waiting for first answer"
