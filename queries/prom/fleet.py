"""The fleet overview's measurements: the worst of each KPI per cluster, in one query.

Every piece is aggregated `by (<cluster label>)` on the server (catalog fleet.*), combined
into one request, plus the alerts list: two requests per refresh whether the backend holds
three clusters or fifty. Grading is queries/rules/fleet.py's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from k8stop.queries.model.facts import Alert
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.values import Value
from k8stop.queries.prom.alerts import parse_alert
from k8stop.queries.prom.catalog import APISERVER_LATENCY_METRICS, CATALOG
from k8stop.queries.prom.combine import combine, quantile, split
from k8stop.queries.prom.context import PromContext

# tag -> (catalog entry, labels naming the worst subject, how they join)
PIECES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "api": ("fleet.api_p99", ("verb", "resource"), " "),
    "etcd": ("fleet.etcd_fsync_p99", ("instance",), " "),
    "node": ("fleet.node_saturation", ("instance", "resource"), " "),
    "restarts": ("fleet.restarts_1h", ("namespace", "pod", "container"), "/"),
}


@dataclass(frozen=True, slots=True)
class Measured:
    value: Value
    subject: str  # the worst subject's labels joined, cleaned


@dataclass(slots=True)
class FleetMeasures:
    """Per cluster: tag -> its worst measurement, and the firing alerts."""

    label: str
    values: dict[str, dict[str, Measured]] = field(default_factory=lambda: defaultdict(dict))
    alerts: dict[str, list[Alert]] = field(default_factory=lambda: defaultdict(list))
    warnings: tuple[str, ...] = ()


def fleet_query(ctx: PromContext, metric: str) -> str:
    """The one combined query of a refresh; `metric` is the API latency family the probe chose."""
    label = ctx.settings.cluster_label
    min_requests = f"{ctx.settings.thresholds.apiserver_latency_min_requests:g}"
    return combine(
        {
            tag: ctx.catalog.render(entry, metric=metric, cl=label, min_requests=min_requests)
            for tag, (entry, _, _) in PIECES.items()
        }
    )


async def fleet_measures(ctx: PromContext) -> FleetMeasures:
    label = ctx.settings.cluster_label
    probe = await ctx.probe.get()
    metric = probe.pick(CATALOG["fleet.api_p99"]) or APISERVER_LATENCY_METRICS[-1]
    result = await ctx.client.query(fleet_query(ctx, metric))
    out = FleetMeasures(label, warnings=probe.warnings + result.warnings)
    for tag, samples in split(result).items():
        if tag not in PIECES:
            continue
        entry, names, joint = PIECES[tag]
        for labels, value in samples:
            cluster = clean(labels.get(label, ""))
            subject = clean(joint.join(labels.get(n, "") for n in names if labels.get(n)))
            out.values[cluster][tag] = Measured(quantile(value, CATALOG[entry].top_bucket), subject)
    envelope = await ctx.client.alerts()
    raw = envelope.data.get("alerts") if isinstance(envelope.data, dict) else None
    for alert in map(parse_alert, raw if isinstance(raw, list) else []):
        if alert.state == "firing":
            out.alerts[dict(alert.labels).get(label, "")].append(alert)
    out.warnings += envelope.warnings
    return out
