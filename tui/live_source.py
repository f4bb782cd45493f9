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
from k8stop.queries.errors import FeedError, NotExposed, describe
from k8stop.queries.poller import Poller
from k8stop.queries.status import FeedState, FeedStatus, FeedUpdate

from .feed_source import Publish, SourceInfo

if TYPE_CHECKING:
    from k8stop.queries.facts import ApiserverFacts, EtcdFacts
    from k8stop.queries.kube_connection import KubeConnection
    from k8stop.queries.kube_feed import KubeFeed
    from k8stop.queries.prom_feeds import PrometheusFacts
    from k8stop.queries.promclient import PromClient

Warnings = tuple[str, ...]
# Control-plane details and alerts change slowly and are not on the dashboard: poll them less.
SLOW_FEED_FACTOR = 5
HEATMAP_WINDOW = 1800.0


class LiveSource:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        flags = ("TLS-UNVERIFIED",) if settings.prometheus.insecure_skip_tls_verify else ()
        self.info = SourceInfo(context=settings.context or "", flags=flags)
        self.prometheus: PrometheusFacts | None = None
        self.prom_client: PromClient | None = None
        self.kube: KubeFeed | None = None
        self.connection: KubeConnection | None = None
        self.pollers: dict[str, Poller[Any]] = {}
        self.heatmap_columns = 30
        self._heat: dict[str, tuple[float, Any]] = {}  # feed -> (fetched at, heatmap/histories)
        self._publish: Publish = lambda update: None

    def now(self) -> float:
        return self._clock()

    # --- lifecycle ---------------------------------------------------------------------

    async def run(self, publish: Publish, on_info: Callable[[SourceInfo], None]) -> None:
        self._publish = publish
        try:
            await self._connect(on_info)
            self._make_pollers()
            async with asyncio.TaskGroup() as group:
                for poller in self.pollers.values():
                    group.create_task(poller.run())
        finally:
            await self.close()

    async def close(self) -> None:
        if self.kube is not None:
            await self.kube.stop()
        if self.prom_client is not None:
            await self.prom_client.close()
        if self.connection is not None:
            await self.connection.close()

    async def _connect(self, on_info: Callable[[SourceInfo], None]) -> None:
        s = self.settings
        context, version, prom_text = self.info.context, "", ""
        kube_error = prom_error = ""
        if s.use_kube:
            try:
                from k8stop.queries.kube_connection import connect
                from k8stop.queries.kube_feed import KubeFeed

                self.connection = await connect(s.kubeconfig, s.context)
                context = self.connection.context
                self.kube = KubeFeed(self.connection, s.namespace, clock=self._clock)
                self.kube.start()
                try:
                    version = await self.connection.version()
                except Exception as exc:  # the feeds report the failure in detail
                    version = f"version ? ({describe(exc)})"
            except Exception as exc:
                kube_error = describe(exc)
        if s.use_prometheus:
            try:
                prom_text = await self._connect_prometheus()
            except Exception as exc:
                prom_error = describe(exc)
                prom_text = "unavailable"
        self._kube_error, self._prom_error = kube_error, prom_error
        self.info = SourceInfo(context, version, prom_text or ("off" if not s.use_prometheus else ""), self.info.flags)
        on_info(self.info)

    async def _connect_prometheus(self) -> str:
        from k8stop.queries.prom_feeds import PrometheusFacts
        from k8stop.queries.promclient import PromClient, safe_url

        s = self.settings
        if s.prometheus_url:
            self.prom_client = PromClient.from_settings(s)
            described = f"{safe_url(s.prometheus_url)} (--prometheus-url)"
        else:
            if self.connection is None:
                raise FeedError("no --prometheus-url and no cluster to discover one in")
            from k8stop.queries.prometheus_discovery import discover_prometheus

            connection = self.connection
            found = await discover_prometheus(connection)
            _, ssl_context = await connection.aiohttp_auth()

            async def kube_credentials() -> dict[str, str]:
                return (await connection.aiohttp_auth())[0]

            self.prom_client = PromClient(
                found.url,
                s.prometheus,
                timeout=s.query_timeout,
                max_inflight=s.max_inflight_queries,
                ssl_context=ssl_context,
                auth_headers=kube_credentials,
                read_only_get=True,
            )
            described = f"{found.description} (discovered)"
        self.prometheus = PrometheusFacts(self.prom_client, s, self._clock)
        return described

    # --- feeds -------------------------------------------------------------------------------

    def _make_pollers(self) -> None:
        s = self.settings
        feeds: dict[str, Callable[[], Awaitable[tuple[Any, Warnings]]]] = {
            "apiserver": self._apiserver,
            "etcd": self._etcd,
            "nodes": self._nodes,
            "restarts": self._restarts,
            "control_plane": self._control_plane,
            "alerts": self._alerts,
            "kube": self._kube_summary,
        }
        for feed, collect in feeds.items():
            slow = feed in ("control_plane", "alerts")
            self.pollers[feed] = Poller(
                feed,
                collect,
                self._publish,
                interval=s.refresh * (SLOW_FEED_FACTOR if slow else 1),
                timeout=max(s.query_timeout, s.refresh) * 2,
                clock=self._clock,
            )
        for feed in self._disabled_feeds():
            reason = self._disabled_reason(feed)
            self.pollers.pop(feed)
            self._publish(FeedUpdate(feed, None, reason, self._clock()))

    def _disabled_feeds(self) -> list[str]:
        gone = []
        if self.prometheus is None:
            gone += ["apiserver", "etcd", "control_plane", "alerts"]
            if self.kube is None:
                gone += ["nodes", "restarts"]
        if self.kube is None:
            gone.append("kube")
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
        if self.prometheus is not None:
            try:
                return await self.prometheus.nodes()
            except NotExposed:
                if self.kube is None:
                    raise
        if self.kube is None:
            raise FeedError(self._prom_error or "no source for node metrics")
        return await self.kube.nodes_fallback(self.settings.top_nodes), (
            "node-exporter not found: CPU and memory from metrics-server, disk unknown",
        )

    async def _restarts(self) -> tuple[Any, Warnings]:
        if self.prometheus is not None:
            try:
                return await self.prometheus.restarts()
            except NotExposed:
                if self.kube is None:
                    raise
        if self.kube is None:
            raise FeedError(self._prom_error or "no source for restarts")
        return self.kube.restarts_fallback(), ("kube-state-metrics not found: restarts from the kube API",)

    async def _control_plane(self) -> tuple[Any, Warnings]:
        return await self._need_prometheus().control_plane()

    async def _alerts(self) -> tuple[Any, Warnings]:
        return await self._need_prometheus().alerts()

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
        for poller in self.pollers.values():
            poller.resume()

    def poll_now(self) -> None:
        for poller in self.pollers.values():
            poller.poll_now()

    def set_interval(self, seconds: float) -> None:
        self.settings = replace(self.settings, refresh=seconds)
        for feed, poller in self.pollers.items():
            poller.interval = seconds * (SLOW_FEED_FACTOR if feed in ("control_plane", "alerts") else 1)
            poller.poll_now()
