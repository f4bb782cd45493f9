"""One snapshot of a cluster for the headless report: open the sources, ask every feed once, close.

The feeds, their fallbacks and their error handling are the registry's, exactly as in the
live app; each goes through a one-shot `Poller.poll_once`, so NotExposed, errors and
timeouts become feed statuses the same way. The one difference: a single poll cannot wait
for the next refresh, so the kube API's initial list is awaited first (bounded).
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
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate


async def collect_snapshot(
    settings: Settings, *, kube_wait: float = 20.0, clock: Callable[[], float] = time.time
) -> ClusterSnapshot:
    """Never raises for an unreachable source: the snapshot's source statuses say why."""
    sources = await open_sources(settings, clock)
    collectors = Collectors(sources, clock)
    latest: dict[str, FeedUpdate[Any]] = {}
    try:
        unsettled = await _settle_kube(collectors, kube_wait)

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


async def _settle_kube(collectors: Collectors, kube_wait: float) -> FeedStatus | None:
    """Bounded wait for the kube feed's initial list; the kube feed's status if it never finished."""
    kube = collectors.sources.kube
    if kube is None:
        return None
    try:
        await asyncio.wait_for(kube.wait_settled(), kube_wait)
    except TimeoutError:
        return FeedStatus(FeedState.ERROR, f"initial list not finished within {kube_wait:g} s")
    return None
