"""Drill-down data from feed updates: a replay's recording, or a live app without Prometheus.

The updates hold the facts the dashboard saw at each refresh; the drill-downs' charts are
drawn from them at the refresh cadence, without the per-instance and per-code splits only
Prometheus can give.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from k8stop.queries.config import Thresholds
from k8stop.queries.drill import charts
from k8stop.queries.drill.api import ApiDetail, CodeRates, InstanceStat
from k8stop.queries.drill.common import Chart, Line, RangeWindow, forecast
from k8stop.queries.drill.control_plane import ControlPlaneHistory
from k8stop.queries.drill.data import RECORDED_NOTE, KubeDrill, Warnings, facts_of, member_of
from k8stop.queries.drill.etcd import EtcdDetail
from k8stop.queries.drill.node import NodeHistory, NodeKubelet
from k8stop.queries.drill.promql import UsedQuery
from k8stop.queries.kube.store import KubeReads
from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import (
    AlertsFacts,
    ApiRequestStat,
    ApiserverFacts,
    ControlPlaneFacts,
    EtcdFacts,
    EtcdMember,
    NodeSaturation,
    NodesFacts,
)
from k8stop.queries.model.keys import ApiKey, EtcdKey, NodeKey, PodKey
from k8stop.queries.model.status import FeedUpdate
from k8stop.queries.model.values import ABSENT, Value
from k8stop.queries.prom.node_names import target_naming

if TYPE_CHECKING:
    from k8stop.queries.kube.connection import KubeConnection

T = TypeVar("T")
Fields = dict[str, Callable[[T], Value]]


def _lines(updates: Iterable[FeedUpdate[Any]], pick: Callable[[Any], T | None], fields: Fields[T]) -> tuple[Line, ...]:
    """One line per field, one point per update that carried facts."""
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


def _named_lines(
    updates: Iterable[FeedUpdate[Any]],
    items: Callable[[Any], Iterable[tuple[str, float]]],
    keep: Iterable[str] | None = None,
) -> tuple[Line, ...]:
    """One line per name (e.g. a queue) in `keep`, or every name seen, from (name, value) pairs."""
    points = [(u.at, dict(items(u.facts))) for u in updates if u.facts is not None]
    if keep is None:
        keep = {name for _, found in points for name in found}
    return tuple(
        Line(name, tuple(at for at, _ in points), tuple(Value.of(found.get(name, math.nan)) for _, found in points))
        for name in sorted(keep)
    )


def api_stat(facts: ApiserverFacts, verb: str, resource: str) -> ApiRequestStat | None:
    return next((r for r in facts.requests if (r.verb, r.resource) == (verb, resource)), None)


class RecordedDrill(KubeDrill):
    def __init__(
        self,
        latest: Mapping[str, FeedUpdate[Any]],
        history: Mapping[str, Sequence[FeedUpdate[Any]]],
        kube: KubeReads | None,
        thresholds: Thresholds,
        note: str = RECORDED_NOTE,
        connection: KubeConnection | None = None,
    ) -> None:
        super().__init__(kube, connection)
        self.note = note
        self.prometheus_url = ""
        self._latest = latest
        self._history = history
        self._t = thresholds

    def queries(self) -> tuple[UsedQuery, ...]:
        return ()  # drawn from recorded updates: no query ran for this screen

    def _facts(self, feed: str) -> Any:
        return facts_of(self._latest, feed)

    def _updates(self, feed: str, window: RangeWindow) -> list[FeedUpdate[Any]]:
        return [u for u in self._history.get(feed, ()) if window.start <= u.at <= window.end]

    async def api(self, key: ApiKey, window: RangeWindow) -> tuple[ApiDetail, Warnings]:
        verb, resource = key.verb, key.resource
        facts: ApiserverFacts | None = self._facts("apiserver")
        stat = api_stat(facts, verb, resource) if facts is not None else None
        if facts is None or stat is None:
            raise NotExposed(f"{verb} {resource}: not in the recorded updates")
        updates = self._updates("apiserver", window)
        pick: Callable[[ApiserverFacts], ApiRequestStat | None] = lambda f: api_stat(f, verb, resource)  # noqa: E731
        fields: Fields[ApiRequestStat] = {"p50": lambda r: r.p50, "p90": lambda r: r.p90, "p99": lambda r: r.p99}
        latency = charts.api_latency(verb, resource, _lines(updates, pick, fields), self._t)
        rate = charts.api_rate(verb, resource, _lines(updates, pick, {"req/s": lambda r: Value.of(r.rate)}))
        codes = CodeRates(None, stat.rate_4xx, stat.rate_429, stat.rate_5xx)
        servers = InstanceStat("all API servers", stat.p99, stat.rate, facts.inflight)
        return ApiDetail(verb, resource, "recorded", latency, rate, codes, (servers,), facts.apf), ()

    async def etcd(self, key: EtcdKey, window: RangeWindow) -> tuple[EtcdDetail, Warnings]:
        instance = key.instance
        updates = self._updates("etcd", window)
        pick: Callable[[EtcdFacts], EtcdMember | None] = lambda f: member_of(f, instance)  # noqa: E731
        disk_fields: Fields[EtcdMember] = {
            "wal fsync p99": lambda m: m.wal_fsync_p99,
            "backend commit p99": lambda m: m.backend_commit_p99,
        }
        disk = charts.etcd_disk(instance, _lines(updates, pick, disk_fields), self._t)
        member = member_of(self._facts("etcd"), instance)
        quota = member.quota_bytes.or_none() if member is not None else None
        (db_line,) = _lines(updates, pick, {"db size": lambda m: m.db_size_bytes})
        db = charts.etcd_db(instance, db_line, quota)
        return EtcdDetail(instance, disk, db, member, forecast(db_line, quota), ()), ()

    async def node(self, key: NodeKey, window: RangeWindow) -> tuple[NodeHistory, Warnings]:
        node = key.node
        fields: Fields[NodeSaturation] = {
            "cpu": lambda n: n.cpu,
            "memory": lambda n: n.memory,
            "disk": lambda n: n.disk,
        }

        def pick(f: NodesFacts) -> NodeSaturation | None:
            return next((n for n in f.worst if n.node == node), None)

        updates = self._updates("nodes", window)
        lines = _lines(updates, pick, fields)
        saturation = charts.node_saturation(node, lines, self._t)
        load = Chart(f"{node} load1 per CPU", "count", ())  # node-exporter only: not in the node facts
        row = next((r for u in reversed(updates) if u.facts is not None and (r := pick(u.facts)) is not None), None)
        named = row is not None and row.named_by and row.instance
        instances = (row.instance,) if row is not None and named else ()
        naming = target_naming(row.instance, row.named_by) if row is not None and named else ""
        return NodeHistory(saturation, load, instances, naming), ()

    async def node_kubelet(self, key: NodeKey) -> tuple[NodeKubelet | None, Warnings]:
        return None, ()  # kubelet figures are not recorded

    async def pod(self, key: PodKey, window: RangeWindow) -> tuple[Chart, Warnings]:
        restarts = _named_lines(
            self._updates("restarts", window),
            lambda f: ((c.container, c.restarts_1h) for c in f.top if (c.namespace, c.pod) == (key.namespace, key.pod)),
        )
        return Chart(f"{key.namespace}/{key.pod} restarts in the last hour", "count", restarts), ()

    async def control_plane(self, window: RangeWindow, queues: tuple[str, ...]) -> tuple[ControlPlaneHistory, Warnings]:
        updates = self._updates("control_plane", window)
        scheduler: Callable[[ControlPlaneFacts], Any] = lambda f: f.scheduler  # noqa: E731
        history = ControlPlaneHistory(
            *charts.control_plane(
                _named_lines(updates, lambda f: f.scheduler.pending_by_queue if f.scheduler else ()),
                _lines(updates, scheduler, {"throughput": lambda s: s.throughput}),
                _lines(updates, scheduler, {"attempt p99": lambda s: s.attempt_p99}),
                _named_lines(updates, lambda f: ((q.name, q.depth) for q in f.workqueues), queues),
                self._t,
            )
        )
        return history, ()

    async def alerts(self) -> tuple[AlertsFacts | None, str]:
        facts: AlertsFacts | None = self._facts("alerts")
        if facts is not None and not facts.server_has_rules:
            if facts.evaluated:
                return replace(facts, alerts=facts.evaluated), (
                    "Prometheus had no rules: the seed's rules as k8stop evaluated them, recorded"
                )
            return facts, "Prometheus has no alerting rules (built-in checks need a live Prometheus)"
        return facts, "from Prometheus /api/v1/alerts"
