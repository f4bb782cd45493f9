"""Network rules: cluster DNS (CoreDNS). Thresholds from the CoreDNS mixin (povilasv/coredns-mixin).

A slow upstream (the forward plugin) explains slow CoreDNS answers: every cache miss waits on
it, so the upstream finding is the cause of the latency finding (diagnose.link_causes).
"""

from __future__ import annotations

from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.request_path import DnsServerStat, RequestPathFacts
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Bound, graded_finding

DNS_LATENCY_RULE = "dns.latency"
DNS_FORWARD_RULE = "dns.forward_latency"
SUBJECT = "coredns"

DNS_LATENCY = Bound(1.0, 4.0, "k8stop's 1 s target; coredns-mixin CoreDNSLatencyHigh p99 > 4 s")
DNS_FORWARD = Bound(1.0, 4.0, "k8stop's 1 s target; coredns-mixin CoreDNSForwardLatencyHigh p99 > 4 s")
DNS_ERRORS = Bound(0.01, 0.03, "coredns-mixin CoreDNSErrorsHigh (SERVFAIL > 1 % warning, > 3 % critical)")

DNS_ADVICE = (
    "Check CoreDNS's pods (CPU throttling, restarts, `kubectl -n kube-system logs -l k8s-app=kube-dns`) and "
    "scale them (replicas, or NodeLocal DNSCache on every node); with slow upstreams, check the forward "
    "plugin's resolvers from a CoreDNS pod and raise the cache TTL; ndots:5 in pods multiplies lookups "
    "(use FQDNs with a trailing dot, or lower ndots in dnsConfig)."
)


def _where(d: DnsServerStat) -> dict[str, str]:
    return {"server": d.server, "zone": d.zone}


def _latency(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    out = []
    for d in facts.dns:
        finding = graded_finding(
            d.p99,
            DNS_LATENCY,
            fmt_seconds,
            rule=DNS_LATENCY_RULE,
            component=Component.NETWORK,
            subject=SUBJECT,
            key=f"{d.server} {d.zone}",
            title=f"CoreDNS p99 {fmt_seconds(d.p99)} on server {d.server} zone {d.zone}",
            query=q.promql("dns.request_p99", _where(d)),
            evidence_detail="request p99",
            more_evidence=(
                Evidence(q.promql("dns.request_rate", _where(d)), d.rate, fmt_rate(d.rate)),
                Evidence(
                    q.promql("dns.cache_hit_ratio", {"server": d.server}), d.cache_hit_ratio.or_none(), "cache hits"
                ),
            ),
            recommendation=DNS_ADVICE,
            labels=(("server", d.server), ("zone", d.zone)),
        )
        if finding is not None:
            out.append(finding)
    return out


def _errors(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    out = []
    for d in facts.dns:
        finding = graded_finding(
            d.error_ratio,
            DNS_ERRORS,
            fmt_ratio,
            rule="dns.errors",
            component=Component.NETWORK,
            subject=SUBJECT,
            key=f"{d.server} {d.zone}",
            title=f"CoreDNS answers {fmt_ratio(d.error_ratio)} SERVFAIL/REFUSED on server {d.server} zone {d.zone}",
            query=q.promql("dns.rcode_ratio", _where(d), metric=facts.dns_responses_metric, rcodes="SERVFAIL|REFUSED"),
            evidence_detail="SERVFAIL + REFUSED / all responses",
            more_evidence=(
                Evidence(
                    q.promql("dns.rcode_ratio", _where(d), metric=facts.dns_responses_metric, rcodes="SERVFAIL"),
                    d.servfail_ratio.or_none(),
                    "SERVFAIL",
                ),
            ),
            recommendation="SERVFAIL: the upstream failed or timed out; REFUSED: a zone or ACL refuses it. "
            + DNS_ADVICE,
            labels=(("server", d.server), ("zone", d.zone)),
        )
        if finding is not None:
            out.append(finding)
    return out


def _forward(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    out = []
    for u in facts.dns_upstreams:
        finding = graded_finding(
            u.p99,
            DNS_FORWARD,
            fmt_seconds,
            rule=DNS_FORWARD_RULE,
            component=Component.NETWORK,
            subject=SUBJECT,
            key=f"forward {u.to}",
            title=f"CoreDNS upstream {u.to} answers in {fmt_seconds(u.p99)} (p99): every cache miss waits on it",
            query=q.promql("dns.forward_p99", {"to": u.to}),
            evidence_detail="forward p99",
            recommendation=(
                f"The upstream resolver {u.to} is slow: query it from a CoreDNS pod (dig @{u.to}), check the "
                "route to it, use a closer resolver in the forward plugin, and raise the cache plugin's TTL "
                "so fewer lookups go upstream. " + DNS_ADVICE
            ),
            labels=(("upstream", u.to),),
        )
        if finding is not None:
            out.append(finding)
    return out


def network_findings(snap: ClusterSnapshot, q: EvidenceQueries) -> list[Finding]:
    facts = snap.request_path
    if facts is None:
        return []
    return [*_forward(facts, q), *_latency(facts, q), *_errors(facts, q)]
