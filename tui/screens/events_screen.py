"""`v` / `:events`: the cluster's Warning events, newest first, from the kube feed's watch (no
query of its own): what the kubelet, scheduler and controllers complain about, in one place."""

from __future__ import annotations

from collections import Counter

from k8stop.queries.drill.data import DrillData
from k8stop.queries.kube.store import seen_at
from k8stop.queries.model.facts import EventRecord
from k8stop.queries.model.units import fmt_age
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from textual.widget import Widget

SHOWN = 100  # events listed; the feed keeps every Warning event it watches
WIDTH = 78  # a line inside the blocks' padding at 80 columns


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def flat(text: str) -> str:
    """One line: a multi-line message (a stack trace, a scheduler's list) joined by spaces."""
    return " ".join(text.split())


def subject(e: EventRecord) -> str:
    return f"{e.kind}/{e.namespace}/{e.name}" if e.namespace else f"{e.kind}/{e.name}"


def event_lines(e: EventRecord, now: float) -> str:
    """Two lines: when, why and about what; then how often and the message."""
    seen = seen_at(e)
    age = fmt_age(now - seen) if seen else "?"
    return "\n".join(
        (
            clip(f"{age:>5} {e.reason:<20} {subject(e)}", WIDTH),
            clip(f"      x{e.count} {flat(e.message)}", WIDTH),
        )
    )


def reasons_line(events: tuple[EventRecord, ...]) -> str:
    counts = Counter(e.reason for e in events)
    return clip("by reason: " + ", ".join(f"{reason} {n}" for reason, n in counts.most_common()), WIDTH)


class EventsScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("Warning events, newest first   (esc back, r reload)")

    async def build(self, data: DrillData) -> list[Widget]:
        events = data.warning_events(SHOWN)
        if events is None:
            return [TextBlock("Warning events need the kube API (live, without --no-kube, or a recording with it)")]
        if not events:
            return [TextBlock("no Warning events")]
        now = self.k8stop.now()
        return [TextBlock(reasons_line(events)), *(TextBlock(event_lines(e, now)) for e in events)]
