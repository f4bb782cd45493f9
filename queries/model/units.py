"""Human formats shared by the UI and the reports; they never turn 'unknown' into a number."""

from __future__ import annotations

import math
from collections.abc import Callable

from k8stop.queries.model.values import Kind, Value


def _seconds(x: float) -> str:
    if x < 0.001:
        return f"{x * 1e6:.0f} µs"
    if x < 1:
        return f"{x * 1000:.3g} ms"
    if x < 120:
        return f"{x:.3g} s"
    if x < 7200:
        return f"{x / 60:.3g} min"
    return f"{x / 3600:.3g} h"


def fmt_seconds(value: Value) -> str:
    return _fmt(value, _seconds)


def fmt_ratio(value: Value) -> str:
    return _fmt(value, lambda x: f"{x * 100:.0f} %")


def _bytes(x: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(x) < 1024 or unit == "TiB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.3g} {unit}"
        x /= 1024
    raise AssertionError("unreachable")


def fmt_bytes(value: Value) -> str:
    return _fmt(value, _bytes)


def fmt_rate(per_second: float) -> str:
    if per_second >= 100:
        return f"{per_second:,.0f}/s"
    if per_second >= 1:
        return f"{per_second:.3g}/s"
    if per_second == 0:
        return "0/s"
    return f"{per_second * 60:.2g}/min"


def fmt_age(seconds: float) -> str:
    """How long ago or for how long: '40s', '12m', '2.5h'."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def fmt_count(n: float) -> str:
    return f"{n:,.0f}"


def _fmt(value: Value, number: Callable[[float], str]) -> str:
    if value.kind is Kind.NUMBER:
        return number(value.number)
    if value.kind is Kind.AT_LEAST:
        return f">= {number(value.number)}"
    if value.kind is Kind.NO_TRAFFIC:
        return "no traffic"
    if value.kind is Kind.INFINITE:
        return "+Inf" if value.number > 0 else "-Inf"
    return "n/a"


def clock_text(seconds: float) -> str:
    """Offsets into a recording: 4:05, or 1:02:03 past an hour (the replay bar, `report --at`)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def clock_offset(text: str) -> float | None:
    """'90' / '1:30' / '0:01:30' -> 90.0 seconds, as the replay bar writes offsets; None
    when the text is none of these (an RFC 3339 time, or garbage)."""
    parts = text.strip().split(":")
    if len(parts) > 3 or (len(parts) > 1 and any(not p.isdigit() for p in parts[:-1])):
        return None
    try:
        seconds = float(parts[-1])
    except ValueError:
        return None
    if not 0 <= seconds < (60 if len(parts) > 1 else math.inf):  # NaN fails too
        return None
    if len(parts) == 3 and int(parts[1]) >= 60:
        return None
    total = seconds
    for scale, part in zip((60, 3600), reversed(parts[:-1]), strict=False):
        total += scale * int(part)
    return total


def fmt_more(total: int, shown: int) -> str:
    """'and 12 more' under a capped list (a list never drops rows silently); "" when all show."""
    return f"and {total - shown:,} more" if total > shown else ""
