"""One snapshot of a cluster for the headless report: open the sources, ask every feed once, close.

Each feed goes through a one-shot `Poller.poll_once`, so NotExposed, errors and timeouts become
feed statuses exactly as they do in the live app. Node and restart facts fall back to the kube
API when Prometheus lacks them, as the dashboard does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from k8stop.queries.config import Settings
from k8stop.queries.feeds.poller import Poller
from k8stop.queries.feeds.snapshot_builder import snapshot_from_feeds
from k8stop.queries.feeds.sources import Sources, open_sources
from k8stop.queries.model.errors import FeedError, NotExposed
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate

Warnings = tuple[str, ...]
# Feeds served by Prometheus alone (nodes and restarts may come from the kube API instead).
_PROMETHEUS_ONLY = ("apiserver", "etcd", "control_plane", "alerts")
Collect = Callable[[], Awaitable[tuple[Any, Warnings]]]


def snapshot_from_updates(
    latest: Mapping[str, FeedUpdate[Any]],
    taken_at: float,
    *,
    context: str | None = None,
    version: str | None = None,
    settings: Settings | None = None,
) -> ClusterSnapshot:
    """The snapshot the TUI and replays report on: the latest update of each feed."""
    s = settings or Settings()
    return snapshot_from_feeds(
        latest,
        taken_at,
        context=context,
        version=version,
        prometheus_enabled=s.use_prometheus,
        kube_enabled=s.use_kube,
        prometheus_url=s.prometheus_url,
    )


async def collect_snapshot(
    settings: Settings, *, kube_wait: float = 20.0, clock: Callable[[], float] = time.time
) -> ClusterSnapshot:
    """Never raises for an unreachable source: the snapshot's source statuses say why."""
    sources = await open_sources(settings, clock)
    try:
        kube_status = await _settle_kube(sources, kube_wait)
        latest = await _poll_all(sources, kube_status, clock)
        latest["audit"] = await _poll_audit(sources, latest, clock)
        taken_at = clock()
    finally:
        await sources.close()
    snap = snapshot_from_feeds(latest, taken_at, context=sources.context, version=sources.version)
    return replace(snap, prometheus=_prometheus_source(sources, latest), kube=_kube_source(sources, kube_status))


async def _settle_kube(sources: Sources, kube_wait: float) -> FeedStatus | None:
    """Bounded wait for the kube feed's initial list; None when there is no kube feed."""
    if sources.kube is None:
        return None
    try:
        await asyncio.wait_for(sources.kube.wait_settled(), kube_wait)
    except TimeoutError:
        return FeedStatus(FeedState.ERROR, f"initial list not finished within {kube_wait:g} s")
    return sources.kube.status()


async def _poll_all(
    sources: Sources, kube_status: FeedStatus | None, clock: Callable[[], float]
) -> dict[str, FeedUpdate[Any]]:
    s = sources.settings
    feeds = _feeds(sources, kube_status)
    latest: dict[str, FeedUpdate[Any]] = {}

    async def poll(feed: str, collect: Collect) -> None:
        poller = Poller(
            feed, collect, lambda update: None, interval=s.refresh, timeout=max(s.query_timeout, 1.0) * 2, clock=clock
        )
        latest[feed] = await poller.poll_once()

    async with asyncio.TaskGroup() as group:
        for feed, collect in feeds.items():
            group.create_task(poll(feed, collect))
    for feed, status in _absent_feeds(sources).items():
        latest[feed] = FeedUpdate(feed, None, status, clock())
    return latest


async def _poll_audit(
    sources: Sources, latest: Mapping[str, FeedUpdate[Any]], clock: Callable[[], float]
) -> FeedUpdate[Any]:
    """The tuning and sizing audit, once, after the other feeds (it reads their node count)."""
    from k8stop.queries.audit.collect import AUDIT_TIMEOUT, collect_audit

    snap = snapshot_from_feeds(latest, clock(), context=sources.context, version=sources.version)
    prom = sources.prometheus.context if sources.prometheus is not None else None

    async def collect() -> tuple[Any, Warnings]:
        return await collect_audit(sources.connection, prom, snap), ()

    poller = Poller("audit", collect, lambda update: None, interval=AUDIT_TIMEOUT, timeout=AUDIT_TIMEOUT, clock=clock)
    return await poller.poll_once()


def _feeds(sources: Sources, kube_status: FeedStatus | None) -> dict[str, Collect]:
    prom, kube = sources.prometheus, sources.kube
    feeds: dict[str, Collect] = {}
    if prom is not None:
        feeds["apiserver"] = lambda: prom.apiserver(with_history=False)
        feeds["etcd"] = lambda: prom.etcd(with_history=False)
        feeds["control_plane"] = prom.control_plane
        feeds["alerts"] = prom.alerts
    if prom is not None or kube is not None:
        feeds["nodes"] = lambda: _nodes(sources)
        feeds["restarts"] = lambda: _restarts(sources)
    if kube is not None:
        feeds["kube"] = lambda: _kube_summary(sources, kube_status)
    return feeds


def _absent_feeds(sources: Sources) -> dict[str, FeedStatus]:
    """Feeds whose source is off or could not be opened, with the reason."""
    s = sources.settings
    absent: dict[str, FeedStatus] = {}
    if sources.prometheus is None:
        prom = _off_or_error(s.use_prometheus, "--no-prometheus", sources.prometheus_error)
        for feed in _PROMETHEUS_ONLY:
            absent[feed] = prom
        if sources.kube is None:
            absent["nodes"] = absent["restarts"] = prom
    if sources.kube is None:
        absent["kube"] = _off_or_error(s.use_kube, "--no-kube", sources.kube_error)
    return absent


def _off_or_error(enabled: bool, flag: str, error: str) -> FeedStatus:
    if not enabled:
        return FeedStatus(FeedState.DISABLED, f"turned off by {flag}")
    return FeedStatus(FeedState.ERROR, error or "source unavailable")


async def _nodes(sources: Sources) -> tuple[Any, Warnings]:
    if sources.prometheus is not None:
        try:
            return await sources.prometheus.nodes()
        except NotExposed:
            if sources.kube is None:
                raise
    if sources.kube is None:
        raise FeedError(sources.prometheus_error or "no source for node metrics")
    return await sources.kube.nodes_fallback(sources.settings.top_nodes), (
        "node-exporter not found: CPU and memory from metrics-server, disk unknown",
    )


async def _restarts(sources: Sources) -> tuple[Any, Warnings]:
    if sources.prometheus is not None:
        try:
            return await sources.prometheus.restarts()
        except NotExposed:
            if sources.kube is None:
                raise
    if sources.kube is None:
        raise FeedError(sources.prometheus_error or "no source for restarts")
    return sources.kube.restarts_fallback(), ("kube-state-metrics not found: restarts from the kube API",)


async def _kube_summary(sources: Sources, status: FeedStatus | None) -> tuple[Any, Warnings]:
    assert sources.kube is not None and status is not None
    if status.state in (FeedState.ERROR, FeedState.STALE):
        raise FeedError(status.reason)
    return sources.kube.summary(), status.warnings


def _prometheus_source(sources: Sources, latest: Mapping[str, FeedUpdate[Any]]) -> SourceStatus:
    s = sources.settings
    if not s.use_prometheus:
        return SourceStatus(SourceState.DISABLED, "turned off by --no-prometheus")
    if sources.prometheus is None:
        return SourceStatus(SourceState.ERROR, sources.prometheus_error or "unavailable", sources.prometheus_url)
    # A client to a configured URL exists before any request: only the answers say it is reachable.
    failed = [latest[f].status for f in _PROMETHEUS_ONLY if f in latest and latest[f].status.state is FeedState.ERROR]
    if len(failed) == len(_PROMETHEUS_ONLY):
        return SourceStatus(SourceState.ERROR, failed[0].reason, sources.prometheus_url)
    return SourceStatus(SourceState.OK, sources.prometheus_description, sources.prometheus_url)


def _kube_source(sources: Sources, status: FeedStatus | None) -> SourceStatus:
    if not sources.settings.use_kube:
        return SourceStatus(SourceState.DISABLED, "turned off by --no-kube")
    if sources.kube is None:
        return SourceStatus(SourceState.ERROR, sources.kube_error or "unavailable")
    if status is None or status.state in (FeedState.ERROR, FeedState.STALE):
        reason = status.reason if status is not None else "no answer"
        return SourceStatus(SourceState.ERROR, reason)
    return SourceStatus(SourceState.OK, f"context {sources.context}" if sources.context else "")
