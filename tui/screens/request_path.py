"""`w`: the request path around the API server: admission webhooks and the time they add per verb."""

from __future__ import annotations

from k8stop.queries.drill.data import DrillData
from k8stop.queries.model.request_path import RequestPathFacts
from k8stop.queries.model.units import fmt_rate, fmt_seconds
from k8stop.queries.rules.webhooks import explained_by_webhooks, webhook_latency
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from rich.text import Text
from textual.widget import Widget

NAME_WIDTH = 28


def _flag(level_bad: bool, level_warn: bool) -> str:
    return "✖" if level_bad else ("▲" if level_warn else "●")


def webhook_block(f: RequestPathFacts, warn: float, fail: float) -> TextBlock:
    # Webhook names come from the cluster: plain Text, never markup.
    text = Text(f"admission webhooks (p99 warn at {warn:g} s, critical at {fail:g} s = default timeoutSeconds):\n")
    if not f.webhooks:
        text.append("  none called in the last 5 minutes (or apiserver_admission_webhook_* not exposed)")
    for w in f.webhooks:
        flag = _flag(w.p99.at_least(fail), w.p99.at_least(warn))
        name = w.name if len(w.name) <= NAME_WIDTH else w.name[: NAME_WIDTH - 1] + "…"
        text.append(
            f"  {flag} {name:<{NAME_WIDTH}} {w.operation:<7} {w.type[:5]:<5} p99 {fmt_seconds(w.p99):>8}  "
            f"{fmt_rate(w.rate):>8}  denied {fmt_rate(w.rejection_rate)}  failed {fmt_rate(w.failure_rate)}\n"
        )
    text.rstrip()
    return TextBlock(text)


def verb_block(f: RequestPathFacts) -> TextBlock:
    if not f.sli_metric:
        return TextBlock(
            "time webhooks add per verb: unknown (no SLI histogram; apiserver_request_duration_seconds "
            "already includes webhook time)"
        )
    text = Text(f"p99 per verb with webhooks / without ({f.sli_metric}):\n")
    for v in f.verbs:
        flag = "▲" if explained_by_webhooks(v) else "●"
        text.append(
            f"  {flag} {v.verb:<8} {fmt_seconds(v.p99_with):>8} / {fmt_seconds(v.p99_without):>8}  "
            f"webhooks add {fmt_seconds(v.gap):>8}  {fmt_rate(v.rate)}\n"
        )
    text.rstrip()
    return TextBlock(text)


class RequestPathScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("request path: admission webhooks   (esc back, r reload)")

    async def build(self, data: DrillData) -> list[Widget]:
        latest = self.k8stop.latest.get("request_path")
        facts: RequestPathFacts | None = latest.facts if latest is not None else None
        if facts is None:
            reason = latest.status.reason if latest is not None else "waiting for the first answer"
            return [TextBlock(f"request-path feed: {reason or 'no data'}")]
        bound = webhook_latency(self.k8stop.settings.thresholds)
        return [webhook_block(facts, bound.target, bound.limit or bound.target), verb_block(facts)]
