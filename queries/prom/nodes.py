"""Node saturation from node-exporter: the worst N picked on the server, in two queries.

Query 1 ranks every node by the max of CPU, memory and root-disk use with topk and
counts the nodes; query 2 fetches the four figures only for the N names it returned,
so the answer stays N-sized whatever the cluster size.
"""

from __future__ import annotations

import re

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import NodeSaturation, NodesFacts
from k8stop.queries.model.values import Value
from k8stop.queries.prom.catalog import regex_alternatives
from k8stop.queries.prom.combine import by_key, combine, or_absent, split, tagged
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.probe import ProbeResult

SATURATION_ENTRIES = ("node.cpu_utilisation", "node.memory_utilisation", "node.disk_utilisation")
ALL_ENTRIES = SATURATION_ENTRIES + ("node.load1_per_cpu",)
_PORT = re.compile(r":\d+$")


def node_name(raw: str, probe: ProbeResult) -> str:
    """instance="10.0.0.1:9100" names the node 10.0.0.1; a `node` label is used verbatim."""
    return _PORT.sub("", raw) if probe.strip_port else raw


async def nodes_facts(ctx: PromContext, top: int) -> tuple[NodesFacts, tuple[str, ...]]:
    probe = await ctx.probe.get()
    if not probe.has("node_cpu_seconds_total"):
        raise NotExposed(
            "node-exporter metrics not exposed: no node_cpu_seconds_total series "
            "(deploy node-exporter or rely on metrics-server)"
        )
    label = probe.node_label
    render = ctx.catalog.render
    saturation = " or ".join(tagged(render(entry_id, node_label=label), entry_id) for entry_id in SATURATION_ENTRIES)
    ranking = combine(
        {
            "worst": f"topk({max(1, top)}, max by ({label}) ({saturation}))",
            "count": render("node.count", node_label=label),
        }
    )
    ranked = await ctx.client.query(ranking)
    warnings = probe.warnings + ranked.warnings
    parts = split(ranked)
    total = int(sum(v.number for _, v in parts.get("count", []) if v.known))
    names = [labels.get(label, "") for labels, _ in parts.get("worst", [])]
    if not names:
        if total == 0:
            raise NotExposed(
                f"node-exporter series do not match selector {ctx.settings.selectors.node or '(none)'} "
                f"or carry no {label!r} label"
            )
        return NodesFacts("node-exporter", (), total, label), warnings

    only = f'{label}=~"{regex_alternatives(names)}"'
    detail = await ctx.client.query(
        combine({entry_id: render(entry_id, node_label=label, extra_matchers=only) for entry_id in ALL_ENTRIES})
    )
    warnings += detail.warnings
    tables = {entry_id: by_key(rows, label) for entry_id, rows in split(detail).items()}

    def get(entry_id: str, raw: str) -> Value:
        return or_absent(tables.get(entry_id, {}).get((raw,)))

    nodes = [
        NodeSaturation(
            node=node_name(raw, probe),
            cpu=get("node.cpu_utilisation", raw),
            memory=get("node.memory_utilisation", raw),
            disk=get("node.disk_utilisation", raw),
            load1_per_cpu=get("node.load1_per_cpu", raw),
        )
        for raw in names
    ]
    nodes.sort(key=lambda n: (-n.worst, n.node))
    return NodesFacts("node-exporter", tuple(nodes), total, label), warnings
