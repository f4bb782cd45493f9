"""Network rules: cluster DNS (CoreDNS, thresholds from povilasv/coredns-mixin), kube-proxy rule sync and
network programming per node, and each node's connection tracking (conntrack, Cilium BPF maps).

A slow upstream (the forward plugin) explains slow CoreDNS answers: every cache miss waits on
it, so the upstream finding is the cause of the latency finding (diagnose.link_causes).
"""

from __future__ import annotations

from functools import partial

from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.request_path import DnsServerStat, RequestPathFacts
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.rules.evidence import EvidenceQueries, node_matcher
from k8stop.queries.rules.grading import Bound, Rule, present

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


_DNS_LATENCY = Rule(DNS_LATENCY_RULE, Component.NETWORK, DNS_ADVICE)
_DNS_ERRORS = Rule(
    "dns.errors",
    Component.NETWORK,
    "SERVFAIL: the upstream failed or timed out; REFUSED: a zone or ACL refuses it. " + DNS_ADVICE,
)
_DNS_FORWARD = Rule(DNS_FORWARD_RULE, Component.NETWORK)


def _where(d: DnsServerStat) -> dict[str, str]:
    return {"server": d.server, "zone": d.zone}


def _servers(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    """Per CoreDNS server and zone: slow answers and SERVFAIL/REFUSED answers."""
    out: list[Finding | None] = []
    for d in facts.dns:
        where = _where(d)
        rcodes = partial(q.promql, "dns.rcode_ratio", where, metric=facts.dns_responses_metric)
        signals = (
            (
                _DNS_LATENCY,
                d.p99,
                DNS_LATENCY,
                fmt_seconds,
                f"CoreDNS p99 {fmt_seconds(d.p99)} on server {d.server} zone {d.zone}",
                q.promql("dns.request_p99", where),
                "request p99",
                (
                    Evidence(q.promql("dns.request_rate", where), d.rate, fmt_rate(d.rate)),
                    Evidence(
                        q.promql("dns.cache_hit_ratio", {"server": d.server}), d.cache_hit_ratio.or_none(), "cache hits"
                    ),
                ),
            ),
            (
                _DNS_ERRORS,
                d.error_ratio,
                DNS_ERRORS,
                fmt_ratio,
                f"CoreDNS answers {fmt_ratio(d.error_ratio)} SERVFAIL/REFUSED on server {d.server} zone {d.zone}",
                rcodes(rcodes="SERVFAIL|REFUSED"),
                "SERVFAIL + REFUSED / all responses",
                (Evidence(rcodes(rcodes="SERVFAIL"), d.servfail_ratio.or_none(), "SERVFAIL"),),
            ),
        )
        out += [
            rule.graded(
                value,
                bound,
                fmt,
                subject=SUBJECT,
                title=title,
                query=query,
                key=f"{d.server} {d.zone}",
                evidence_detail=detail,
                more_evidence=more,
                labels=(("server", d.server), ("zone", d.zone)),
            )
            for rule, value, bound, fmt, title, query, detail, more in signals
        ]
    return present(out)


def _forward(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    return present(
        _DNS_FORWARD.graded(
            u.p99,
            DNS_FORWARD,
            fmt_seconds,
            subject=SUBJECT,
            title=f"CoreDNS upstream {u.to} answers in {fmt_seconds(u.p99)} (p99): every cache miss waits on it",
            query=q.promql("dns.forward_p99", {"to": u.to}),
            key=f"forward {u.to}",
            evidence_detail="forward p99",
            advice=(
                f"The upstream resolver {u.to} is slow: query it from a CoreDNS pod (dig @{u.to}), check the "
                "route to it, use a closer resolver in the forward plugin, and raise the cache plugin's TTL "
                "so fewer lookups go upstream. " + DNS_ADVICE
            ),
            labels=(("upstream", u.to),),
        )
        for u in facts.dns_upstreams
    )


PROXY_SYNC = Bound(
    1.0,
    30.0,
    "kube-proxy minSyncPeriod 1 s default; critical at its syncPeriod 30 s default (syncs never catch up)",
)
PROXY_PROGRAMMING = Bound(
    5.0,
    30.0,
    "seed §1.1 service_proxy_delay (a data-path figure; programming is what metrics show): k8stop's "
    "5 s target; SIG-scalability network programming latency SLO p99 <= 30 s",
)
CONNTRACK = Bound(0.75, 0.9, "node mixin NodeHighNumberConntrackEntriesUsed (> 75 %); critical at 90 %, k8stop's")
BPF_MAP = Bound(0.75, 0.9, "as conntrack: node mixin's 75 % (Cilium ships no alert); critical at 90 %")

_PROXY_SLOW = Rule(
    "proxy.slow",
    Component.NETWORK,
    "Rule syncs scale with Services x endpoints: on large clusters use the ipvs or nftables mode (seed §4.2; "
    "iptables rewrites every rule on each sync), keep minSyncPeriod at 1 s or more so changes batch, and check "
    "the node's CPU and kube-proxy's own restarts (`kubectl -n kube-system logs` of the kube-proxy pod on the node).",
)
_CONNTRACK_FULL = Rule(
    "node.conntrack_full",
    Component.NODE,
    "A full conntrack table drops new connections (`nf_conntrack: table full, dropping packet` in dmesg). Raise "
    "kube-proxy's conntrack.maxPerCore / conntrack.min (it sets nf_conntrack_max), shorten "
    "tcpTimeout/tcpCloseWaitTimeout, and find the pods opening most connections on the node "
    "(`conntrack -S`, `conntrack -L | awk` by source).",
)
_BPF_MAP_FULL = Rule(
    "node.bpf_map_full",
    Component.NODE,
    "A full Cilium map drops what it cannot track: raise bpf-ct-global-tcp-max / bpf-ct-global-any-max "
    "or bpf-map-dynamic-size-ratio in the cilium-config ConfigMap (the maps are recreated on agent "
    "restart), and find the pods opening most connections on the node.",
)


def _proxy(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    out: list[Finding | None] = []
    for p in facts.proxies:
        where = {"instance": p.instance}
        sync = PROXY_SYNC.grade(p.sync_p99)
        programming = PROXY_PROGRAMMING.grade(p.programming_p99)
        value, bound, what = (
            (p.programming_p99, PROXY_PROGRAMMING, "network programming")
            if programming > sync
            else (p.sync_p99, PROXY_SYNC, "rule sync")
        )
        out.append(
            _PROXY_SLOW.graded(
                value,
                bound,
                fmt_seconds,
                subject=p.node,
                title=(
                    f"kube-proxy on {p.node}: rule sync p99 {fmt_seconds(p.sync_p99)}, network programming p99 "
                    f"{fmt_seconds(p.programming_p99)}: Service changes reach this node late"
                ),
                query=q.promql("proxy.programming_p99" if what == "network programming" else "proxy.sync_p99", where),
                evidence_detail=f"{what} p99",
                more_evidence=(
                    Evidence(
                        q.promql("proxy.sync_p99", where),
                        p.sync_p99.or_none(),
                        f"rule sync p99; {PROXY_SYNC.describe(fmt_seconds)}",
                    ),
                    Evidence(
                        q.promql("proxy.programming_p99", where),
                        p.programming_p99.or_none(),
                        f"network programming p99; {PROXY_PROGRAMMING.describe(fmt_seconds)}",
                    ),
                ),
                labels=(("node", p.node), ("instance", p.instance)),
            )
        )
    return present(out)


def _conntrack(facts: RequestPathFacts, q: EvidenceQueries) -> list[Finding]:
    out: list[Finding | None] = []
    for c in facts.conntrack:
        out.append(
            _CONNTRACK_FULL.graded(
                c.used_ratio,
                CONNTRACK,
                fmt_ratio,
                subject=c.node,
                title=f"conntrack table {fmt_ratio(c.used_ratio)} full on {c.node}",
                query=q.promql("conntrack.used_ratio", extra=node_matcher(c.instance)),
                evidence_detail="entries / limit",
                labels=(("node", c.node),),
            )
        )
    for m in facts.bpf_maps:
        out.append(
            _BPF_MAP_FULL.graded(
                m.pressure,
                BPF_MAP,
                fmt_ratio,
                subject=m.node,
                title=f"Cilium BPF map {m.map_name} {fmt_ratio(m.pressure)} full on {m.node}",
                query=q.promql("conntrack.cilium_map_pressure", {"instance": m.instance, "map_name": m.map_name}),
                key=f"{m.node} {m.map_name}",
                evidence_detail="map pressure",
                labels=(("node", m.node), ("map", m.map_name)),
            )
        )
    return present(out)


def network_findings(snap: ClusterSnapshot, q: EvidenceQueries) -> list[Finding]:
    facts = snap.request_path
    if facts is None:
        return []
    return [*_forward(facts, q), *_servers(facts, q), *_proxy(facts, q), *_conntrack(facts, q)]
