"""API server drill-down for one (verb, resource): quantiles and rate over time, response
codes, the split per API-server instance, inflight per instance against its limits, APF."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from k8stop.queries.drill import charts
from k8stop.queries.drill.common import Chart, Line, RangeWindow, matcher, relabel, tagged_range
from k8stop.queries.model.facts import ApfLevel, Inflight
from k8stop.queries.model.values import Value
from k8stop.queries.prom.apiserver import APF_ENTRIES, apf_levels
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import by_key, combine, number, or_absent, quantile, split
from k8stop.queries.prom.context import PromContext

QUANTILES = (("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99"))


@dataclass(frozen=True, slots=True)
class CodeRates:
    """Requests/s by class; 429 is kept apart from other 4xx (flow control and max-inflight)."""

    ok: float | None  # 1xx-3xx; None when not known (a recording keeps the error classes only)
    client_4xx: float
    throttled_429: float
    server_5xx: float

    @property
    def total(self) -> float:
        return (self.ok or 0.0) + self.client_4xx + self.throttled_429 + self.server_5xx


@dataclass(frozen=True, slots=True)
class InstanceStat:
    instance: str
    p99: Value
    rate: float
    inflight: tuple[Inflight, ...]  # this server's readOnly / mutating against the per-server flags


@dataclass(frozen=True, slots=True)
class ApiDetail:
    verb: str
    resource: str
    latency_metric: str
    latency: Chart  # p50 / p90 / p99 lines, threshold = the p99 target
    rate: Chart
    codes: CodeRates
    instances: tuple[InstanceStat, ...]  # worst p99 first
    apf: tuple[ApfLevel, ...]  # most saturated first


def classify(code: str) -> str:
    if code == "429":
        return "429"
    if code[:1] == "4":
        return "4xx"
    if code[:1] == "5":
        return "5xx"
    return "ok"


async def api_detail(
    ctx: PromContext, verb: str, resource: str, window: RangeWindow
) -> tuple[ApiDetail, tuple[str, ...]]:
    probe = await ctx.require(
        "apiserver_request_total", "API server metrics not exposed: no apiserver_request_total series"
    )
    metric = probe.pick(CATALOG["drill.apiserver_latency_range"])
    pair = f"{matcher('verb', verb)}, {matcher('resource', resource)}"
    render = ctx.catalog.render
    t = ctx.settings.thresholds

    ranges = (
        {
            name: render(
                "drill.apiserver_latency_range", metric=metric, q=q, extra_matchers=pair, window=window.rate_window
            )
            for name, q in QUANTILES
        }
        if metric
        else {}
    )
    ranges["rate"] = render("drill.apiserver_rate_range", extra_matchers=pair, window=window.rate_window)
    lines, warnings = await tagged_range(ctx, ranges, window)
    top = CATALOG["drill.apiserver_latency_range"].top_bucket

    def first(tag: str, label: str, saturate: bool) -> Line:
        found = lines.get(tag)
        if not found:
            return Line(label, (), ())
        line = found[0][1]
        if saturate:
            line = Line(label, line.times, tuple(quantile(v, top) for v in line.values))
        return relabel(line, label)

    latency = charts.api_latency(verb, resource, (first(name, name, True) for name, _ in QUANTILES), t)
    rate = charts.api_rate(verb, resource, (first("rate", "req/s", False),))

    instant = {
        "codes": render("drill.apiserver_rate_by_code", extra_matchers=pair),
        "rate_by_instance": render("drill.apiserver_rate_by_instance", extra_matchers=pair),
        "inflight": render("drill.apiserver_inflight_by_instance"),
    }
    if metric:
        instant["p99_by_instance"] = render("drill.apiserver_p99_by_instance", metric=metric, extra_matchers=pair)
    for entry_id in APF_ENTRIES:
        entry = CATALOG[entry_id]
        picked = probe.pick(entry)
        if entry.fallbacks and picked is None:
            continue
        instant[entry_id] = render(entry_id, metric=picked)
    result = await ctx.client.query(combine(instant))
    warnings += result.warnings
    tagged = split(result)

    classes: dict[str, float] = defaultdict(float)
    for labels, value in tagged.get("codes", []):
        classes[classify(labels.get("code", ""))] += number(value)
    codes = CodeRates(classes["ok"], classes["4xx"], classes["429"], classes["5xx"])

    limits = {"readOnly": t.max_requests_inflight, "mutating": t.max_mutating_requests_inflight}
    inflight: dict[str, list[Inflight]] = defaultdict(list)
    for labels, value in sorted(tagged.get("inflight", []), key=lambda s: s[0].get("request_kind", "")):
        kind = labels.get("request_kind", "")
        inflight[labels.get("instance", "")].append(Inflight(kind, number(value), limits.get(kind)))
    p99s = by_key(tagged.get("p99_by_instance", []), "instance")
    rates = by_key(tagged.get("rate_by_instance", []), "instance")
    names = sorted({k[0] for k in p99s} | {k[0] for k in rates})
    instances = [
        InstanceStat(
            name, quantile(or_absent(p99s.get((name,))), top), number(rates.get((name,))), tuple(inflight.get(name, ()))
        )
        for name in names
    ]
    instances.sort(key=lambda i: (-(i.p99.or_none() or -1.0), i.instance))
    detail = ApiDetail(verb, resource, metric or "", latency, rate, codes, tuple(instances), apf_levels(tagged))
    return detail, warnings
