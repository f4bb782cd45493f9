"""etcd facts per member: disk latency, DB size vs quota, leadership, peer RTT, history, and
the node it runs on (its instance's host matched to a node's address, node_names.py)."""

from __future__ import annotations

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import EtcdFacts, EtcdMember
from k8stop.queries.model.values import Value
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import by_key, columns, combine, or_absent, quantile, split, split_series
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import NODE, kube_name, names_by_host

INSTANT_ENTRIES = (
    "etcd.wal_fsync_p99",
    "etcd.backend_commit_p99",
    "etcd.db_size",
    "etcd.quota",
    "etcd.has_leader",
    "etcd.is_leader",
    "etcd.leader_changes_1h",
    "etcd.peer_rtt_p99",
)
NOT_EXPOSED = (
    "etcd metrics not exposed: managed control planes (EKS, GKE, AKS) usually hide etcd; "
    "on self-managed clusters add an etcd scrape job"
)


async def etcd_facts(
    ctx: PromContext, columns_count: int = 30, window: float = 1800.0, with_history: bool = True
) -> tuple[EtcdFacts, tuple[str, ...]]:
    probe = await ctx.require("etcd_disk_wal_fsync_duration_seconds_bucket", NOT_EXPOSED)
    db_metric = probe.pick(CATALOG["etcd.db_size"])
    parts = {}
    for entry_id in INSTANT_ENTRIES:
        if entry_id == "etcd.db_size" and db_metric is None:
            continue
        parts[entry_id] = ctx.catalog.render(entry_id, metric=db_metric if entry_id == "etcd.db_size" else None)
    parts["etcd.member_nodes"] = ctx.catalog.render("etcd.member_nodes", by_host=names_by_host(ctx))
    result = await ctx.client.query(combine(parts))
    warnings = probe.warnings + result.warnings
    tagged = split(result)
    tables = {entry_id: by_key(tagged.get(entry_id, []), "instance") for entry_id in INSTANT_ENTRIES}
    nodes = {labels.get("instance", ""): labels.get(NODE, "") for labels, _ in tagged.get("etcd.member_nodes", [])}
    instances = sorted(set().union(*tables.values()))
    if not instances:
        raise NotExposed(
            f"{NOT_EXPOSED} (etcd series exist but none match selector {ctx.settings.selectors.etcd or '(none)'})"
        )

    histories: dict[tuple[str, str], tuple[Value, ...]] = {}
    if with_history:
        histories, range_warnings = await _histories(ctx, columns_count, window)
        warnings += range_warnings

    def get(entry_id: str, instance: tuple[str, ...]) -> Value:
        value = or_absent(tables[entry_id].get(instance))
        return quantile(value, CATALOG[entry_id].top_bucket)

    def flag(entry_id: str, instance: tuple[str, ...]) -> bool | None:
        value = tables[entry_id].get(instance)
        return None if value is None or not value.known else value.number >= 1

    members = []
    for key in instances:
        changes = tables["etcd.leader_changes_1h"].get(key)
        members.append(
            EtcdMember(
                instance=key[0],
                wal_fsync_p99=get("etcd.wal_fsync_p99", key),
                backend_commit_p99=get("etcd.backend_commit_p99", key),
                db_size_bytes=get("etcd.db_size", key),
                quota_bytes=get("etcd.quota", key),
                has_leader=flag("etcd.has_leader", key),
                is_leader=flag("etcd.is_leader", key),
                leader_changes_1h=changes.or_none() if changes is not None else None,
                peer_rtt_p99=get("etcd.peer_rtt_p99", key),
                wal_fsync_history=histories.get((key[0], "wal_fsync"), ()),
                backend_commit_history=histories.get((key[0], "backend_commit"), ()),
                node=kube_name(ctx, key[0], nodes.get(key[0], "")) or nodes.get(key[0], ""),
            )
        )
    members.sort(key=lambda m: (-(m.wal_fsync_p99.or_none() or -1.0), m.instance))
    return EtcdFacts(db_size_metric=db_metric or "", members=tuple(members)), warnings


async def _histories(
    ctx: PromContext, count: int, window: float
) -> tuple[dict[tuple[str, str], tuple[Value, ...]], tuple[str, ...]]:
    step = window / count
    end = ctx.clock()
    start = end - step * (count - 1)
    promql = ctx.catalog.render("etcd.disk_p99_history", window=f"{int(max(300.0, step))}s")
    matrix = await ctx.client.query_range(promql, start, end, step)
    top = CATALOG["etcd.disk_p99_history"].top_bucket
    out = {
        (labels.get("instance", ""), labels.get("disk", "")): columns(points, start, step, count, top)
        for labels, points in split_series(matrix).get("", [])
    }
    return out, matrix.warnings
