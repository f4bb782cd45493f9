"""Request-path facts: admission webhooks (latency, calls, denials, failures) and the time they
add per verb, measured as the duration histogram (webhooks included) minus the SLI one."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.model.request_path import (
    BpfMap,
    BurnWindow,
    ConntrackNode,
    DnsServerStat,
    DnsUpstream,
    FlowStat,
    ObjectCount,
    ProxyNode,
    RequestPathFacts,
    VerbWebhookTime,
    WebhookStat,
)
from k8stop.queries.model.values import ABSENT, Value
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.client import Sample
from k8stop.queries.prom.combine import by_key, combine, number, or_absent, quantile, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import NAMING, NODE, identity, kube_name, named, names_by_host

WEBHOOK_ENTRIES = ("webhook.latency_p99", "webhook.call_rate", "webhook.rejection_rate", "webhook.failure_rate")
VERB_ENTRIES = ("webhook.verb_p99_with", "webhook.verb_rate")
# kubernetes-mixin KubeAPIErrorBudgetBurn's windows, shortest first.
BURN_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# Nodes kept per per-node signal: the worst few are what a finding and the screen show.
WORST_NODES = 5
DNS_ENTRIES = ("dns.request_p99", "dns.request_rate", "dns.forward_p99", "dns.cache_hit_ratio")
FLOW_ENTRIES = ("apf.flow_dispatched_rate", "apf.flow_inqueue", "apf.flow_rejected_rate", "apf.flow_wait_p99")


async def request_path_facts(ctx: PromContext, with_burn: bool = True) -> tuple[RequestPathFacts, tuple[str, ...]]:
    """`with_burn`: also the error-budget burn ratios, whose day-long windows cost the server
    most; the feed asks for them once a minute (registry.BURN_INTERVAL)."""
    probe = await ctx.require(
        "apiserver_request_total", "API server metrics not exposed: no apiserver_request_total series"
    )
    render = ctx.catalog.render
    parts = {entry_id: render(entry_id) for entry_id in (*WEBHOOK_ENTRIES, *VERB_ENTRIES, *FLOW_ENTRIES)}
    objects = CATALOG["apiserver.storage_objects"]
    objects_metric = probe.pick(objects)
    if objects_metric is not None:
        parts[objects.id] = render(objects.id, metric=objects_metric)
    without = CATALOG["webhook.verb_p99_without"]
    sli_metric = probe.pick(without)
    if sli_metric is not None:
        parts[without.id] = render(without.id, metric=sli_metric)
    responses = CATALOG["dns.rcode_ratio"]
    responses_metric = probe.pick(responses)
    parts.update({entry_id: render(entry_id) for entry_id in DNS_ENTRIES})
    if responses_metric is not None:
        for rcode in ("SERVFAIL", "REFUSED"):
            parts[f"dns_{rcode}"] = render(responses.id, metric=responses_metric, rcodes=rcode)
    burn_entry = CATALOG["slo.burn_ratio"]
    burn_metric = probe.pick(burn_entry) if with_burn else None
    if burn_metric is not None:
        for window in BURN_WINDOWS:
            parts[f"burn_{window}"] = render(burn_entry.id, metric=burn_metric, window=window)
    result = await ctx.client.query(combine(parts))
    tagged = split(result)
    per_node, node_warnings = await node_path_facts(ctx)

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
    counts = sorted(
        (ObjectCount(labels.get("resource", ""), number(v)) for labels, v in tagged.get(objects.id, [])),
        key=lambda o: (-o.count, o.resource),
    )
    facts = RequestPathFacts(
        webhooks=tuple(webhooks),
        verbs=tuple(verbs),
        sli_metric=sli_metric or "",
        flows=_flows(tagged),
        objects=tuple(counts),
        objects_metric=objects_metric or "",
        burn=tuple(BurnWindow(w, _first(tagged.get(f"burn_{w}", []))) for w in BURN_WINDOWS if burn_metric is not None),
        burn_metric=burn_metric or "",
        dns=_dns(tagged),
        dns_upstreams=tuple(
            sorted(
                (
                    DnsUpstream(labels.get("to", ""), quantile(v, CATALOG["dns.forward_p99"].top_bucket))
                    for labels, v in tagged.get("dns.forward_p99", [])
                ),
                key=lambda u: (-(u.p99.number if u.p99.known else 0.0), u.to),
            )
        ),
        dns_responses_metric=responses_metric or "",
        proxies=per_node.proxies,
        conntrack=per_node.conntrack,
        bpf_maps=per_node.bpf_maps,
    )
    return facts, probe.warnings + result.warnings + node_warnings


def _flows(tagged: dict[str, list[Sample]]) -> tuple[FlowStat, ...]:
    keys = ("priority_level", "flow_schema")
    tables = {entry_id: by_key(tagged.get(entry_id, []), *keys) for entry_id in FLOW_ENTRIES}
    top = CATALOG["apf.flow_wait_p99"].top_bucket
    flows = [
        FlowStat(
            priority_level=level,
            flow_schema=schema,
            dispatched_rate=number(tables["apf.flow_dispatched_rate"].get((level, schema))),
            inqueue=number(tables["apf.flow_inqueue"].get((level, schema))),
            wait_p99=quantile(or_absent(tables["apf.flow_wait_p99"].get((level, schema))), top),
            rejected_rate=number(tables["apf.flow_rejected_rate"].get((level, schema))),
        )
        for level, schema in set().union(*tables.values())
    ]
    flows.sort(key=lambda f: (-f.rejected_rate, -f.inqueue, -f.dispatched_rate, f.flow_schema, f.priority_level))
    return tuple(flows)


def _first(samples: list[Sample]) -> Value:
    return samples[0][1] if samples else ABSENT


def _dns(tagged: dict[str, list[Sample]]) -> tuple[DnsServerStat, ...]:
    keys = ("server", "zone")
    p99s = by_key(tagged.get("dns.request_p99", []), *keys)
    rates = by_key(tagged.get("dns.request_rate", []), *keys)
    servfail = by_key(tagged.get("dns_SERVFAIL", []), *keys)
    refused = by_key(tagged.get("dns_REFUSED", []), *keys)
    cache = by_key(tagged.get("dns.cache_hit_ratio", []), "server")
    top = CATALOG["dns.request_p99"].top_bucket
    servers = [
        DnsServerStat(
            server=server,
            zone=zone,
            p99=quantile(or_absent(p99s.get((server, zone))), top),
            rate=number(rates.get((server, zone))),
            servfail_ratio=or_absent(servfail.get((server, zone))),
            refused_ratio=or_absent(refused.get((server, zone))),
            cache_hit_ratio=or_absent(cache.get((server,))),
        )
        for server, zone in {*p99s, *rates}
    ]
    servers.sort(key=lambda d: (-(d.p99.number if d.p99.known else 0.0), d.server, d.zone))
    return tuple(servers)


@dataclass(frozen=True, slots=True)
class NodePath:
    proxies: tuple[ProxyNode, ...]
    conntrack: tuple[ConntrackNode, ...]
    bpf_maps: tuple[BpfMap, ...]


async def node_path_facts(ctx: PromContext) -> tuple[NodePath, tuple[str, ...]]:
    """The worst few nodes for kube-proxy, conntrack and Cilium BPF maps, named as kubectl names
    them (node_names.py): ranked with topk on the server, so the answer stays small."""
    render = ctx.catalog.render
    by_host = names_by_host(ctx)
    worst = f"topk({WORST_NODES}, "
    parts = {
        "proxy.sync_p99": worst + render("proxy.sync_p99") + ")",
        "proxy.programming_p99": render("proxy.programming_p99"),
        "proxy.nodes": render("proxy.nodes", by_host=by_host),
        "conntrack.used_ratio": f"{worst}max by (instance, {NODE}, {NAMING}) "
        f"({named(ctx, render('conntrack.used_ratio'))}))",
        "conntrack.cilium_map_pressure": worst + render("conntrack.cilium_map_pressure") + ")",
        "conntrack.cilium_nodes": render("conntrack.cilium_nodes", by_host=by_host),
    }
    result = await ctx.client.query(combine(parts))
    tagged = split(result)

    def node_of(nodes: dict[str, str], instance: str) -> str:
        said = nodes.get(instance, "")
        return kube_name(ctx, instance, said) or said or instance

    proxy_nodes = {lab.get("instance", ""): lab.get(NODE, "") for lab, _ in tagged.get("proxy.nodes", [])}
    programming = by_key(tagged.get("proxy.programming_p99", []), "instance")
    sync_top = CATALOG["proxy.sync_p99"].top_bucket
    programming_top = CATALOG["proxy.programming_p99"].top_bucket
    proxies = sorted(
        (
            ProxyNode(
                node=node_of(proxy_nodes, labels.get("instance", "")),
                instance=labels.get("instance", ""),
                sync_p99=quantile(value, sync_top),
                programming_p99=quantile(or_absent(programming.get((labels.get("instance", ""),))), programming_top),
            )
            for labels, value in tagged.get("proxy.sync_p99", [])
        ),
        key=lambda p: (-(p.sync_p99.number if p.sync_p99.known else 0.0), p.node),
    )
    conntrack = []
    for labels, value in tagged.get("conntrack.used_ratio", []):
        name, how = identity(ctx, labels)
        conntrack.append(ConntrackNode(name, labels.get("instance", ""), value, how))
    conntrack.sort(key=lambda c: (-(c.used_ratio.number if c.used_ratio.known else 0.0), c.node))
    cilium_nodes = {lab.get("instance", ""): lab.get(NODE, "") for lab, _ in tagged.get("conntrack.cilium_nodes", [])}
    maps = sorted(
        (
            BpfMap(
                node_of(cilium_nodes, labels.get("instance", "")),
                labels.get("instance", ""),
                labels.get("map_name", ""),
                value,
            )
            for labels, value in tagged.get("conntrack.cilium_map_pressure", [])
        ),
        key=lambda m: (-(m.pressure.number if m.pressure.known else 0.0), m.node, m.map_name),
    )
    return NodePath(tuple(proxies), tuple(conntrack), tuple(maps)), result.warnings
