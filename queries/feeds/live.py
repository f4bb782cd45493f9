"""LiveSource: the feeds of a live cluster — Prometheus pollers and the kube list/watch feed.

Which feeds exist, what each needs and how it is collected is the registry's; this adds
the pollers, their cadence and the controls. Heavy imports (aiohttp, the kube client)
happen inside `run`, after the first frame.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from k8stop.queries.config import Settings
from k8stop.queries.feeds.poller import Poller
from k8stop.queries.feeds.registry import FEEDS, Collectors, Feed, poll_interval, poll_timeout
from k8stop.queries.feeds.source import History, Publish, SourceInfo, Updates
from k8stop.queries.feeds.sources import Sources, open_sources
from k8stop.queries.model.status import FeedUpdate

if TYPE_CHECKING:
    from k8stop.queries.config import Thresholds
    from k8stop.queries.drill.data import DrillData
    from k8stop.queries.kube.feed import KubeFeed
    from k8stop.queries.prom.client import PromClient


class LiveSource:
    live = True  # `:ctx` and `:ns` can rebuild it; a replay cannot

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        flags = ("TLS-UNVERIFIED",) if settings.prometheus.insecure_skip_tls_verify else ()
        self.info = SourceInfo(context=settings.context or "", flags=flags)
        self.sources = Sources(settings)
        self.collectors = Collectors(self.sources, clock, history=True)
        self.pollers: dict[Feed, Poller[Any]] = {}
        # The kube records drill-downs read are published only while recording: at 150,000
        # pods building them every few seconds would be most of an idle dashboard's CPU.
        self._records_wanted = False

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
            await self.sources.close()

    async def connect(self, on_info: Callable[[SourceInfo], None]) -> None:
        """Open the sources (lazy imports happen here) and report what was found."""
        self.sources = sources = await open_sources(self.settings, self._clock)
        self.collectors.sources = sources
        if self.settings.use_prometheus:
            prom_text = sources.prometheus_label or f"unavailable: {sources.prometheus_error}"
        else:
            prom_text = "off (--no-prometheus)"
        context = sources.context or ("no kube API" if not self.settings.use_kube else "")
        self.info = SourceInfo(context, sources.version, prom_text, self.info.flags, self.settings.cluster or "")
        on_info(self.info)

    @property
    def kube(self) -> KubeFeed | None:
        return self.sources.kube

    @property
    def prom_client(self) -> PromClient | None:
        return self.sources.prom_client

    def drill(self, latest: Updates, history: History, thresholds: Thresholds) -> DrillData:
        """Fresh Prometheus queries when there is a Prometheus, else the updates the app holds."""
        prometheus, kube = self.sources.prometheus, self.sources.kube
        if prometheus is not None:
            from k8stop.queries.drill.data import LiveDrill

            return LiveDrill(prometheus, kube, latest, kube.connection if kube is not None else None)
        from k8stop.queries.drill.recorded import RecordedDrill

        # e.g. "off (--no-prometheus)" or "unavailable: connection refused", as the header says
        state = self.info.prometheus or "not connected yet"
        note = f"history charts need Prometheus, which is {state} in this session"
        return RecordedDrill(latest, history, kube, thresholds, note, kube.connection if kube is not None else None)

    # --- feeds -------------------------------------------------------------------------------

    def make_pollers(self, publish: Publish) -> None:
        """One poller per feed, publishing to `publish`; a feed without its source publishes why, once."""
        s = self.settings
        for feed in FEEDS:
            absent = self.collectors.unavailable(feed)
            if absent is not None:
                publish(FeedUpdate(feed, None, absent, self._clock()))
                continue
            self.pollers[feed] = Poller(
                feed,
                self.collectors.collect(feed),
                publish,
                interval=poll_interval(feed, s.refresh),
                timeout=poll_timeout(feed, max(s.query_timeout, s.refresh) * 2),
                clock=self._clock,
            )
        self.want_records(self._records_wanted)

    # --- controls -----------------------------------------------------------------------------

    def pause(self) -> None:
        for poller in self.pollers.values():
            poller.pause()

    def resume(self) -> None:
        for feed, poller in self.pollers.items():
            if feed != Feed.KUBE_OBJECTS or self._records_wanted:
                poller.resume()

    def want_records(self, wanted: bool) -> None:
        self._records_wanted = wanted
        poller = self.pollers.get(Feed.KUBE_OBJECTS)
        if poller is not None:
            (poller.resume if wanted else poller.pause)()

    def poll_now(self) -> None:
        for poller in self.pollers.values():
            poller.poll_now()

    def set_history_window(self, span: float, since: float | None) -> bool:
        self.collectors.set_history_window(span, since)
        for feed in (Feed.APISERVER, Feed.ETCD):
            poller = self.pollers.get(feed)
            if poller is not None:
                poller.poll_now()
        return True

    def set_interval(self, seconds: float) -> None:
        self.settings = replace(self.settings, refresh=seconds)
        for feed, poller in self.pollers.items():
            poller.interval = poll_interval(feed, seconds)
            poller.poll_now()
