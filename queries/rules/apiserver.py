"""API server rules: latency per verb/resource, 5xx, inflight/APF saturation and its traffic source."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ApiRequestStat, ApiserverFacts
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.prom.catalog import APISERVER_LATENCY_METRICS
from k8stop.queries.rules import bounds, sources
from k8stop.queries.rules.evidence import EvidenceQueries, mark_source
from k8stop.queries.rules.grading import Bound, graded_finding, present
from k8stop.queries.rules.kpis import (
    LIST_VERBS,
    MUTATING_VERBS,
    enough_traffic,
    inflight_saturation,
    latency_requests,
    request_slo,
)

# One (verb, resource) holding at least this share of the busy request concurrency is a
# single traffic source worth naming as the cause of saturation.
DOMINANT_SHARE = 1 / 3


def _read_advice(resource: str) -> str:
    return (
        "Serve reads from the watch cache: clients should LIST with resourceVersion=0 or use "
        "informers (watch) instead of polling, and paginate (limit=500 + continue). Size the watch "
        f"cache for hot resources (seed §2.1: --watch-cache-sizes={resource}#5000 style entries, "
        f"--default-watch-cache-size=1000; {sources.APISERVER_FLAGS}). Find the caller in the audit log "
        f"({sources.AUDIT}); resourceVersion and pagination semantics: {sources.API_CONCEPTS}."
    )


# The SLI histograms (_sli_, _slo_) leave admission webhook time out; the classic one has it.
_SLI_HISTOGRAMS = frozenset(APISERVER_LATENCY_METRICS[:2])


def _write_advice(latency_metric: str) -> str:
    advice = (
        "Mutating calls wait for etcd to persist them: check etcd WAL fsync and backend commit "
        f"({sources.ETCD_HARDWARE}). "
    )
    if latency_metric in _SLI_HISTOGRAMS:
        return advice + (
            f"{latency_metric} excludes webhook time, so slow admission webhooks show only in "
            "apiserver_request_duration_seconds and apiserver_admission_webhook_admission_duration_seconds."
        )
    return advice + (
        f"{latency_metric or 'This histogram'} includes admission webhook time: a slow webhook shows in "
        "apiserver_admission_webhook_admission_duration_seconds."
    )


def _pair(r: ApiRequestStat) -> dict[str, str]:
    return {"verb": r.verb, "resource": r.resource}


def _latency_query(q: EvidenceQueries, facts: ApiserverFacts, r: ApiRequestStat, quantile: str = "0.99") -> str:
    return q.promql("apiserver.latency_quantile", _pair(r), metric=facts.latency_metric, q=quantile)


def _rate_query(q: EvidenceQueries, r: ApiRequestStat) -> str:
    return q.promql("apiserver.request_rate", _pair(r))


def _traffic(r: ApiRequestStat, t: Thresholds) -> str:
    count = r.rate * 300
    floor = t.apiserver_latency_min_requests
    verdict = "enough" if count >= floor else "too few for a p99: at most info"
    return (
        f"{fmt_rate(r.rate)} (~{count:,.0f} requests in 5 m; noise floor {floor:g}: {verdict}), "
        "summed over response classes"
    )


def _latency(facts: ApiserverFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    out: list[Finding | None] = []
    for r in latency_requests(facts):
        slo = request_slo(r, t)
        is_list = r.verb.upper() in LIST_VERBS
        bound = Bound(
            t.apiserver_p99_target,
            slo,
            f"seed §1.1 target; SIG-scalability SLO {'LIST' if is_list else 'mutating/single-object'} {sources.SLOS}",
        )

        def title(level: Level, r: ApiRequestStat = r, slo: float = slo) -> str:
            limit, name = (
                (slo, "SIG-scalability SLO") if level is Level.FAIL else (t.apiserver_p99_target, "seed §1.1 target")
            )
            return f"{r.verb} {r.resource} p99 {fmt_seconds(r.p99)} over the {fmt_seconds(Value.of(limit))} {name}"

        mutating = r.verb.upper() in MUTATING_VERBS
        out.append(
            graded_finding(
                r.p99,
                bound,
                fmt_seconds,
                rule="apiserver.latency",
                component=Component.APISERVER,
                subject=f"{r.verb} {r.resource}",
                title=title,
                query=_latency_query(q, facts, r),
                evidence_detail="p99",
                more_evidence=(
                    Evidence(_latency_query(q, facts, r, "0.5"), r.p50.or_none(), f"p50 {fmt_seconds(r.p50)}"),
                    Evidence(_rate_query(q, r), r.rate, _traffic(r, t)),
                ),
                recommendation=_write_advice(facts.latency_metric) if mutating else _read_advice(r.resource),
                labels=(("verb", r.verb), ("resource", r.resource), ("kind", "mutating" if mutating else "read")),
                # Over the seed's 100 ms target but inside the SLO is normal for many clusters
                # (LISTs especially): worth knowing, not worth paging anyone.
                inside_limit=Level.INFO,
                ceiling=Level.CRITICAL if enough_traffic(r, t) else Level.INFO,
            )
        )
    return present(out)


def _errors(facts: ApiserverFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    worst = sorted((r for r in facts.requests if r.rate_5xx > 0), key=lambda r: r.rate_5xx, reverse=True)[:3]
    finding = graded_finding(
        facts.error_ratio,
        bounds.apiserver_errors(t),
        fmt_ratio,
        rule="apiserver.errors_5xx",
        component=Component.APISERVER,
        subject="all requests",
        key="all",
        title=f"API server answers {fmt_ratio(facts.error_ratio)} of requests with 5xx",
        query=q.promql("apiserver.request_rate"),
        evidence_detail="class 5xx / all classes",
        more_evidence=(
            Evidence(
                q.promql("apiserver.request_rate", _pair(r), extra='code=~"5.."'), r.rate_5xx, f"{r.verb} {r.resource}"
            )
            for r in worst
        ),
        recommendation=(
            "5xx come from the API server or its storage: check etcd (leader, disk latency) and the "
            "API server logs for timeouts; under overload raise the request limits "
            f"({sources.APF}) or add API server replicas."
        ),
    )
    return [finding] if finding is not None else []


def _busy_share(facts: ApiserverFacts) -> list[tuple[ApiRequestStat, float]]:
    """Little's law: concurrency held by a (verb, resource) ~ rate x latency (p50, else p99)."""
    held = []
    for r in latency_requests(facts):
        latency = r.p50 if r.p50.known else r.p99
        held.append((r, r.rate * (latency.number if latency.known else 0.0)))
    total = sum(h for _, h in held)
    if total <= 0:  # no latency at all: fall back to request rates
        total = sum(r.rate for r, _ in held)
        held = [(r, r.rate) for r, _ in held]
    if total <= 0:
        return []
    return sorted(((r, h / total) for r, h in held), key=lambda item: item[1], reverse=True)


def _saturation(facts: ApiserverFacts, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    used = inflight_saturation(facts, t)
    rejecting = facts.apf_rejected_rate > 0
    if used < t.inflight_near_limit and not rejecting:
        return []
    rejected_share = facts.apf_rejected_rate / facts.total_qps if facts.total_qps > 0 else 0.0
    severity = Level.CRITICAL if used >= 1.0 or rejected_share >= t.apiserver_error_ratio[0] else Level.WARNING
    shares = _busy_share(facts)
    lists = [(r, s) for r, s in shares if r.verb.upper() in LIST_VERBS][:3]
    evidence = [
        *(
            Evidence(
                q.promql("apiserver.inflight", {"request_kind": i.request_kind}),
                i.current,
                f"limit {i.limit:g}" if i.limit is not None else "limit not known to k8stop (flag default assumed)",
            )
            for i in facts.inflight
        ),
        Evidence(
            q.promql("apiserver.apf_rejected_rate"),
            facts.apf_rejected_rate,
            f"{fmt_ratio(Value.of(rejected_share))} of requests rejected with 429",
        ),
        *(
            Evidence(
                q.promql(
                    "apiserver.apf_executing_seats", {"priority_level": a.priority_level}, metric=facts.apf_seats_metric
                ),
                a.executing_seats,
                f"limit {a.limit_seats:g} seats, {a.inqueue:g} queued, {fmt_rate(a.rejected_rate)} rejected"
                if a.limit_seats is not None
                else f"{a.inqueue:g} queued, {fmt_rate(a.rejected_rate)} rejected",
            )
            for a in facts.apf
            if a.rejected_rate > 0 or a.inqueue > 0
        ),
        *(
            Evidence(_rate_query(q, r), r.rate, f"LIST {r.resource}: ~{fmt_ratio(Value.of(s))} of busy concurrency")
            for r, s in lists
        ),
    ]
    out = []
    cause_id = None
    if shares and shares[0][1] >= DOMINANT_SHARE:
        top, share = shares[0]
        is_list = top.verb.upper() in LIST_VERBS
        cause_id = f"apiserver.heavy_traffic:{top.verb} {top.resource}"
        out.append(
            Finding(
                id=cause_id,
                component=Component.APISERVER,
                subject=f"{top.verb} {top.resource}",
                severity=severity,
                title=(
                    f"{'LIST storm' if is_list else 'Heavy traffic'}: {top.verb} {top.resource} at "
                    f"{fmt_rate(top.rate)} holds ~{fmt_ratio(Value.of(share))} of API server concurrency"
                ),
                evidence=(
                    Evidence(_rate_query(q, top), top.rate, fmt_rate(top.rate)),
                    Evidence(_latency_query(q, facts, top, "0.5"), top.p50.or_none(), f"p50 {fmt_seconds(top.p50)}"),
                    Evidence(_latency_query(q, facts, top), top.p99.or_none(), f"p99 {fmt_seconds(top.p99)}"),
                    Evidence(
                        "rate x p50 / sum over all verbs and resources",
                        share,
                        "share of busy concurrency (Little's law)",
                    ),
                ),
                recommendation=(
                    (
                        _read_advice(top.resource)
                        if is_list
                        else "Find the client sending these requests in the audit log and slow it down."
                    )
                    + " Give that client its own FlowSchema and a PriorityLevelConfiguration with few "
                    "nominalConcurrencyShares so APF queues it instead of everyone else."
                ),
                magnitude=share / DOMINANT_SHARE,
                labels=(("verb", top.verb), ("resource", top.resource)),
            )
        )
    what = []
    if used >= t.inflight_near_limit:
        what.append(f"inflight at {fmt_ratio(Value.of(used))} of the limit")
    if rejecting:
        what.append(f"APF rejecting {fmt_rate(facts.apf_rejected_rate)}")
    out.append(
        Finding(
            id="apiserver.saturated:apiserver",
            component=Component.APISERVER,
            subject="apiserver",
            severity=severity,
            title="API server saturated: " + ", ".join(what),
            evidence=tuple(evidence),
            recommendation=(
                "Cut the heaviest traffic first (see the LIST evidence). Then add capacity: raise "
                "--max-requests-inflight / --max-mutating-requests-inflight (seed §2.1: 3000 / 1000 on "
                "large control planes; with APF their sum is the seat pool shared by priority levels "
                f"by nominalConcurrencyShares, {sources.APF}) and run more API server replicas."
            ),
            caused_by=cause_id,
            magnitude=max(used / t.inflight_near_limit, 1.0 + rejected_share / t.apiserver_error_ratio[0]),
        )
    )
    return out


def apiserver_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.apiserver is None:
        return []
    facts = snap.apiserver
    found = [*_saturation(facts, t, q), *_latency(facts, t, q), *_errors(facts, t, q)]
    return [mark_source(f, facts.source, facts.source_note) for f in found]
