"""Request-path facts: admission webhooks (latency, calls, denials, failures) and the time they
add per verb, measured as the duration histogram (webhooks included) minus the SLI one."""

from __future__ import annotations

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.request_path import RequestPathFacts, VerbWebhookTime, WebhookStat
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import by_key, combine, number, or_absent, quantile, split
from k8stop.queries.prom.context import PromContext

WEBHOOK_ENTRIES = ("webhook.latency_p99", "webhook.call_rate", "webhook.rejection_rate", "webhook.failure_rate")
VERB_ENTRIES = ("webhook.verb_p99_with", "webhook.verb_rate")


async def request_path_facts(ctx: PromContext) -> tuple[RequestPathFacts, tuple[str, ...]]:
    probe = await ctx.probe.get()
    if not probe.has("apiserver_request_total"):
        raise NotExposed("API server metrics not exposed: no apiserver_request_total series")
    render = ctx.catalog.render
    parts = {entry_id: render(entry_id) for entry_id in (*WEBHOOK_ENTRIES, *VERB_ENTRIES)}
    without = CATALOG["webhook.verb_p99_without"]
    sli_metric = probe.pick(without)
    if sli_metric is not None:
        parts[without.id] = render(without.id, metric=sli_metric)
    result = await ctx.client.query(combine(parts))
    tagged = split(result)

    keys = ("name", "operation")
    # A webhook is validating or admit (mutating), never both: its type rides on every series.
    types = {
        (labels.get("name", ""), labels.get("operation", "")): labels.get("type", "")
        for entry_id in ("webhook.latency_p99", "webhook.call_rate")
        for labels, _ in tagged.get(entry_id, [])
    }
    p99s = by_key(tagged.get("webhook.latency_p99", []), *keys)
    calls = by_key(tagged.get("webhook.call_rate", []), *keys)
    rejections = by_key(tagged.get("webhook.rejection_rate", []), *keys)
    failures = by_key(tagged.get("webhook.failure_rate", []), *keys)
    top = CATALOG["webhook.latency_p99"].top_bucket
    webhooks = [
        WebhookStat(
            name=name,
            operation=operation,
            type=types.get((name, operation), ""),
            p99=quantile(or_absent(p99s.get((name, operation))), top),
            rate=number(calls.get((name, operation))),
            rejection_rate=number(rejections.get((name, operation))),
            failure_rate=number(failures.get((name, operation))),
        )
        for name, operation in sorted({*p99s, *calls})
    ]
    webhooks.sort(key=lambda w: (-(w.p99.number if w.p99.known else 0.0), w.name, w.operation))

    verbs: list[VerbWebhookTime] = []
    if sli_metric is not None:
        with_ = by_key(tagged.get("webhook.verb_p99_with", []), "verb")
        without_ = by_key(tagged.get(without.id, []), "verb")
        rates = by_key(tagged.get("webhook.verb_rate", []), "verb")
        vtop = without.top_bucket
        for (verb,) in sorted({*with_, *without_}):
            verbs.append(
                VerbWebhookTime(
                    verb=verb,
                    p99_with=quantile(or_absent(with_.get((verb,))), vtop),
                    p99_without=quantile(or_absent(without_.get((verb,))), vtop),
                    rate=number(rates.get((verb,))),
                )
            )
        verbs.sort(key=lambda v: (-(v.gap.number if v.gap.known else 0.0), v.verb))
    facts = RequestPathFacts(webhooks=tuple(webhooks), verbs=tuple(verbs), sli_metric=sli_metric or "")
    return facts, probe.warnings + result.warnings
