"""Every feed k8stop knows, in one table: the source it needs, its fallback, its cadence, and
how it is collected. The live app, the headless report and replay all read this table, so a
new feed is one `Feed` member, one row and one collect method.

Fallbacks: node and restart facts come from the kube API when Prometheus cannot give them
(not exposed, failing, unreachable or turned off), as long as the kube API's own watch is
healthy; API-server and etcd facts from the API server's own /metrics, scraped through the
kube connection. Prometheus is asked first on every refresh, so the feeds switch back to it
as soon as it answers again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from k8stop.queries.feeds.sources import Source, Sources
from k8stop.queries.model.errors import FeedError, NotExposed
from k8stop.queries.model.status import FeedState, FeedStatus

if TYPE_CHECKING:
    from k8stop.queries.kube.feed import KubeFeed
    from k8stop.queries.kube.metrics_scrape import ApiserverScraper, Interval
    from k8stop.queries.model.audit import AuditFacts
    from k8stop.queries.model.facts import (
        AlertsFacts,
        ApiserverFacts,
        ControlPlaneFacts,
        EtcdFacts,
        KubeObjects,
        KubeSummary,
        NodesFacts,
        RestartsFacts,
        WorkloadsFacts,
    )
    from k8stop.queries.model.request_path import RequestPathFacts
    from k8stop.queries.prom.facts_source import PrometheusFacts

T = TypeVar("T")
Warnings = tuple[str, ...]
Collect = Callable[[], Awaitable[tuple[Any, Warnings]]]
# Slow feeds (not on the dashboard, changing slowly) poll this many times less often.
SLOW_FEED_FACTOR = 5
HEATMAP_WINDOW = 1800.0
HEATMAP_COLUMNS = 30
# Settings change seldom; reading them is several GETs (static pods, ConfigMaps, a few kubelets).
AUDIT_INTERVAL = 300.0
AUDIT_TIMEOUT = 45.0
# The error budget's burn ratios read up to 3 days of buckets: once a minute is enough for a
# 5-minute shortest window, and spares the server.
BURN_INTERVAL = 60.0


class Feed(StrEnum):
    """Feed names, in the order the dashboard and reports list them."""

    APISERVER = "apiserver"
    ETCD = "etcd"
    NODES = "nodes"
    RESTARTS = "restarts"
    WORKLOADS = "workloads"  # containers against their limits: throttling, memory headroom
    CONTROL_PLANE = "control_plane"
    REQUEST_PATH = "request_path"  # admission webhooks and what they add to each verb
    ALERTS = "alerts"
    KUBE = "kube"  # the kube summary
    KUBE_OBJECTS = "kube_objects"  # the records drill-downs read; published only while recording
    AUDIT = "audit"  # the tuning and sizing audit: settings change seldom


@dataclass(frozen=True, slots=True)
class FeedSpec:
    source: Source
    collect: Callable[[Collectors], Collect]
    kube_fallback: bool = False  # served by the kube API when Prometheus cannot
    slow: bool = False
    in_snapshot: bool = True  # has a facts field in ClusterSnapshot
    interval: float | None = None  # a cadence of its own instead of the refresh
    timeout: float | None = None  # a bound of its own instead of the query timeout


class Collectors:
    """How each feed is collected from one set of opened sources.

    `history` asks Prometheus for the heatmap and etcd history when a new column is due
    (the live dashboard); the headless report asks for instant values only.
    """

    def __init__(self, sources: Sources, clock: Callable[[], float] = time.time, history: bool = False) -> None:
        self.sources = sources
        self._clock = clock
        self._history = history
        self._heat: dict[Feed, tuple[float, Any]] = {}  # feed -> (fetched at, heatmap/histories/burn)
        self._heat_span = HEATMAP_WINDOW
        self._heat_since: float | None = None  # an absolute start chosen by the user
        self._scraper: ApiserverScraper | None = None  # the direct /metrics path, made on first use

    def collect(self, feed: Feed) -> Collect:
        return FEEDS[feed].collect(self)

    def unavailable(self, feed: Feed) -> FeedStatus | None:
        """Why `feed` cannot run with these sources (turned off, or failed to open); None if it can."""
        spec, s = FEEDS[feed], self.sources
        if s.has(spec.source) or (spec.kube_fallback and s.has(Source.KUBE)):
            return None
        if not s.enabled(spec.source):
            return FeedStatus(FeedState.DISABLED, f"turned off by {spec.source.flag}")
        return FeedStatus(FeedState.ERROR, s.error(spec.source) or "source unavailable", since=self._clock())

    # --- Prometheus feeds ----------------------------------------------------------------

    def _prometheus(self) -> PrometheusFacts:
        if self.sources.prometheus is None:
            raise FeedError(self.sources.prometheus_error or "Prometheus unavailable")
        return self.sources.prometheus

    def set_history_window(self, span: float, since: float | None = None) -> None:
        """The heatmap and etcd history span `span` seconds, or from `since` to now; the
        column count stays HEATMAP_COLUMNS, so a wider window costs no more points."""
        self._heat_span, self._heat_since = span, since
        self._heat.pop(Feed.APISERVER, None)
        self._heat.pop(Feed.ETCD, None)

    def _history_window(self) -> float:
        return max(60.0, self._clock() - self._heat_since) if self._heat_since is not None else self._heat_span

    def _history_due(self, feed: Feed) -> bool:
        """Range queries only when a new heatmap column is due, not on every refresh."""
        if not self._history:
            return False
        fetched = self._heat.get(feed)
        return fetched is None or self._clock() - fetched[0] >= self._history_window() / HEATMAP_COLUMNS

    async def apiserver(self) -> tuple[ApiserverFacts, Warnings]:
        def direct(scraper: ApiserverScraper, span: Interval) -> tuple[ApiserverFacts, str]:
            from k8stop.queries.kube.metrics_scrape import apiserver_from

            limits = self.sources.settings.thresholds.inflight_limits()
            facts = apiserver_from(span, limits, scraper.server)
            return replace(facts, heatmap=scraper.heatmap(facts, span)), "API figures from the API server's /metrics"

        return await self._or_direct(
            self._prometheus_apiserver, "API server metrics not in Prometheus", "API server metrics", direct
        )

    async def _prometheus_apiserver(self) -> tuple[ApiserverFacts, Warnings]:
        due = self._history_due(Feed.APISERVER)
        facts, warnings = await self._prometheus().apiserver(
            columns=HEATMAP_COLUMNS, window=self._history_window(), with_history=due
        )
        if due:
            self._heat[Feed.APISERVER] = (self._clock(), facts.heatmap)
        elif facts.heatmap is None and Feed.APISERVER in self._heat:
            facts = replace(facts, heatmap=self._heat[Feed.APISERVER][1])
        return facts, warnings

    async def etcd(self) -> tuple[EtcdFacts, Warnings]:
        def direct(scraper: ApiserverScraper, span: Interval) -> tuple[EtcdFacts, str]:
            from k8stop.queries.kube.metrics_scrape import etcd_from

            return etcd_from(span, scraper.server), "the API server's view of etcd from its /metrics"

        return await self._or_direct(self._prometheus_etcd, "etcd metrics not in Prometheus", "etcd metrics", direct)

    async def _or_direct(
        self,
        ask: Callable[[], Awaitable[tuple[T, Warnings]]],
        absent: str,
        what: str,
        direct: Callable[[ApiserverScraper, Interval], tuple[T, str]],
    ) -> tuple[T, Warnings]:
        """Prometheus' answer, else (when direct_metrics allows) the same facts from the API
        server's own /metrics; the warning says why and where the figures came from."""
        prometheus = ask if self.sources.prometheus is not None else None
        why = await self._fallback_reason(prometheus, absent, what, self.sources.settings.direct_metrics)
        if isinstance(why, tuple):
            return why
        facts, source = direct(*await self._direct(why))
        return facts, (f"{why}: {source}",)

    async def _direct(self, why: str) -> tuple[ApiserverScraper, Interval]:
        """The direct scrape both feeds share: one GET of /metrics per refresh. When it fails
        too, both reasons are told: the Prometheus one is often the one to fix."""
        from k8stop.queries.kube.metrics_scrape import ApiserverScraper

        connection = self.sources.connection
        if connection is None:
            raise FeedError(self.sources.kube_error or "no kube connection")
        if self._scraper is None:
            s = self.sources.settings
            self._scraper = ApiserverScraper(connection, self._clock, HEATMAP_COLUMNS, timeout=s.query_timeout)
        try:
            return self._scraper, await self._scraper.latest(max_age=self.sources.settings.refresh / 2)
        except FeedError as exc:
            raise FeedError(f"{why}; the API server's /metrics failed too: {exc}") from None

    async def _prometheus_etcd(self) -> tuple[EtcdFacts, Warnings]:
        due = self._history_due(Feed.ETCD)
        facts, warnings = await self._prometheus().etcd(
            columns=HEATMAP_COLUMNS, window=self._history_window(), with_history=due
        )
        if due:
            histories = {m.instance: (m.wal_fsync_history, m.backend_commit_history) for m in facts.members}
            self._heat[Feed.ETCD] = (self._clock(), histories)
        elif Feed.ETCD in self._heat:
            histories = self._heat[Feed.ETCD][1]
            members = tuple(
                replace(m, wal_fsync_history=histories[m.instance][0], backend_commit_history=histories[m.instance][1])
                if m.instance in histories and not m.wal_fsync_history
                else m
                for m in facts.members
            )
            facts = replace(facts, members=members)
        return facts, warnings

    async def control_plane(self) -> tuple[ControlPlaneFacts, Warnings]:
        return await self._prometheus().control_plane()

    async def workloads(self) -> tuple[WorkloadsFacts, Warnings]:
        return await self._prometheus().workloads()

    async def request_path(self) -> tuple[RequestPathFacts, Warnings]:
        fetched = self._heat.get(Feed.REQUEST_PATH)
        due = fetched is None or self._clock() - fetched[0] >= BURN_INTERVAL
        facts, warnings = await self._prometheus().request_path(with_burn=due)
        if due:
            self._heat[Feed.REQUEST_PATH] = (self._clock(), (facts.burn, facts.burn_metric))
        elif fetched is not None:
            facts = replace(facts, burn=fetched[1][0], burn_metric=fetched[1][1])
        return facts, warnings

    async def alerts(self) -> tuple[AlertsFacts, Warnings]:
        prometheus = self._prometheus()
        facts, warnings = await prometheus.alerts()
        if facts.server_has_rules or not self._history:
            return facts, warnings
        # The app (and so a recording) evaluates the seed's rules when the server has none,
        # as the alerts screen does; the headless report needs no second opinion.
        from k8stop.queries.prom.builtin_alerts import builtin_alerts

        evaluated, more = await builtin_alerts(prometheus.context)
        return replace(facts, evaluated=evaluated.alerts), warnings + more

    # --- Prometheus with a kube fallback ---------------------------------------------------

    async def nodes(self) -> tuple[NodesFacts, Warnings]:
        prometheus = self.sources.prometheus
        ask = prometheus.nodes if prometheus is not None else None
        why = await self._fallback_reason(ask, "node-exporter not found", "node metrics")
        if isinstance(why, tuple):
            return why
        facts = await self._kube_in_sync("nodes").nodes_fallback(self.sources.settings.top_nodes)
        return facts, (f"{why}: CPU and memory from metrics-server, disk unknown",)

    async def restarts(self) -> tuple[RestartsFacts, Warnings]:
        prometheus = self.sources.prometheus
        ask = prometheus.restarts if prometheus is not None else None
        why = await self._fallback_reason(ask, "kube-state-metrics not found", "restarts")
        if isinstance(why, tuple):
            facts, warnings = why
        else:
            facts, warnings = self._kube_in_sync("pods").restarts_fallback(), (f"{why}: restarts from the kube API",)
        # The pods panel is where a big cluster's first pod sync shows its progress
        sync = self.sources.kube.sync_progress() if self.sources.kube is not None else None
        return (replace(facts, sync=sync) if sync is not None else facts), warnings

    async def _fallback_reason(
        self, ask: Callable[[], Awaitable[tuple[T, Warnings]]] | None, absent: str, what: str, fallback: bool = True
    ) -> tuple[T, Warnings] | str:
        """Prometheus' answer, or why the kube fallback serves instead: a Prometheus that is
        down must not blank a panel the kube API can still fill."""
        kube_missing = self.sources.kube is None or not fallback
        if ask is None:
            if kube_missing:
                raise FeedError(self.sources.prometheus_error or f"no source for {what}")
            if not self.sources.enabled(Source.PROMETHEUS):
                return f"Prometheus turned off by {Source.PROMETHEUS.flag}"
            return f"no Prometheus ({self.sources.prometheus_error})" if self.sources.prometheus_error else absent
        try:
            return await ask()
        except FeedError as exc:
            if kube_missing:
                raise
            return absent if isinstance(exc, NotExposed) else f"Prometheus failed ({exc})"

    def _kube_in_sync(self, resource: str) -> KubeFeed:
        """A fallback read from the watch cache is stale when the list/watch is failing: say so."""
        kube = self.sources.kube
        assert kube is not None
        status = kube.statuses()[resource]
        if status.state in (FeedState.ERROR, FeedState.STALE):
            raise FeedError(f"{resource}: {status.reason}")
        return kube

    # --- kube feeds --------------------------------------------------------------------------

    async def kube_summary(self) -> tuple[KubeSummary, Warnings]:
        kube = self.sources.kube
        assert kube is not None
        status = kube.status()
        if status.state in (FeedState.ERROR, FeedState.STALE):
            raise FeedError(status.reason)
        return kube.summary(), status.warnings

    async def kube_objects(self) -> tuple[KubeObjects, Warnings]:
        from k8stop.queries.kube.recorded_objects import kube_objects

        assert self.sources.kube is not None
        return kube_objects(self.sources.kube), ()

    async def audit(self) -> tuple[AuditFacts, Warnings]:
        from k8stop.queries.audit.collect import collect_audit

        s = self.sources
        prom = s.prometheus.context if s.prometheus is not None else None
        return await collect_audit(s.connection, prom, None), ()


FEEDS: dict[Feed, FeedSpec] = {
    Feed.APISERVER: FeedSpec(Source.PROMETHEUS, lambda c: c.apiserver, kube_fallback=True),
    Feed.ETCD: FeedSpec(Source.PROMETHEUS, lambda c: c.etcd, kube_fallback=True),
    Feed.NODES: FeedSpec(Source.PROMETHEUS, lambda c: c.nodes, kube_fallback=True),
    Feed.RESTARTS: FeedSpec(Source.PROMETHEUS, lambda c: c.restarts, kube_fallback=True),
    Feed.WORKLOADS: FeedSpec(Source.PROMETHEUS, lambda c: c.workloads, slow=True),
    Feed.CONTROL_PLANE: FeedSpec(Source.PROMETHEUS, lambda c: c.control_plane, slow=True),
    Feed.REQUEST_PATH: FeedSpec(Source.PROMETHEUS, lambda c: c.request_path),
    Feed.ALERTS: FeedSpec(Source.PROMETHEUS, lambda c: c.alerts, slow=True),
    Feed.KUBE: FeedSpec(Source.KUBE, lambda c: c.kube_summary),
    Feed.KUBE_OBJECTS: FeedSpec(Source.KUBE, lambda c: c.kube_objects, slow=True, in_snapshot=False),
    Feed.AUDIT: FeedSpec(Source.KUBE, lambda c: c.audit, interval=AUDIT_INTERVAL, timeout=AUDIT_TIMEOUT),
}
# The feeds a snapshot (and the diagnosis' "every feed answered") covers.
SNAPSHOT_FEEDS = tuple(feed for feed, spec in FEEDS.items() if spec.in_snapshot)
# Served by Prometheus alone: when all of them fail, Prometheus is failing.
PROMETHEUS_ONLY = tuple(
    feed for feed, spec in FEEDS.items() if spec.source is Source.PROMETHEUS and not spec.kube_fallback
)


def poll_interval(feed: Feed, refresh: float) -> float:
    spec = FEEDS[feed]
    if spec.interval is not None:
        return spec.interval
    return refresh * (SLOW_FEED_FACTOR if spec.slow else 1)


def poll_timeout(feed: Feed, default: float) -> float:
    return FEEDS[feed].timeout or default
