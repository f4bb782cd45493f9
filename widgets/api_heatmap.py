"""API-server p99 latency as a verb x resource heatmap (the seed's "API Server Performance Matrix").

Each row is shaded by its p99 as a share of its own SIG-scalability SLO (1 s single object,
5 s namespace LIST, 30 s cluster LIST): a healthy cluster's LISTs are calm, and a LIST that
gets 50 times slower turns the row solid.
"""

from __future__ import annotations

from itertools import groupby

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import SOURCE_PROMETHEUS, ApiRequestStat, ApiserverFacts, HeatRow
from k8stop.queries.model.keys import ApiKey
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules.kpis import heat_slo
from k8stop.widgets.fact_panel import FactPanel, Row
from k8stop.widgets.levels import HEAT_GLYPHS, level_of
from rich.text import Text

LABEL_WIDTH = 22
VALUE_WIDTH = 10


def _ms(bound: float) -> str:
    return f"{bound * 1000:g}ms" if bound < 1 else f"{bound:g}s"


class ApiHeatmap(FactPanel[ApiserverFacts]):
    TITLE = "API server p99 by verb x resource"

    def __init__(self, thresholds: Thresholds, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.thresholds = thresholds

    def bounds(self, verb: str, resource: str) -> tuple[float, ...]:
        """The row's shade bounds in seconds: shares of its SLO."""
        slo = heat_slo(verb, resource, self.thresholds)
        return tuple(share * slo for share in self.thresholds.apiserver_heat_slo_share)

    def empty_text(self) -> str:
        return "waiting for API-server metrics…"

    def summary_lines(self, facts: ApiserverFacts, width: int) -> list[Text]:
        parts = [f"QPS {fmt_rate(facts.total_qps)}", f"5xx {fmt_ratio(facts.error_ratio)}"]
        for inflight in facts.inflight:
            kind = "RO" if inflight.request_kind == "readOnly" else "MUT"
            limit = f"/{inflight.limit:.0f}" if inflight.limit else ""
            parts.append(f"inflight {kind} {inflight.current:.0f}{limit}")
        parts.append(f"APF rejected {fmt_rate(facts.apf_rejected_rate)}")
        line = Text("  ".join(parts))
        saturated = any(i.limit and i.current >= 0.9 * i.limit for i in facts.inflight)
        if saturated or facts.apf_rejected_rate > 0:
            line.stylize(self.level_style(Level.FAIL))
        if facts.source == SOURCE_PROMETHEUS:
            return [line]
        # Said before the figures: they are one API server's, maybe since its start.
        source = Text(f"source: {facts.source}, {facts.source_note}", style=self.get_component_rich_style("panel--dim"))
        return [source, line]

    def _label(self, verb: str, resource: str) -> Text:
        return Text(f"{verb} {resource}"[: LABEL_WIDTH - 1].ljust(LABEL_WIDTH))

    def _current(self, stat: ApiRequestStat | None, bounds: tuple[float, ...]) -> Text:
        p99 = stat.p99 if stat is not None else Value.of(float("nan"))
        text = fmt_seconds(p99).rjust(VALUE_WIDTH)
        return Text(text, style=self.level_style(level_of(p99, bounds)))

    def row_lines(self, facts: ApiserverFacts, width: int) -> list[Row]:
        stats = {(s.verb, s.resource): s for s in facts.requests}
        cells_room = max(0, width - LABEL_WIDTH - VALUE_WIDTH - 1)
        rows: list[Row] = []
        if facts.heatmap is not None and facts.heatmap.rows:
            # The busiest pairs, slowest first: what hurts most is on top even at 80x24.
            def slowness(heat: HeatRow) -> float:
                stat = stats.get((heat.verb, heat.resource))
                return stat.p99.number if stat is not None and stat.p99.known else -1.0

            for heat in sorted(facts.heatmap.rows, key=slowness, reverse=True):
                line = self._label(heat.verb, heat.resource)
                # Wide terminals stretch each time step over several cells rather than leave a gap.
                repeat = max(1, cells_room // max(1, len(heat.cells)))
                cells = heat.cells[-(cells_room // repeat) :] if cells_room else ()
                # One segment per run of equal levels: a long row is a handful of segments.
                bounds = self.bounds(heat.verb, heat.resource)
                levels = [level_of(cell, bounds) for cell in cells]
                for level, run in groupby(levels):
                    line.append(HEAT_GLYPHS[level] * (repeat * len(list(run))), style=self.level_style(level))
                shown = len(cells) * repeat
                line.append(" " * (cells_room - shown + 1))
                line.append_text(self._current(stats.get((heat.verb, heat.resource)), bounds))
                rows.append((ApiKey(heat.verb, heat.resource), line))
            return rows
        for stat in sorted(facts.requests, key=lambda r: r.p99.number if r.p99.known else -1.0, reverse=True):
            line = self._label(stat.verb, stat.resource)
            line.append(f"{fmt_rate(stat.rate):>10} ")
            line.append_text(self._current(stat, self.bounds(stat.verb, stat.resource)))
            rows.append((ApiKey(stat.verb, stat.resource), line))
        return rows

    def footer_lines(self, facts: ApiserverFacts, width: int) -> list[Text]:
        low, mid, high = (f"{share:.0%}" for share in self.thresholds.apiserver_heat_slo_share)
        t = self.thresholds
        legend = Text(" ")
        for level, label in (
            (Level.UNKNOWN, "idle"),
            (Level.OK, f"<{low}"),
            (Level.INFO, f"<{mid}"),
            (Level.WARN, f"<{high}"),
            (Level.FAIL, f">={high} of SLO"),
        ):
            legend.append(HEAT_GLYPHS[level], style=self.level_style(level))
            legend.append(f" {label}  ")
        slos = (t.apiserver_p99_slo, t.apiserver_namespace_list_p99_slo, t.apiserver_list_p99_slo)
        legend.append(f"({'/'.join(_ms(s) for s in slos)}) ")
        if facts.heatmap is not None and facts.heatmap.rows:
            span = len(facts.heatmap.rows[0].cells) * facts.heatmap.step
            legend.append(f"cols {facts.heatmap.step:.0f}s, {span / 60:.0f}m", style="italic")
        return [legend]
