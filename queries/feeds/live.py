"""LiveSource: the feeds of a live cluster — Prometheus pollers and the kube list/watch feed.

Heavy imports (aiohttp, the kube client) happen inside `run`, after the first frame.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from k8stop.queries.config import Settings
from k8stop.queries.feeds.poller import Poller
from k8stop.queries.feeds.source import Publish, SourceInfo
from k8stop.queries.model.errors import FeedError, NotExposed
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate

if TYPE_CHECKING:
    from k8stop.queries.feeds.sources import Sources
    from k8stop.queries.kube.connection import KubeConnection
    from k8stop.queries.kube.feed import KubeFeed
    from k8stop.queries.model.facts import ApiserverFacts, EtcdFacts
    from k8stop.queries.prom.client import PromClient
    from k8stop.queries.prom.facts_source import PrometheusFacts

Warnings = tuple[str, ...]
# Control-plane details, alerts and the drill-down records change slowly and are not on the
# dashboard: poll them less.
SLOW_FEED_FACTOR = 5
SLOW_FEEDS = ("control_plane", "alerts", "kube_objects")
HEATMAP_WINDOW = 1800.0


class LiveSource:
    live = True  # `:ctx` and `:ns` can rebuild it; a replay cannot

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        flags = ("TLS-UNVERIFIED",) if settings.prometheus.insecure_skip_tls_verify else ()
        self.info = SourceInfo(context=settings.context or "", flags=flags)
        self.prometheus: PrometheusFacts | None = None
        self.prom_client: PromClient | None = None
        self.kube: KubeFeed | None = None
        self.connection: KubeConnection | None = None
        self.sources: Sources | None = None
        self._kube_error = self._prom_error = ""
        self.pollers: dict[str, Poller[Any]] = {}
        self.heatmap_columns = 30
        # The kube records drill-downs read are published only while recording: at 150,000
        # pods building them every few seconds would be most of an idle dashboard's CPU.
        self._records_wanted = False
        self._heat: dict[str, tuple[float, Any]] = {}  # feed -> (fetched at, heatmap/histories)
        self._publish: Publish = lambda update: None

    def now(self) -> float:
        return self._clock()

    # --- lifecycle ---------------------------------------------------------------------

    async def run(self, publish: Publish, on_info: Callable[[SourceInfo], None]) -> None:
        try:
            await self.connect(on_info)
            self.make_pollers(publish)
            async with asyncio.TaskGroup() as group:
                for poller in self.pollers.values():
                    group.create_task(poller.run())
        finally:
            await self.close()

    async def close(self) -> None:
        if self.sources is not None:
            await self.sources.close()

    async def connect(self, on_info: Callable[[SourceInfo], None]) -> None:
        """Open the sources (lazy imports happen here) and report what was found."""
        from k8stop.queries.feeds.sources import open_sources

        self.sources = sources = await open_sources(self.settings, self._clock)
        self.connection, self.kube = sources.connection, sources.kube
        self.prom_client, self.prometheus = sources.prom_client, sources.prometheus
        self._kube_error, self._prom_error = sources.kube_error, sources.prometheus_error
        if self.settings.use_prometheus:
            prom_text = sources.prometheus_label or f"unavailable: {sources.prometheus_error}"
        else:
            prom_text = "off (--no-prometheus)"
        context = sources.context or ("no kube API" if not self.settings.use_kube else "")
        self.info = SourceInfo(context, sources.version, prom_text, self.info.flags)
        on_info(self.info)

    # --- feeds -------------------------------------------------------------------------------

    def make_pollers(self, publish: Publish) -> None:
        """One poller per feed, publishing to `publish`; disabled feeds publish why, once."""
        self._publish = publish
        s = self.settings
        feeds: dict[str, Callable[[], Awaitable[tuple[Any, Warnings]]]] = {
            "apiserver": self._apiserver,
            "etcd": self._etcd,
            "nodes": self._nodes,
            "restarts": self._restarts,
            "control_plane": self._control_plane,
            "alerts": self._alerts,
            "kube": self._kube_summary,
            "kube_objects": self._kube_objects,
        }
        for feed, collect in feeds.items():
            slow = feed in SLOW_FEEDS
            self.pollers[feed] = Poller(
                feed,
                collect,
                self._publish,
                interval=s.refresh * (SLOW_FEED_FACTOR if slow else 1),
                timeout=max(s.query_timeout, s.refresh) * 2,
                clock=self._clock,
            )
        self._add_audit_poller()
        if not self._records_wanted:
            self.pollers["kube_objects"].pause()
        for feed in self._disabled_feeds():
            reason = self._disabled_reason(feed)
            self.pollers.pop(feed)
            self._publish(FeedUpdate(feed, None, reason, self._clock()))

    def _add_audit_poller(self) -> None:
        """The tuning and sizing audit: a slow feed on its own interval (settings change seldom)."""
        from k8stop.queries.audit.collect import AUDIT_INTERVAL, AUDIT_TIMEOUT, collect_audit

        async def collect() -> tuple[Any, Warnings]:
            prom = self.prometheus.context if self.prometheus is not None else None
            return await collect_audit(self.connection, prom, None), ()

        self.pollers["audit"] = Poller(
            "audit", collect, self._publish, interval=AUDIT_INTERVAL, timeout=AUDIT_TIMEOUT, clock=self._clock
        )

    def _disabled_feeds(self) -> list[str]:
        gone = []
        if self.prometheus is None:
            gone += ["apiserver", "etcd", "control_plane", "alerts"]
            if self.kube is None:
                gone += ["nodes", "restarts"]
        if self.kube is None:
            gone += ["kube", "kube_objects"]
        return gone

    def _disabled_reason(self, feed: str) -> FeedStatus:
        kube_feed = feed == "kube"
        off = not (self.settings.use_kube if kube_feed else self.settings.use_prometheus)
        error = self._kube_error if kube_feed else self._prom_error
        if off:
            flag = "--no-kube" if kube_feed else "--no-prometheus"
            return FeedStatus(FeedState.DISABLED, f"turned off by {flag}")
        return FeedStatus(FeedState.ERROR, error or "source unavailable", since=self._clock())

    def _need_prometheus(self) -> PrometheusFacts:
        if self.prometheus is None:
            raise FeedError(self._prom_error or "Prometheus unavailable")
        return self.prometheus

    def _history_due(self, feed: str) -> bool:
        """Range queries only when a new heatmap column is due, not on every refresh."""
        step = HEATMAP_WINDOW / self.heatmap_columns
        fetched = self._heat.get(feed)
        return fetched is None or self._clock() - fetched[0] >= step

    async def _apiserver(self) -> tuple[ApiserverFacts, Warnings]:
        due = self._history_due("apiserver")
        facts, warnings = await self._need_prometheus().apiserver(
            columns=self.heatmap_columns, window=HEATMAP_WINDOW, with_history=due
        )
        if due:
            self._heat["apiserver"] = (self._clock(), facts.heatmap)
        elif facts.heatmap is None and "apiserver" in self._heat:
            facts = replace(facts, heatmap=self._heat["apiserver"][1])
        return facts, warnings

    async def _etcd(self) -> tuple[EtcdFacts, Warnings]:
        due = self._history_due("etcd")
        facts, warnings = await self._need_prometheus().etcd(
            columns=self.heatmap_columns, window=HEATMAP_WINDOW, with_history=due
        )
        if due:
            histories = {m.instance: (m.wal_fsync_history, m.backend_commit_history) for m in facts.members}
            self._heat["etcd"] = (self._clock(), histories)
        elif "etcd" in self._heat:
            histories = self._heat["etcd"][1]
            members = tuple(
                replace(m, wal_fsync_history=histories[m.instance][0], backend_commit_history=histories[m.instance][1])
                if m.instance in histories and not m.wal_fsync_history
                else m
                for m in facts.members
            )
            facts = replace(facts, members=members)
        return facts, warnings

    async def _nodes(self) -> tuple[Any, Warnings]:
        why = "node-exporter not found"
        if self.prometheus is not None:
            try:
                return await self.prometheus.nodes()
            except FeedError as exc:
                # Prometheus down must not blank a panel the kube API can still fill
                if self.kube is None:
                    raise
                why = why if isinstance(exc, NotExposed) else f"Prometheus failed ({exc})"
        if self.kube is None:
            raise FeedError(self._prom_error or "no source for node metrics")
        self._raise_if_kube_behind("nodes")
        return await self.kube.nodes_fallback(self.settings.top_nodes), (
            f"{why}: CPU and memory from metrics-server, disk unknown",
        )

    async def _restarts(self) -> tuple[Any, Warnings]:
        why = "kube-state-metrics not found"
        if self.prometheus is not None:
            try:
                return await self.prometheus.restarts()
            except FeedError as exc:
                if self.kube is None:
                    raise
                why = why if isinstance(exc, NotExposed) else f"Prometheus failed ({exc})"
        if self.kube is None:
            raise FeedError(self._prom_error or "no source for restarts")
        self._raise_if_kube_behind("pods")
        return self.kube.restarts_fallback(), (f"{why}: restarts from the kube API",)

    def _raise_if_kube_behind(self, resource: str) -> None:
        """A fallback read from the watch cache is stale when the list/watch is failing: say so."""
        assert self.kube is not None
        status = self.kube.statuses()[resource]
        if status.state in (FeedState.ERROR, FeedState.STALE):
            raise FeedError(f"{resource}: {status.reason}")

    async def _control_plane(self) -> tuple[Any, Warnings]:
        return await self._need_prometheus().control_plane()

    async def _alerts(self) -> tuple[Any, Warnings]:
        return await self._need_prometheus().alerts()

    async def _kube_objects(self) -> tuple[Any, Warnings]:
        """The records drill-downs read, published so a recording can replay them."""
        from k8stop.queries.kube.recorded_objects import kube_objects

        assert self.kube is not None
        return kube_objects(self.kube), ()

    async def _kube_summary(self) -> tuple[Any, Warnings]:
        assert self.kube is not None
        status = self.kube.status()
        if status.state in (FeedState.ERROR, FeedState.STALE):
            raise FeedError(status.reason)
        return self.kube.summary(), status.warnings

    # --- controls -----------------------------------------------------------------------------

    def pause(self) -> None:
        for poller in self.pollers.values():
            poller.pause()

    def resume(self) -> None:
        for feed, poller in self.pollers.items():
            if feed != "kube_objects" or self._records_wanted:
                poller.resume()

    def want_records(self, wanted: bool) -> None:
        self._records_wanted = wanted
        poller = self.pollers.get("kube_objects")
        if poller is not None:
            (poller.resume if wanted else poller.pause)()

    def poll_now(self) -> None:
        for poller in self.pollers.values():
            poller.poll_now()

    def set_interval(self, seconds: float) -> None:
        self.settings = replace(self.settings, refresh=seconds)
        for feed, poller in self.pollers.items():
            if feed != "audit":  # the audit keeps its own few-minute interval
                poller.interval = seconds * (SLOW_FEED_FACTOR if feed in SLOW_FEEDS else 1)
            poller.poll_now()
