"""Firing and pending alerts, most severe first; the seed's rules evaluated here when the
server has none."""

from __future__ import annotations

from k8stop.queries.drill.data import DrillData
from k8stop.queries.model.facts import Alert, AlertsFacts
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from textual.widget import Widget

HIDDEN_LABELS = frozenset({"alertname", "severity"})


def alert_text(a: Alert, now: float) -> str:
    age = fmt_seconds(Value.of(max(0.0, now - a.active_at))) if a.active_at is not None else "age n/a"
    labels = " ".join(f"{k}={v}" for k, v in a.labels if k not in HIDDEN_LABELS)
    mark = "✖" if a.state == "firing" else "…"
    return f"{mark} {a.state:<7} {a.severity:<8} {a.name}  ({age})\n    {labels}\n    {a.summary}".rstrip()


class AlertsScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("alerts   (esc back, r reload)")
        self.facts: AlertsFacts | None = None
        self._note = ""

    def note(self, data: DrillData) -> str:
        return self._note

    async def build(self, data: DrillData) -> list[Widget]:
        now = self.k8stop.now()
        facts, self._note = await data.alerts()
        self.facts = facts
        if facts is None:
            return [TextBlock("no alerts data: Prometheus is off or not answering")]
        if not facts.alerts:
            return [TextBlock("● no firing or pending alerts")]
        return [TextBlock(alert_text(a, now)) for a in facts.alerts]
