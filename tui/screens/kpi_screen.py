"""KPI scorecard (seed §1.1): every KPI with its value, target, status and, if unknown, why."""

from __future__ import annotations

from k8stop.queries.drill.data import DrillData
from k8stop.queries.model.level import Level
from k8stop.queries.rules.kpis import Kpi, compute_kpis, fmt_target, fmt_value
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from textual.widget import Widget

GLYPH = {Level.OK: "● ok", Level.WARN: "▲ warn", Level.FAIL: "✖ fail", Level.UNKNOWN: "? unknown"}


def kpi_line(k: Kpi) -> str:
    """Status and name, then value against target: two short lines fit 80 columns unwrapped."""
    return f"{GLYPH[k.status]:<10} {k.name}\n{'':10} {fmt_value(k.value, k.unit)}  (target {fmt_target(k)})"


class KpiScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("KPI scorecard (seed §1.1)   (esc back, r reload)")
        self.kpis: tuple[Kpi, ...] = ()

    def note(self, data: DrillData) -> str:
        return "measured from the dashboard's latest updates; targets from the config (seed defaults)"

    async def build(self, data: DrillData) -> list[Widget]:
        self.kpis = compute_kpis(self.k8stop.snapshot(), self.k8stop.settings.thresholds)
        counts = {status: sum(1 for k in self.kpis if k.status is status) for status in GLYPH}
        summary = "  ".join(f"{GLYPH[status]} {n}" for status, n in counts.items())
        blocks: list[Widget] = [TextBlock(summary)]
        for k in self.kpis:
            blocks.append(TextBlock(f"{kpi_line(k)}\n{'':10} {k.detail}"))
        return blocks
