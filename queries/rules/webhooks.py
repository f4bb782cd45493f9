"""Admission webhook rules: a slow or failing webhook, and the verbs it slows down.

The duration histogram (apiserver_request_duration_seconds) includes webhook time, the SLI one
excludes it: when their p99 difference is most of a verb's p99, webhooks explain the slow verb,
and the slowest webhook intercepting that verb is its cause (linked in diagnose.link_causes).
"""

from __future__ import annotations

from collections import defaultdict

from k8stop.queries.config import Thresholds
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.request_path import RequestPathFacts, VerbWebhookTime, WebhookStat
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Bound, Rule, present
from k8stop.queries.rules.kpis import LIST_VERBS

# Webhook time is this share of a verb's p99 or more: the webhooks explain the slow verb.
EXPLAINS_SHARE = 0.5
WEBHOOK_RULE = "webhook.slow"
VERB_RULE = "apiserver.webhook_time"


def webhook_latency(t: Thresholds) -> Bound:
    return Bound(
        t.apiserver_p99_slo,
        10.0,
        "SIG-scalability mutating call SLO p99 1 s, which one webhook alone would spend; "
        "critical at admissionregistration/v1's default timeoutSeconds 10 s",
    )


def webhook_failures(t: Thresholds) -> Bound:
    return Bound.between(
        t.apiserver_error_ratio, "kubernetes-mixin 99 % API availability budget, applied to the calls it makes"
    )


ADVICE = (
    "Check the webhook's own service first: its pods' CPU, restarts and endpoints (the service is in "
    "`kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o yaml`). Set "
    "timeoutSeconds low (1-5 s; the default 10 s holds every intercepted write that long); "
    "failurePolicy: Fail blocks those writes while the service is down, Ignore lets them through "
    "unchecked, so choose per webhook; narrow its rules, namespaceSelector and objectSelector to what "
    "it must see and leave kube-system out."
)


_SLOW = Rule(WEBHOOK_RULE, Component.APISERVER, ADVICE)
_FAILING = Rule("webhook.failing", Component.APISERVER, ADVICE)
_VERB = Rule(
    VERB_RULE,
    Component.APISERVER,
    "The time is spent in admission webhooks, not in the API server or etcd: find the slow "
    "webhook among this verb's operations (apiserver_admission_webhook_admission_duration_seconds "
    "by name). " + ADVICE,
)


def _name(w: WebhookStat) -> dict[str, str]:
    return {"name": w.name, "operation": w.operation}


def _by_name(facts: RequestPathFacts) -> dict[str, list[WebhookStat]]:
    out: dict[str, list[WebhookStat]] = defaultdict(list)
    for w in facts.webhooks:
        out[w.name].append(w)
    return out


def _rate(q: EvidenceQueries, name: str, entry: str, value: float, what: str) -> Evidence:
    """One of a webhook's rates, summed over its operations."""
    return Evidence(q.promql(entry, {"name": name}), value, what)


def _labels(name: str, stats: list[WebhookStat]) -> tuple[tuple[str, str], ...]:
    return (("webhook", name), *(("verb", v) for w in stats for v in w.verbs))


def _slow(facts: RequestPathFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    out: list[Finding | None] = []
    bound = webhook_latency(t)
    for name, stats in _by_name(facts).items():
        worst = max(stats, key=lambda w: w.p99.number if w.p99.known else -1.0)
        slow = [w for w in stats if bound.grade(w.p99) >= Level.WARN]
        failed = sum(w.failure_rate for w in stats)
        out.append(
            _SLOW.graded(
                worst.p99,
                bound,
                fmt_seconds,
                subject=name,
                title=f"Admission webhook {name} p99 {fmt_seconds(worst.p99)} on {worst.operation} ({worst.type})",
                query=q.promql("webhook.latency_p99", _name(worst)),
                evidence_detail=f"p99 on {worst.operation}",
                more_evidence=(
                    _rate(q, name, "webhook.call_rate", sum(w.rate for w in stats), "calls/s"),
                    _rate(q, name, "webhook.failure_rate", failed, "calls/s answered without 2xx (errors, timeouts)"),
                ),
                labels=_labels(name, slow),
            )
        )
    return present(out)


def _failing(facts: RequestPathFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    out: list[Finding | None] = []
    for name, stats in _by_name(facts).items():
        calls = sum(w.rate for w in stats)
        failed = sum(w.failure_rate for w in stats)
        if calls <= 0:
            continue
        share = Value.of(failed / calls)
        out.append(
            _FAILING.graded(
                share,
                webhook_failures(t),
                fmt_ratio,
                subject=name,
                title=f"Admission webhook {name} fails {fmt_ratio(share)} of its calls ({fmt_rate(failed)})",
                query=q.promql("webhook.failure_rate", {"name": name}),
                evidence_detail=f"{fmt_rate(failed)} failed of {fmt_rate(calls)}",
                more_evidence=(
                    _rate(q, name, "webhook.call_rate", calls, "calls/s"),
                    _rate(
                        q,
                        name,
                        "webhook.rejection_rate",
                        sum(w.rejection_rate for w in stats),
                        "denied by the webhook's policy/s (expected behaviour, not failures)",
                    ),
                ),
                labels=_labels(name, stats),
            )
        )
    return present(out)


def _verb_slo(verb: str, t: Thresholds) -> float:
    return t.apiserver_list_p99_slo if verb.upper() in LIST_VERBS else t.apiserver_p99_slo


def explained_by_webhooks(v: VerbWebhookTime) -> bool:
    return v.gap.known and v.p99_with.known and v.gap.number >= EXPLAINS_SHARE * v.p99_with.number > 0


def _verbs(facts: RequestPathFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    out: list[Finding | None] = []
    for v in facts.verbs:
        if not explained_by_webhooks(v):
            continue
        slo = _verb_slo(v.verb, t)
        out.append(
            _VERB.graded(
                v.p99_with,
                Bound(t.apiserver_p99_target, slo, "seed §1.1 target; SIG-scalability API call SLO"),
                fmt_seconds,
                subject=v.verb,
                title=(
                    f"{v.verb} p99 {fmt_seconds(v.p99_with)} with admission webhooks, {fmt_seconds(v.p99_without)} "
                    f"without: webhooks add {fmt_seconds(v.gap)}"
                ),
                query=q.promql("webhook.verb_p99_with", {"verb": v.verb}),
                evidence_detail="p99 with webhooks (apiserver_request_duration_seconds)",
                more_evidence=(
                    Evidence(
                        q.promql("webhook.verb_p99_without", {"verb": v.verb}, metric=facts.sli_metric),
                        v.p99_without.or_none(),
                        f"p99 without webhooks ({facts.sli_metric})",
                    ),
                    Evidence(q.promql("webhook.verb_rate", {"verb": v.verb}), v.rate, fmt_rate(v.rate)),
                ),
                labels=(("verb", v.verb), ("kind", "webhook")),
                inside_limit=Level.INFO,
            )
        )
    return present(out)


def webhook_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    facts = snap.request_path
    if facts is None:
        return []
    return [*_slow(facts, t, q), *_failing(facts, t, q), *_verbs(facts, t, q)]


def webhook_cause(f: Finding, webhooks: list[Finding]) -> Finding | None:
    """The slowest webhook finding intercepting the verb of `f` (a slow verb), if any."""
    verbs = set(f.label_values("verb"))
    matching = [w for w in webhooks if verbs & set(w.label_values("verb"))]
    return min(matching, key=lambda w: (-w.severity, -w.magnitude, w.id), default=None)
