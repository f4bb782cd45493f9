"""Facts about the request path around the API server: admission webhooks and the time they add."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.model.values import Value

# Admission operations and the request verbs they intercept (k8s admission attributes).
OPERATION_VERBS: dict[str, tuple[str, ...]] = {
    "CREATE": ("POST",),
    "UPDATE": ("PUT", "PATCH"),
    "DELETE": ("DELETE",),
    "CONNECT": ("CONNECT",),
}


@dataclass(frozen=True, slots=True)
class WebhookStat:
    """One admission webhook under one operation, summed over API servers."""

    name: str
    operation: str  # CREATE | UPDATE | DELETE | CONNECT
    type: str  # validating | admit (mutating)
    p99: Value
    rate: float  # calls/s
    rejection_rate: float  # denials by the webhook's policy (error_type no_error), /s
    failure_rate: float  # calls answered with no 2xx (errors, timeouts), /s

    @property
    def verbs(self) -> tuple[str, ...]:
        return OPERATION_VERBS.get(self.operation, ())


@dataclass(frozen=True, slots=True)
class VerbWebhookTime:
    """A verb's p99 with admission webhooks (apiserver_request_duration_seconds) and without
    (the SLI histogram): the difference is what webhooks add."""

    verb: str
    p99_with: Value
    p99_without: Value
    rate: float  # requests/s

    @property
    def gap(self) -> Value:
        if self.p99_with.known and self.p99_without.known:
            return Value.of(max(0.0, self.p99_with.number - self.p99_without.number))
        return self.p99_with if not self.p99_with.known else self.p99_without


@dataclass(frozen=True, slots=True)
class FlowStat:
    """API Priority and Fairness traffic of one flow schema in one priority level, over API servers."""

    priority_level: str
    flow_schema: str
    dispatched_rate: float  # /s
    inqueue: float
    wait_p99: Value  # time queued before dispatch
    rejected_rate: float  # 429/s

    @property
    def rejected_share(self) -> float:
        total = self.dispatched_rate + self.rejected_rate
        return self.rejected_rate / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ObjectCount:
    resource: str
    count: float


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """The share of the API server's requests that spent error budget over one window."""

    window: str  # PromQL duration: 5m, 30m, 1h, 2h, 6h, 1d, 3d
    ratio: Value  # (too slow + 5xx) / all, read and write summed (kubernetes-mixin)


@dataclass(frozen=True, slots=True)
class DnsServerStat:
    """One CoreDNS server block and zone, over every CoreDNS pod."""

    server: str
    zone: str
    p99: Value
    rate: float  # requests/s
    servfail_ratio: Value
    refused_ratio: Value
    cache_hit_ratio: Value  # per server, shared by its zones

    @property
    def error_ratio(self) -> Value:
        """SERVFAIL + REFUSED share of responses: what clients see as failed lookups."""
        known = [v.number for v in (self.servfail_ratio, self.refused_ratio) if v.known]
        return Value.of(sum(known)) if known else self.servfail_ratio


@dataclass(frozen=True, slots=True)
class DnsUpstream:
    to: str  # the forward plugin's upstream
    p99: Value


@dataclass(frozen=True, slots=True)
class ProxyNode:
    """kube-proxy on one node."""

    node: str  # as kubectl names it; the instance when nothing names it
    instance: str
    sync_p99: Value  # rule sync
    programming_p99: Value  # Service/EndpointSlice change -> rules in place


@dataclass(frozen=True, slots=True)
class ConntrackNode:
    node: str
    instance: str
    used_ratio: Value  # entries / limit
    named_by: str = ""


@dataclass(frozen=True, slots=True)
class BpfMap:
    """A Cilium BPF map's fill ratio on one node (conntrack, NAT, policy...)."""

    node: str
    instance: str
    map_name: str
    pressure: Value


@dataclass(frozen=True, slots=True)
class RequestPathFacts:
    webhooks: tuple[WebhookStat, ...]  # slowest p99 first
    verbs: tuple[VerbWebhookTime, ...]  # largest webhook time first; empty without an SLI histogram
    sli_metric: str  # the histogram without webhook time ("" when the server has none)
    flows: tuple[FlowStat, ...] = ()  # most rejected, then most queued, first
    objects: tuple[ObjectCount, ...] = ()  # most objects first
    objects_metric: str = ""  # apiserver_storage_objects or etcd_object_counts ("" when neither)
    burn: tuple[BurnWindow, ...] = ()  # shortest window first; () until first measured
    burn_metric: str = ""  # the latency histogram the burn rates read
    dns: tuple[DnsServerStat, ...] = ()  # slowest p99 first; () without CoreDNS metrics
    dns_upstreams: tuple[DnsUpstream, ...] = ()  # slowest first
    dns_responses_metric: str = ""  # coredns_dns_responses_total or the pre-1.7 name
    proxies: tuple[ProxyNode, ...] = ()  # slowest sync first, the worst few
    conntrack: tuple[ConntrackNode, ...] = ()  # fullest first, the worst few
    bpf_maps: tuple[BpfMap, ...] = ()  # fullest first, the worst few; () without Cilium

    def burn_ratio(self, window: str) -> Value | None:
        return next((b.ratio for b in self.burn if b.window == window), None)

    def objects_of(self, resource: str) -> float | None:
        return next((o.count for o in self.objects if o.resource == resource), None)
