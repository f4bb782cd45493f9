"""One snapshot of a cluster for the headless report: open the sources, ask every feed once, close.

The feeds, their fallbacks and their error handling are the registry's, exactly as in the
live app; each goes through a one-shot `Poller.poll_once`, so NotExposed, errors and
timeouts become feed statuses the same way. The one difference: a single poll cannot wait
for the next refresh, so the kube API's initial list is awaited first: as long as it makes
progress (a big cluster on a loaded API server may take minutes), and an error only when no
page arrived for `kube_sync_idle_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from k8stop.queries.config import Settings
from k8stop.queries.feeds.poller import Poller
from k8stop.queries.feeds.registry import FEEDS, Collectors, Feed, poll_timeout
from k8stop.queries.feeds.snapshot_builder import build_snapshot
from k8stop.queries.feeds.sources import open_sources
from k8stop.queries.model.facts import SyncProgress
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate

# How often a waiting report checks the kube sync for progress (and reports it)
PROGRESS_INTERVAL = 0.5


async def collect_snapshot(
    settings: Settings,
    *,
    progress: Callable[[SyncProgress], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> ClusterSnapshot:
    """Never raises for an unreachable source: the snapshot's source statuses say why.

    `progress` is called every PROGRESS_INTERVAL while the kube API's pods are syncing."""
    sources = await open_sources(settings, clock)
    collectors = Collectors(sources, clock)
    latest: dict[str, FeedUpdate[Any]] = {}
    try:
        unsettled = await _settle_kube(collectors, settings.kube_sync_idle_timeout, progress)

        async def poll(feed: Feed) -> None:
            absent = collectors.unavailable(feed)
            if absent is not None:
                latest[feed] = FeedUpdate(feed, None, absent, clock())
            elif feed is Feed.KUBE and unsettled is not None:
                latest[feed] = FeedUpdate(feed, None, unsettled, clock())
            else:
                timeout = poll_timeout(feed, max(settings.query_timeout, 1.0) * 2)
                poller = Poller(feed, collectors.collect(feed), lambda _: None, settings.refresh, timeout, clock)
                latest[feed] = await poller.poll_once()

        async with asyncio.TaskGroup() as group:
            for feed, spec in FEEDS.items():
                if spec.in_snapshot:
                    group.create_task(poll(feed))
        taken_at = clock()
    finally:
        await sources.close()
    return build_snapshot(
        latest,
        taken_at,
        settings,
        context=sources.context,
        version=sources.version,
        prometheus_detail=sources.prometheus_description,
        prometheus_url=sources.prometheus_url,
    )


async def _settle_kube(
    collectors: Collectors, idle_timeout: float, progress: Callable[[SyncProgress], None] | None
) -> FeedStatus | None:
    """Wait for the kube feed's first sync while it progresses; the kube feed's status if it got stuck."""
    kube = collectors.sources.kube
    if kube is None:
        return None
    settled = asyncio.ensure_future(kube.wait_settled())
    try:
        while not settled.done():
            await asyncio.wait({settled}, timeout=PROGRESS_INTERVAL)
            if settled.done():
                break
            pods = kube.sync_progress()
            if progress is not None and pods is not None:
                progress(pods)
            idle = kube.idle_for()
            if idle_timeout and idle > idle_timeout:
                so_far = f" ({pods.line()} in {pods.pages:,} pages)" if pods is not None else ""
                return FeedStatus(
                    FeedState.ERROR,
                    f"initial list stuck: nothing arrived for {idle:.0f} s{so_far}; "
                    "kube_sync_idle_timeout in the config file sets how long to wait",
                )
    finally:
        settled.cancel()
    return None
