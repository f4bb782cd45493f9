"""The time window charts and the heatmap show: the last 15m / 1h / 6h / 24h, or since a clock time.

Whatever the window, a chart asks for about one point per column (the step grows with the
window), so a 24-hour chart costs Prometheus what a 15-minute one does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from k8stop.queries.drill.common import RangeWindow

SPANS = (900.0, 3600.0, 21600.0, 86400.0)  # the windows `W` cycles through
MAX_SPAN = 7 * 86400.0  # older than a week is past most Prometheus retentions
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SPAN = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


class WindowError(ValueError):
    """A window or start time the user typed that k8stop cannot read; the message says what works."""


def span_text(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0 and not (unit == "d" and seconds <= 86400.0):
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True, slots=True)
class ViewWindow:
    span: float = 3600.0
    since: float | None = None  # an absolute start: the window runs from it to now

    def seconds(self, now: float) -> float:
        return max(60.0, now - self.since) if self.since is not None else self.span

    def range(self, now: float, points: int) -> RangeWindow:
        """The range to ask for: ending now, about `points` points whatever the span."""
        return RangeWindow.ending(now, self.seconds(now), points)

    def label(self) -> str:
        if self.since is not None:
            return f"since {time.strftime('%H:%M', time.localtime(self.since))}"
        return f"last {span_text(self.span)}"

    def next(self) -> ViewWindow:
        """The next preset: 15m -> 1h -> 6h -> 24h -> 15m; an absolute start goes back to 15m."""
        later = [s for s in SPANS if s > self.span] if self.since is None else []
        return ViewWindow(later[0] if later else SPANS[0])


def parse_span(text: str) -> ViewWindow:
    """`:window 6h`: a number and a unit (s, m, h, d), one minute to a week."""
    found = _SPAN.fullmatch(text.strip().lower())
    if found is None:
        raise WindowError(f"window {text!r}: use a number and a unit, e.g. 15m, 1h, 6h, 24h")
    seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if not 60.0 <= seconds <= MAX_SPAN:
        raise WindowError(f"window {text!r}: choose between 1m and {span_text(MAX_SPAN)}")
    return ViewWindow(seconds)


def parse_since(text: str, now: float) -> ViewWindow:
    """`:since 14:05` (today, or yesterday when that is still to come) or an RFC 3339 time."""
    text = text.strip()
    clock = _CLOCK.fullmatch(text)
    if clock is not None:
        hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise WindowError(f"since {text!r}: not a time of day")
        today = datetime.fromtimestamp(now).replace(hour=hour, minute=minute, second=second, microsecond=0)
        start = today.timestamp()
        if start > now:
            start -= 86400.0
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise WindowError(f"since {text!r}: use HH:MM, HH:MM:SS or an RFC 3339 time") from None
        start = parsed.timestamp() if parsed.tzinfo is not None else parsed.astimezone().timestamp()
    if start >= now:
        raise WindowError(f"since {text!r}: that is not in the past")
    if now - start > MAX_SPAN:
        raise WindowError(f"since {text!r}: more than {span_text(MAX_SPAN)} ago")
    return ViewWindow(since=start)
