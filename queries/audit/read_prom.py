"""What Prometheus knows better than a flag: one combined query of the catalog's audit entries."""

from __future__ import annotations

from collections import defaultdict

from k8stop.queries.model.audit import ControlPlaneNode, PromReadings
from k8stop.queries.model.errors import describe
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import combine, split
from k8stop.queries.prom.context import PromContext

SINGLE = (
    "audit.etcd_quota",
    "audit.etcd_members",
    "audit.apf_total_seats",
    "audit.conntrack_limit",
    "audit.conntrack_used_max",
)
ENTRIES = (*SINGLE, "audit.control_plane_capacity")


async def prom_readings(ctx: PromContext | None) -> PromReadings:
    """Never raises: a failed or absent Prometheus is a `missing` reason."""
    if ctx is None:
        return PromReadings(missing="no Prometheus")
    try:
        probe = await ctx.probe.get()
        parts: dict[str, str] = {}
        for entry_id in ENTRIES:
            entry = CATALOG[entry_id]
            metric = probe.pick(entry) if entry.fallbacks else None
            if entry.fallbacks and metric is None:
                continue
            parts[entry_id] = ctx.catalog.render(entry_id, metric=metric)
        tagged = split(await ctx.client.query(combine(parts)))
    except Exception as exc:  # the audit still grades from the kube API
        return PromReadings(missing=f"Prometheus: {describe(exc)}")

    def single(entry_id: str) -> float | None:
        rows = [v.number for _, v in tagged.get(entry_id, []) if v.known]
        return rows[0] if rows else None

    capacity: dict[str, dict[str, float]] = defaultdict(dict)
    for labels, value in tagged.get("audit.control_plane_capacity", []):
        if value.known:
            capacity[labels.get("node", "")][labels.get("resource", "")] = value.number
    members = single("audit.etcd_members")
    return PromReadings(
        etcd_quota_bytes=single("audit.etcd_quota"),
        etcd_members=int(members) if members else None,
        apf_total_seats=single("audit.apf_total_seats"),
        conntrack_limit=single("audit.conntrack_limit"),
        conntrack_used_max=single("audit.conntrack_used_max"),
        control_plane_nodes=tuple(
            ControlPlaneNode(node, res.get("cpu", 0.0), res.get("memory", 0.0))
            for node, res in sorted(capacity.items())
        ),
    )
