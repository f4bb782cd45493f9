"""Kubelet health per node: PLEG relist p99 (the N slowest, ranked on the server), evictions in
the last hour, pressure conditions; kubelet targets named by node_names' host join, the kubelet's
own `node` label, or the instance."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import KubeletHealth
from k8stop.queries.model.values import ABSENT, Value
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import combine, number, quantile, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import NODE, named, names_by_host

PSI_RESOURCES = ("memory", "io")  # the resources whose PSI has a "full" line


async def kubelet_health(ctx: PromContext, top: int) -> tuple[tuple[KubeletHealth, ...], tuple[str, ...]]:
    render = ctx.catalog.render
    pleg = CATALOG["kubelet.pleg_relist_p99"]
    probe = await ctx.probe.get()
    parts = {
        "pleg": f"topk({max(1, top)}, {render(pleg.id)})",
        "names": render("kubelet.target_nodes", by_host=names_by_host(ctx)),
        "pressure": render("node.pressure_conditions"),
        "flapping": render("node.ready_changes"),
        # Every operation of the N slowest (target, operation) pairs: N-sized whatever the cluster.
        "runtime": f"topk({max(1, top)}, {render('kubelet.runtime_ops_p99_by_target')})",
    }
    for resource in PSI_RESOURCES:  # node-exporter targets named as the nodes panel names them
        parts[f"psi.{resource}"] = f"topk({max(1, top)}, {named(ctx, render(f'node.psi_{resource}_full'))})"
    evicted = probe.pick(CATALOG["kubelet.evictions_1h"])  # the counter appears with the first eviction
    if evicted is not None:
        parts["evictions"] = render("kubelet.evictions_1h", metric=evicted)
    result = await ctx.client.query(combine(parts))
    tables = split(result)
    by_host = {labels.get("instance", ""): labels.get(NODE, "") for labels, _ in tables.get("names", [])}

    def node_of(labels: dict[str, str]) -> str:
        instance = labels.get("instance", "")
        return by_host.get(instance) or labels.get("node") or instance

    pleg_of: dict[str, tuple[str, Value]] = {}
    for labels, value in tables.get("pleg", []):
        pleg_of[node_of(labels)] = (labels.get("instance", ""), quantile(value, pleg.top_bucket))
    evictions: dict[str, list[tuple[str, float]]] = {}
    instances: dict[str, str] = {}
    for labels, value in tables.get("evictions", []):
        node = node_of(labels)
        instances[node] = labels.get("instance", "")
        evictions.setdefault(node, []).append((labels.get("eviction_signal", ""), round(number(value))))
    pressure: dict[str, list[str]] = {}
    for labels, _ in tables.get("pressure", []):
        pressure.setdefault(labels.get("node", ""), []).append(labels.get("condition", ""))
    flaps = {labels.get("node", ""): number(value) for labels, value in tables.get("flapping", [])}
    runtime: dict[str, list[tuple[str, Value]]] = {}
    ops = CATALOG["kubelet.runtime_ops_p99_by_target"]
    for labels, value in tables.get("runtime", []):
        node = node_of(labels)
        instances.setdefault(node, labels.get("instance", ""))
        runtime.setdefault(node, []).append((labels.get("operation_type", ""), quantile(value, ops.top_bucket)))
    psi: dict[str, list[tuple[str, float]]] = {}
    for resource in PSI_RESOURCES:
        for labels, value in tables.get(f"psi.{resource}", []):
            psi.setdefault(labels.get(NODE) or labels.get("instance", ""), []).append((resource, number(value)))
    out = [
        KubeletHealth(
            node,
            pleg_of.get(node, (instances.get(node, ""), ABSENT))[0],
            pleg_of.get(node, ("", ABSENT))[1],
            tuple(sorted(evictions.get(node, []), key=lambda e: (-e[1], e[0]))),
            tuple(sorted(pressure.get(node, []))),
            flaps.get(node, 0.0),
            tuple(sorted(psi.get(node, []), key=lambda p: (-p[1], p[0]))),
            tuple(sorted(runtime.get(node, []), key=lambda o: (-(o[1].number if o[1].known else 0.0), o[0]))),
        )
        for node in sorted(set(pleg_of) | set(evictions) | set(pressure) | set(flaps) | set(runtime) | set(psi))
    ]
    t = ctx.settings.thresholds
    out.sort(
        key=lambda k: (
            -_signals(k, t),
            -len(k.pressure),
            -sum(n for _, n in k.evictions_1h),
            -(k.pleg_relist_p99.number if k.pleg_relist_p99.known else 0.0),
            k.node,
        )
    )
    return tuple(out[: max(1, top)]), result.warnings


def _signals(k: KubeletHealth, t: Thresholds) -> int:
    """How many of the node's signals are past their warning level: the N kept are the sickest,
    whichever signal says so (a big cluster's healthy nodes all have some PSI and PLEG time)."""
    create = dict(k.runtime_p99).get("create_container")
    return sum(
        (
            bool(k.pressure),
            bool(k.evictions_1h),
            k.pleg_relist_p99.at_least(t.kubelet_pleg_relist_p99),
            k.ready_changes_15m >= t.node_ready_changes_15m,
            any(share >= t.node_psi_full[0] for _, share in k.psi_full),
            create is not None and create.at_least(t.container_create_p99),
        )
    )
