"""API-server facts: latency quantiles, request rates by class, inflight, APF, heatmap."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from k8stop.queries.model.facts import (
    ApfLevel,
    ApiRequestStat,
    ApiserverFacts,
    Heatmap,
    HeatRow,
    Inflight,
)
from k8stop.queries.prom.catalog import CATALOG, regex_alternatives
from k8stop.queries.prom.client import Sample
from k8stop.queries.prom.combine import by_key, columns, combine, number, or_absent, quantile, split, split_series
from k8stop.queries.prom.context import PromContext

QUANTILES = (("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99"))
LONG_RUNNING_VERBS = frozenset({"WATCH", "CONNECT"})
APF_ENTRIES = (
    "apiserver.apf_executing_seats",
    "apiserver.apf_limit_seats",
    "apiserver.apf_inqueue",
    "apiserver.apf_rejected_rate",
)


async def apiserver_facts(
    ctx: PromContext,
    columns_count: int = 30,
    window: float = 1800.0,
    with_history: bool = True,
    heat_rows: int = 12,
) -> tuple[ApiserverFacts, tuple[str, ...]]:
    probe = await ctx.require(
        "apiserver_request_total",
        "API server metrics not exposed: no apiserver_request_total series "
        "(is the kube-apiserver scraped by this Prometheus?)",
    )
    latency_entry = CATALOG["apiserver.latency_quantile"]
    latency_metric = probe.pick(latency_entry)
    render = ctx.catalog.render
    parts: dict[str, str] = {}
    if latency_metric or ctx.catalog.overridden(latency_entry.id):
        for name, q in QUANTILES:
            parts[name] = render(latency_entry.id, metric=latency_metric, q=q)
    parts["rate"] = render("apiserver.request_rate")
    parts["inflight"] = render("apiserver.inflight")
    picked: dict[str, str] = {}
    for entry_id in APF_ENTRIES:
        entry = CATALOG[entry_id]
        metric = probe.pick(entry)
        if entry.fallbacks and metric is None:
            continue
        picked[entry_id] = metric or ""
        parts[entry_id] = render(entry_id, metric=metric)
    result = await ctx.client.query(combine(parts))
    warnings = probe.warnings + result.warnings
    tagged = split(result)

    rates: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    total = errors_5xx = 0.0
    for labels, value in tagged.get("rate", ()):
        rate = number(value)
        pair = (labels.get("verb", ""), labels.get("resource", ""))
        rates[pair][labels.get("class", "")] += rate
        total += rate
        if labels.get("class") == "5xx":
            errors_5xx += rate
    latencies = {name: by_key(tagged.get(name, []), "verb", "resource") for name, _ in QUANTILES}
    pairs = {p for p in rates if p[0] not in LONG_RUNNING_VERBS}
    for table in latencies.values():
        pairs.update((key[0], key[1]) for key in table)
    top = latency_entry.top_bucket
    requests = []
    for verb, resource in pairs:
        classes = rates.get((verb, resource), {})
        requests.append(
            ApiRequestStat(
                verb=verb,
                resource=resource,
                p50=quantile(or_absent(latencies["p50"].get((verb, resource))), top),
                p90=quantile(or_absent(latencies["p90"].get((verb, resource))), top),
                p99=quantile(or_absent(latencies["p99"].get((verb, resource))), top),
                rate=sum(classes.values()),
                # Disjoint classes: 429 (APF / max-inflight rejections) is not in rate_4xx.
                rate_4xx=classes.get("4xx", 0.0),
                rate_429=classes.get("429", 0.0),
                rate_5xx=classes.get("5xx", 0.0),
            )
        )
    requests.sort(key=lambda r: (-r.rate, r.verb, r.resource))

    limits = ctx.settings.thresholds.inflight_limits()
    inflight = tuple(
        Inflight(labels.get("request_kind", ""), number(value), limits.get(labels.get("request_kind", "")))
        for labels, value in sorted(tagged.get("inflight", []), key=lambda s: s[0].get("request_kind", ""))
    )
    apf = apf_levels(tagged)

    heatmap = None
    if with_history and latency_metric and requests:
        heatmap, heat_warnings = await _heatmap(ctx, latency_metric, requests[:heat_rows], columns_count, window)
        warnings += heat_warnings
    facts = replace(
        ApiserverFacts.measured(latency_metric or "", requests, (total, errors_5xx), inflight, apf, heatmap),
        apf_seats_metric=picked.get("apiserver.apf_executing_seats", ""),
    )
    return facts, warnings


def apf_levels(tagged: dict[str, list[Sample]]) -> tuple[ApfLevel, ...]:
    tables = {entry_id: by_key(tagged.get(entry_id, []), "priority_level") for entry_id in APF_ENTRIES}
    levels = set().union(*tables.values())
    out = []
    for (level,) in levels:
        limit = tables["apiserver.apf_limit_seats"].get((level,))
        out.append(
            ApfLevel(
                priority_level=level,
                executing_seats=number(tables["apiserver.apf_executing_seats"].get((level,))),
                limit_seats=limit.or_none() if limit is not None else None,
                inqueue=number(tables["apiserver.apf_inqueue"].get((level,))),
                rejected_rate=number(tables["apiserver.apf_rejected_rate"].get((level,))),
            )
        )

    def saturation(level: ApfLevel) -> float:
        return level.executing_seats / level.limit_seats if level.limit_seats else 0.0

    out.sort(key=lambda lv: (-saturation(lv), -lv.inqueue, lv.priority_level))
    return tuple(out)


async def _heatmap(
    ctx: PromContext,
    metric: str,
    busiest: list[ApiRequestStat],
    count: int,
    window: float,
) -> tuple[Heatmap, tuple[str, ...]]:
    step = window / count
    end = ctx.clock()
    start = end - step * (count - 1)
    wanted = [(r.verb, r.resource) for r in busiest]
    # A rate window shorter than the step would skip samples between columns.
    rate_window = f"{int(max(300.0, step))}s"
    promql = ctx.catalog.render(
        "apiserver.latency_p99_history",
        metric=metric,
        verbs=regex_alternatives(sorted({v for v, _ in wanted})),
        resources=regex_alternatives(sorted({r for _, r in wanted})),
        window=rate_window,
    )
    matrix = await ctx.client.query_range(promql, start, end, step)
    top = CATALOG["apiserver.latency_p99_history"].top_bucket
    series = {
        (labels.get("verb", ""), labels.get("resource", "")): points
        for labels, points in split_series(matrix).get("", [])
    }
    rows = tuple(
        HeatRow(verb, resource, columns(series.get((verb, resource), ()), start, step, count, top))
        for verb, resource in wanted
    )
    return Heatmap(start=start, step=step, rows=rows), matrix.warnings
