"""Pod requests against the nodes' allocatable, cluster-wide and without the largest node
(kubernetes-mixin KubeCPUOvercommit / KubeMemoryOvercommit), from kube-state-metrics.

One instant query: per resource the requests' sum, and the allocatable's sum, node count and
largest node (topk 1), all aggregated on the server whatever the cluster size.
"""

from __future__ import annotations

from k8stop.queries.model.facts import ResourceCommitment
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import combine, number, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.probe import ProbeResult

RESOURCES = ("cpu", "memory")


async def commitments(ctx: PromContext, probe: ProbeResult) -> tuple[tuple[ResourceCommitment, ...], tuple[str, ...]]:
    """Each resource kube-state-metrics reports both requests and allocatable for; () without."""
    render = ctx.catalog.render
    parts: dict[str, str] = {}
    metrics: dict[str, tuple[str, str]] = {}
    for resource in RESOURCES:
        requested = probe.pick(CATALOG[f"capacity.{resource}_requests"])
        allocatable = probe.pick(CATALOG[f"capacity.{resource}_allocatable"])
        if requested is None or allocatable is None:
            continue
        metrics[resource] = (requested, allocatable)
        per_node = render(f"capacity.{resource}_allocatable", metric=allocatable)
        parts[f"{resource}.requests"] = render(f"capacity.{resource}_requests", metric=requested)
        parts[f"{resource}.allocatable"] = f"sum({per_node})"
        parts[f"{resource}.nodes"] = f"count({per_node})"
        parts[f"{resource}.largest"] = f"topk(1, {per_node})"
    if not parts:
        return (), ()
    result = await ctx.client.query(combine(parts))
    tables = split(result)

    def total(tag: str) -> float:
        return sum(number(value) for _, value in tables.get(tag, []))

    out = []
    for resource in RESOURCES:
        largest = tables.get(f"{resource}.largest", [])
        if not largest:
            continue  # not asked, or no node reports allocatable
        labels, value = largest[0]
        out.append(
            ResourceCommitment(
                resource,
                requests=total(f"{resource}.requests"),
                allocatable=total(f"{resource}.allocatable"),
                nodes=round(total(f"{resource}.nodes")),
                largest_node=labels.get("node", ""),
                largest_allocatable=number(value),
                requests_metric=metrics[resource][0],
                allocatable_metric=metrics[resource][1],
            )
        )
    return tuple(out), result.warnings
