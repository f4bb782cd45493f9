"""API server drill-down for one (verb, resource) pair."""

from __future__ import annotations

from k8stop.queries.drill.api import ApiDetail
from k8stop.queries.drill.data import DrillData
from k8stop.queries.drill.next_steps import api_commands
from k8stop.queries.model.facts import ApfLevel, Inflight
from k8stop.queries.model.keys import ApiKey
from k8stop.queries.model.units import fmt_rate, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.screens.detail_screen import RowScreen, TextBlock
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


class ApiDetailScreen(RowScreen[ApiKey]):
    HEADING = "API server › {key.verb} {key.resource}"

    async def build(self, data: DrillData) -> list[Widget]:
        detail, warnings = await data.api(self.key, self.window())
        return self.warned(self._blocks(detail), warnings)

    def commands(self) -> tuple[str, ...]:
        return api_commands(self.key.verb, self.key.resource, self.k8stop.settings.context)

    def _blocks(self, d: ApiDetail) -> list[Widget]:
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
            f"response codes: 2xx/3xx {fmt_rate(codes.ok) if codes.ok is not None else 'n/a'}  "
            f"4xx {fmt_rate(codes.client_4xx)}  "
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
            self.plot(d.latency),
            self.plot(d.rate),
            TextBlock(code_text),
            TextBlock("\n".join(rows)),
            TextBlock(apf_text(d.apf)),
        ]


def fmt_seconds_plain(seconds: float | None) -> str:
    return fmt_seconds(Value.of(seconds)) if seconds is not None else "n/a"
