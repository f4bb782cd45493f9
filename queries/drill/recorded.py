"""Drill-down charts from recorded feed updates, for replays (no Prometheus to ask).

A replay holds the facts the dashboard saw at each refresh; the same charts can be drawn
from them at the refresh cadence, without the per-instance and per-code splits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from k8stop.queries.drill.common import Chart, Line
from k8stop.queries.model.facts import ApiRequestStat, ApiserverFacts, EtcdFacts, EtcdMember, NodeSaturation, NodesFacts
from k8stop.queries.model.status import FeedUpdate
from k8stop.queries.model.values import ABSENT, Value
from k8stop.queries.prom.node_names import target_naming

T = TypeVar("T")


def _lines(
    updates: Iterable[FeedUpdate[Any]], pick: Callable[[Any], T | None], fields: dict[str, Callable[[T], Value]]
) -> tuple[Line, ...]:
    times: list[float] = []
    values: dict[str, list[Value]] = {name: [] for name in fields}
    for update in updates:
        if update.facts is None:
            continue
        item = pick(update.facts)
        times.append(update.at)
        for name, get in fields.items():
            values[name].append(get(item) if item is not None else ABSENT)
    return tuple(Line(name, tuple(times), tuple(vals)) for name, vals in values.items())


def api_stat(facts: ApiserverFacts, verb: str, resource: str) -> ApiRequestStat | None:
    return next((r for r in facts.requests if (r.verb, r.resource) == (verb, resource)), None)


def recorded_api(updates: Iterable[FeedUpdate[Any]], verb: str, resource: str, target: float) -> tuple[Chart, Chart]:
    updates = list(updates)
    latency = _lines(
        updates,
        lambda f: api_stat(f, verb, resource),
        {"p50": lambda r: r.p50, "p90": lambda r: r.p90, "p99": lambda r: r.p99},
    )
    rate = _lines(updates, lambda f: api_stat(f, verb, resource), {"req/s": lambda r: Value.of(r.rate)})
    return (
        Chart(f"{verb} {resource} latency", "s", latency, target, "p99 target (seed 1.1)"),
        Chart(f"{verb} {resource} requests", "req/s", rate),
    )


def etcd_member(facts: EtcdFacts, instance: str) -> EtcdMember | None:
    return next((m for m in facts.members if m.instance == instance), None)


def recorded_etcd(updates: Iterable[FeedUpdate[Any]], instance: str, target: float) -> tuple[Chart, Chart]:
    updates = list(updates)
    pick: Callable[[EtcdFacts], EtcdMember | None] = lambda f: etcd_member(f, instance)  # noqa: E731
    disk = _lines(
        updates,
        pick,
        {"wal fsync p99": lambda m: m.wal_fsync_p99, "backend commit p99": lambda m: m.backend_commit_p99},
    )
    db = _lines(updates, pick, {"db size": lambda m: m.db_size_bytes})
    latest = pick(updates[-1].facts) if updates and updates[-1].facts is not None else None
    quota = latest.quota_bytes.or_none() if latest is not None else None
    return (
        Chart(f"etcd {instance} disk latency", "s", disk, target, "fsync target 10 ms (seed 1.1)"),
        Chart(f"etcd {instance} DB size", "bytes", db, quota, "quota"),
    )


def node_saturation(facts: NodesFacts, node: str) -> NodeSaturation | None:
    return next((n for n in facts.worst if n.node == node), None)


def recorded_naming(row: NodeSaturation) -> str:
    """How a recorded node row was named, worded as the live drill-down words it."""
    return target_naming(row.instance, row.named_by)


def recorded_node(updates: Iterable[FeedUpdate[Any]], node: str, high: float) -> Chart:
    lines = _lines(
        updates,
        lambda f: node_saturation(f, node),
        {"cpu": lambda n: n.cpu, "memory": lambda n: n.memory, "disk": lambda n: n.disk},
    )
    return Chart(f"{node} saturation", "ratio", lines, high, "85 % (seed 8.1)")
