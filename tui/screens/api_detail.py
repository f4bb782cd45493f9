"""API server drill-down for one (verb, resource) pair."""

from __future__ import annotations

from k8stop.queries.drill.api import ApiDetail, api_detail
from k8stop.queries.drill.recorded import api_stat, recorded_api
from k8stop.queries.model.facts import ApfLevel, ApiserverFacts, Inflight
from k8stop.queries.model.units import fmt_rate, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from k8stop.widgets.chart_plot import ChartPlot
from textual.widget import Widget


def inflight_text(items: tuple[Inflight, ...]) -> str:
    parts = []
    for i in items:
        if i.limit:
            parts.append(f"{i.request_kind} {i.current:.0f}/{i.limit:.0f} ({i.current / i.limit:.0%})")
        else:
            parts.append(f"{i.request_kind} {i.current:.0f}")
    return "  ".join(parts) or "n/a"


def apf_text(levels: tuple[ApfLevel, ...]) -> str:
    rows = ["APF priority levels: executing seats / limit, queued, rejected"]
    for lv in levels:
        limit = f"{lv.limit_seats:.0f}" if lv.limit_seats is not None else "?"
        rows.append(
            f"  {lv.priority_level:<16} {lv.executing_seats:>5.0f}/{limit:<5} queued {lv.inqueue:>5.0f}"
            f"  rejected {fmt_rate(lv.rejected_rate)}"
        )
    return "\n".join(rows) if levels else "APF: no flow-control metrics"


class ApiDetailScreen(DetailScreen):
    def __init__(self, verb: str, resource: str) -> None:
        super().__init__(f"API server › {verb} {resource}   (esc back, r reload)")
        self.verb = verb
        self.resource = resource

    async def build(self) -> list[Widget]:
        ctx = self.prom_context()
        now = self.k8stop.now()
        target = self.k8stop.settings.thresholds.apiserver_p99_target
        if ctx is None:
            return self._recorded(now, target)
        detail, warnings = await api_detail(ctx, self.verb, self.resource, self.window())
        return self._live(detail, now) + [TextBlock("⚠ " + w) for w in warnings]

    def _live(self, d: ApiDetail, now: float) -> list[Widget]:
        latest = {line.label: line.last for line in d.latency.lines}
        rate = d.rate.lines[0].last if d.rate.lines else None
        summary = "  ".join(f"{name} {fmt_seconds(v) if v is not None else 'n/a'}" for name, v in latest.items())
        head = (
            f"{d.verb} {d.resource}: {summary}  (p99 target {fmt_seconds_plain(d.latency.threshold)})\n"
            f"rate {fmt_rate(rate.number) if rate is not None and rate.known else 'n/a'}"
            f"   histogram {d.latency_metric or 'none'}"
        )
        codes = d.codes
        code_text = (
            f"response codes: 2xx/3xx {fmt_rate(codes.ok)}  4xx {fmt_rate(codes.client_4xx)}  "
            f"429 {fmt_rate(codes.throttled_429)}  5xx {fmt_rate(codes.server_5xx)}"
        )
        rows = ["per API-server instance: p99, rate, inflight against --max-*-requests-inflight"]
        for inst in d.instances:
            rows.append(
                f"  {inst.instance:<22} p99 {fmt_seconds(inst.p99):>9}  {fmt_rate(inst.rate):>8}  "
                f"{inflight_text(inst.inflight)}"
            )
        return [
            TextBlock(head),
            ChartPlot(d.latency, now),
            ChartPlot(d.rate, now),
            TextBlock(code_text),
            TextBlock("\n".join(rows)),
            TextBlock(apf_text(d.apf)),
        ]

    def _recorded(self, now: float, target: float) -> list[Widget]:
        updates = list(self.k8stop.history.get("apiserver", ()))
        latest = self.k8stop.latest.get("apiserver")
        facts: ApiserverFacts | None = latest.facts if latest is not None else None
        stat = api_stat(facts, self.verb, self.resource) if facts is not None else None
        if facts is None or stat is None:
            return [TextBlock(f"{self.verb} {self.resource}: not in the recorded updates")]
        latency, rate = recorded_api(updates, self.verb, self.resource, target)
        head = (
            f"{stat.verb} {stat.resource}: p50 {fmt_seconds(stat.p50)}  p90 {fmt_seconds(stat.p90)}  "
            f"p99 {fmt_seconds(stat.p99)}\nrate {fmt_rate(stat.rate)}"
        )
        codes = (
            f"response codes: 4xx {fmt_rate(stat.rate_4xx)}  429 {fmt_rate(stat.rate_429)}  "
            f"5xx {fmt_rate(stat.rate_5xx)}  (per instance and 2xx split: live only)"
        )
        return [
            TextBlock(head),
            ChartPlot(latency, now),
            ChartPlot(rate, now),
            TextBlock(codes),
            TextBlock(f"inflight (all servers): {inflight_text(facts.inflight)}"),
            TextBlock(apf_text(facts.apf)),
        ]


def fmt_seconds_plain(seconds: float | None) -> str:
    return fmt_seconds(Value.of(seconds)) if seconds is not None else "n/a"
