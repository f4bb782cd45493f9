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
HELD = "hpa.mismatch_held"


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
    held = render("hpa.mismatch_held", metric=metric, **{"for": f"{ctx.settings.thresholds.hpa_mismatch_for:.0f}s"})
    parts = {f: f"{render(f, metric=metric)} and {on} {notable}" for f in FIELDS}
    parts[HELD] = f"{held} and {on} {notable}"
    result = await ctx.client.query(combine(parts))
    tables = {tag: {_key(labels): number(value) for labels, value in rows} for tag, rows in split(result).items()}
    keys = sorted(set(tables.get("hpa.current_replicas", {})))

    def field(tag: str, key: tuple[str, str]) -> float:
        return tables.get(tag, {}).get(key, 0.0)

    out = tuple(
        HpaStatus(
            namespace,
            name,
            current=field("hpa.current_replicas", (namespace, name)),
            desired=field("hpa.desired_replicas", (namespace, name)),
            min_replicas=field("hpa.min_replicas", (namespace, name)),
            max_replicas=field("hpa.max_replicas", (namespace, name)),
            mismatch_held=field(HELD, (namespace, name)) == 1.0,
        )
        for namespace, name in keys
    )
    return out, result.warnings
