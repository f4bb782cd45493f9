"""Node saturation from node-exporter: the worst N picked on the server, in two queries.

Query 1 ranks every target by the max of CPU, memory and root-disk use with topk, names
the N it keeps (node_names.py: the name map is joined inside the query) and counts the
targets; query 2 fetches the four figures only for those N instances, so the answer stays
N-sized whatever the cluster size and naming never costs a query of its own.
"""

from __future__ import annotations

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import NodeSaturation, NodesFacts
from k8stop.queries.model.values import Value
from k8stop.queries.prom.catalog import regex_alternatives
from k8stop.queries.prom.combine import by_key, combine, or_absent, split, tagged
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import NAMING, NODE, identity, named

SATURATION_ENTRIES = ("node.cpu_utilisation", "node.memory_utilisation", "node.disk_utilisation")
ALL_ENTRIES = SATURATION_ENTRIES + ("node.load1_per_cpu",)


async def nodes_facts(ctx: PromContext, top: int) -> tuple[NodesFacts, tuple[str, ...]]:
    probe = await ctx.require(
        "node_cpu_seconds_total",
        "node-exporter metrics not exposed: no node_cpu_seconds_total series "
        "(deploy node-exporter or rely on metrics-server)",
    )
    render = ctx.catalog.render
    saturation = " or ".join(tagged(render(entry_id), entry_id) for entry_id in SATURATION_ENTRIES)
    ranking = combine(
        {
            "worst": f"topk({max(1, top)}, max by (instance, {NODE}, {NAMING}) ({named(ctx, saturation)}))",
            "count": render("node.count"),
        }
    )
    ranked = await ctx.client.query(ranking)
    warnings = probe.warnings + ranked.warnings
    parts = split(ranked)
    total = int(sum(v.number for _, v in parts.get("count", []) if v.known))
    # One row per node: a node scraped as two targets keeps its worst one (topk order).
    names: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for labels, _ in sorted(parts.get("worst", []), key=lambda s: -s[1].number if s[1].known else 0.0):
        name, how = identity(ctx, labels)
        if name not in seen:
            seen.add(name)
            names[labels.get("instance", "")] = (name, how)
    if not names:
        if total == 0:
            raise NotExposed(f"node-exporter series do not match selector {ctx.settings.selectors.node or '(none)'}")
        return NodesFacts("node-exporter", (), total), warnings

    only = f'instance=~"{regex_alternatives(list(names))}"'
    detail = await ctx.client.query(
        combine({entry_id: render(entry_id, extra_matchers=only) for entry_id in ALL_ENTRIES})
    )
    warnings += detail.warnings
    tables = {entry_id: by_key(rows, "instance") for entry_id, rows in split(detail).items()}

    def get(entry_id: str, instance: str) -> Value:
        return or_absent(tables.get(entry_id, {}).get((instance,)))

    nodes = [
        NodeSaturation(
            node=name,
            cpu=get("node.cpu_utilisation", instance),
            memory=get("node.memory_utilisation", instance),
            disk=get("node.disk_utilisation", instance),
            load1_per_cpu=get("node.load1_per_cpu", instance),
            instance=instance,
            named_by=how,
        )
        for instance, (name, how) in names.items()
    ]
    nodes.sort(key=lambda n: (-n.worst, n.node))
    return NodesFacts("node-exporter", tuple(nodes), total), warnings
