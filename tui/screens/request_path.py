"""`e`: the request path around the API server: its error budget burn, admission webhooks and the time they add per verb,
who loads it (APF flow schemas and priority levels), objects stored per resource."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from k8stop.queries.drill.data import DrillData
from k8stop.queries.model.level import Level
from k8stop.queries.model.request_path import RequestPathFacts
from k8stop.queries.model.units import fmt_count, fmt_more, fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules.bounds import apiserver_errors
from k8stop.queries.rules.flows import flow_wait
from k8stop.queries.rules.network import (
    BPF_MAP,
    CONNTRACK,
    DNS_ERRORS,
    DNS_FORWARD,
    DNS_LATENCY,
    PROXY_PROGRAMMING,
    PROXY_SYNC,
)
from k8stop.queries.rules.slo import burn_rate, firing
from k8stop.queries.rules.webhooks import explained_by_webhooks, webhook_latency
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from rich.text import Text
from textual.widget import Widget

NAME_WIDTH = 24
LINE_WIDTH = 74  # inside the block's padding and the scrollbar at 80 columns


def _short(name: str, width: int) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _flag(level_bad: bool, level_warn: bool) -> str:
    return "✖" if level_bad else ("▲" if level_warn else "●")


def _block(head: str, lines: Iterable[str]) -> TextBlock:
    """A heading and one line per row. Names in the rows come from the cluster: plain Text, never markup."""
    text = Text("\n".join((head, *lines)))
    text.rstrip()
    return TextBlock(text)


def webhook_block(f: RequestPathFacts, warn: float, fail: float) -> TextBlock:
    rows = []
    for w in f.webhooks:
        flag = _flag(w.p99.at_least(fail), w.p99.at_least(warn))
        kind = "M" if w.type == "admit" else "V"  # mutating (admit) or validating
        rows.append(
            f"  {flag} {_short(w.name, NAME_WIDTH):<{NAME_WIDTH}} {w.operation:<6} {kind} {fmt_seconds(w.p99):>7} "
            f"{fmt_rate(w.rate):>8} {fmt_rate(w.rejection_rate):>8} {fmt_rate(w.failure_rate):>8}"
        )
    header = (
        f"    {'name':<{NAME_WIDTH}} {'op':<6} t {'p99':>7} {'calls':>8} {'denied':>8} {'failed':>8}"
        if f.webhooks
        else "  none called in the last 5 minutes (or apiserver_admission_webhook_* not exposed)"
    )
    return _block(
        f"admission webhooks (p99 warn {warn:g} s, critical {fail:g} s = default timeoutSeconds):", [header, *rows]
    )


def verb_block(f: RequestPathFacts) -> TextBlock:
    if not f.sli_metric:
        return TextBlock(
            "time webhooks add per verb: unknown (no SLI histogram; apiserver_request_duration_seconds "
            "already includes webhook time)"
        )
    # The SLI histogram's name is in the evidence; here it would push the line past 80 columns.
    return _block(
        "p99 per verb with admission webhooks / without (SLI histogram):",
        (
            f"  {'▲' if explained_by_webhooks(v) else '●'} {v.verb:<8} {fmt_seconds(v.p99_with):>8} / "
            f"{fmt_seconds(v.p99_without):>8}  webhooks add {fmt_seconds(v.gap):>8}  {fmt_rate(v.rate)}"
            for v in f.verbs
        ),
    )


FLOWS_SHOWN = 8
OBJECTS_SHOWN = 8


def flow_block(f: RequestPathFacts, reject_warn: float, wait_warn: float) -> TextBlock:
    rows = []
    for flow in f.flows[:FLOWS_SHOWN]:
        bad = Value.of(flow.rejected_share).at_least(reject_warn) or flow.wait_p99.at_least(wait_warn)
        name = _short(f"{flow.flow_schema} / {flow.priority_level}", 34)
        rows.append(
            f"  {'▲' if bad else '●'} {name:<34} {fmt_rate(flow.dispatched_rate):>8} "
            f"q {fmt_count(flow.inqueue):>4} wait {fmt_seconds(flow.wait_p99):>7} "
            f"429 {fmt_ratio(Value.of(flow.rejected_share))}"
        )
    if more := fmt_more(len(f.flows), FLOWS_SHOWN):
        rows.append(f"  {more}")
    return _block(
        "who loads the API server: APF flow schema / priority level (busiest first):",
        rows or ["  no apiserver_flowcontrol_* series (APF off or not exposed)"],
    )


def objects_block(f: RequestPathFacts) -> TextBlock:
    if not f.objects:
        return TextBlock("objects per resource: apiserver_storage_objects / etcd_object_counts not exposed")
    shown = "   ".join(f"{_short(o.resource, 24)} {fmt_count(o.count)}" for o in f.objects[:OBJECTS_SHOWN])
    lines = textwrap.wrap(shown, LINE_WIDTH, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False)
    if more := fmt_more(len(f.objects), OBJECTS_SHOWN):
        lines.append(f"  {more}")
    return TextBlock(Text(f"objects stored per resource ({f.objects_metric}):\n" + "\n".join(lines)))


def dns_block(f: RequestPathFacts) -> TextBlock:
    if not f.dns:
        return TextBlock("cluster DNS: no coredns_* series (CoreDNS not scraped, or another DNS server)")
    rows = []
    for d in f.dns[:4]:
        bad = DNS_LATENCY.grade(d.p99) >= Level.WARN or DNS_ERRORS.grade(d.error_ratio) >= Level.WARN
        where = _short(f"{d.server} {d.zone}", 24)
        rows.append(
            f"  {'▲' if bad else '●'} {where:<24} p99 {fmt_seconds(d.p99):>7} {fmt_rate(d.rate):>8} "
            f"fail {fmt_ratio(d.error_ratio):>6} cache {fmt_ratio(d.cache_hit_ratio)}"
        )
    for u in f.dns_upstreams[:3]:
        flag = "▲" if DNS_FORWARD.grade(u.p99) >= Level.WARN else "●"
        rows.append(f"  {flag} upstream {_short(u.to, 30):<30} p99 {fmt_seconds(u.p99):>7}")
    for more, what in ((fmt_more(len(f.dns), 4), "DNS servers"), (fmt_more(len(f.dns_upstreams), 3), "upstreams")):
        if more:
            rows.append(f"  {more} {what}")
    return _block("cluster DNS (CoreDNS; mixin: p99 4 s, SERVFAIL 1 % / 3 %):", rows)


def node_block(f: RequestPathFacts) -> TextBlock:
    """The worst nodes for kube-proxy and connection tracking (the feed keeps the worst few)."""
    rows = []
    if not f.proxies:
        rows.append("  no kubeproxy_* series (kube-proxy not scraped, or replaced by Cilium/eBPF)")
    for p in f.proxies:
        bad = PROXY_SYNC.grade(p.sync_p99) >= Level.WARN or PROXY_PROGRAMMING.grade(p.programming_p99) >= Level.WARN
        rows.append(
            f"  {'▲' if bad else '●'} {_short(p.node, 30):<30} sync {fmt_seconds(p.sync_p99):>7}  "
            f"programming {fmt_seconds(p.programming_p99):>7}"
        )
    rows.append("conntrack per node (entries / limit; node mixin 75 %):")
    if not f.conntrack:
        rows.append("  no node_nf_conntrack_* series")
    for c in f.conntrack:
        flag = "▲" if CONNTRACK.grade(c.used_ratio) >= Level.WARN else "●"
        rows.append(f"  {flag} {_short(c.node, 30):<30} {fmt_ratio(c.used_ratio):>6}")
    for m in f.bpf_maps:
        flag = "▲" if BPF_MAP.grade(m.pressure) >= Level.WARN else "●"
        rows.append(f"  {flag} {_short(m.node, 24):<24} {_short(m.map_name, 26):<26} {fmt_ratio(m.pressure):>6}")
    return _block("kube-proxy per node (sync p99 / network programming p99, SLO 30 s):", rows)


def burn_block(f: RequestPathFacts) -> TextBlock:
    if not f.burn:
        return TextBlock("error budget burn: not measured yet (measured once a minute)")
    fired = firing(f)
    rates = "  ".join(f"{b.window} {burn_rate(b.ratio) or 0.0:.1f}x" for b in f.burn)
    verdict = (
        f"▲ {fired[0][0].long}/{fired[0][0].short} pair over x{fired[0][0].factor:g}: {fired[0][0].severity.severity_word}"
        if fired
        else "● no KubeAPIErrorBudgetBurn pair firing"
    )
    return TextBlock(f"error budget burn (99 % / 30 d; 1x spends it in 30 days):\n  {rates}\n  {verdict}")


class RequestPathScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("request path: budget, webhooks, APF, objects, DNS, proxy, conntrack")

    async def build(self, data: DrillData) -> list[Widget]:
        return self.from_feed("request_path", self._blocks)

    def _blocks(self, facts: RequestPathFacts) -> list[Widget]:
        t = self.k8stop.settings.thresholds
        bound = webhook_latency(t)
        return [
            burn_block(facts),
            webhook_block(facts, bound.target, bound.limit or bound.target),
            verb_block(facts),
            flow_block(facts, apiserver_errors(t).target, flow_wait(t).target),
            objects_block(facts),
            dns_block(facts),
            node_block(facts),
        ]
