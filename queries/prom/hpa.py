"""HorizontalPodAutoscalers from kube-state-metrics (2.x kube_horizontalpodautoscaler_*, or 1.x
kube_hpa_* with its `hpa` label): the ones at their maximum or not at their desired size."""

from __future__ import annotations

from k8stop.queries.model.facts import HpaStatus
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.client import LabelMap
from k8stop.queries.prom.combine import combine, number, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.probe import ProbeResult

FIELDS = ("hpa.current_replicas", "hpa.desired_replicas", "hpa.min_replicas", "hpa.max_replicas")


def _key(labels: LabelMap) -> tuple[str, str]:
    return (labels.get("namespace", ""), labels.get("horizontalpodautoscaler") or labels.get("hpa", ""))


async def hpa_status(ctx: PromContext, probe: ProbeResult, top: int) -> tuple[tuple[HpaStatus, ...], tuple[str, ...]]:
    metric = probe.pick(CATALOG["hpa.current_replicas"])
    if metric is None:
        return (), ()
    render = ctx.catalog.render
    current, desired, maximum = (
        render(f, metric=metric) for f in ("hpa.current_replicas", "hpa.desired_replicas", "hpa.max_replicas")
    )
    # At their maximum, or not at their desired size: only those travel.
    on = "on (namespace, horizontalpodautoscaler, hpa)"
    notable = f"topk({max(1, top)}, ({current} >= {on} {maximum}) or ({current} != {on} {desired}))"
    result = await ctx.client.query(combine({f: f"{render(f, metric=metric)} and {on} {notable}" for f in FIELDS}))
    tables = {tag: {_key(labels): number(value) for labels, value in rows} for tag, rows in split(result).items()}
    keys = sorted(set(tables.get("hpa.current_replicas", {})))
    out = tuple(
        HpaStatus(
            namespace,
            name,
            *(tables.get(f, {}).get((namespace, name), 0.0) for f in FIELDS),
        )
        for namespace, name in keys
    )
    return out, result.warnings
