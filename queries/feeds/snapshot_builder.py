"""The one ClusterSnapshot builder: from the latest update of each feed, live, headless or replayed.

A source's status is read from its feeds: Prometheus is in error when every feed only it
serves fails (nodes and restarts may be served by the kube API instead, so they do not
vouch for it); the kube API when its summary feed fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k8stop.queries.config import Settings
from k8stop.queries.feeds.registry import PROMETHEUS_ONLY, SNAPSHOT_FEEDS, Feed
from k8stop.queries.feeds.sources import Source
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus, safe_url
from k8stop.queries.model.status import FeedState, FeedUpdate

_FAILING = (FeedState.ERROR, FeedState.STALE)


def _source(
    source: Source, latest: Mapping[str, FeedUpdate[Any]], enabled: bool, detail: str, url: str | None = None
) -> SourceStatus:
    if not enabled:
        return SourceStatus(SourceState.DISABLED, f"turned off by {source.flag}")
    own = PROMETHEUS_ONLY if source is Source.PROMETHEUS else (Feed.KUBE,)
    updates = [latest[f] for f in own if f in latest]
    if updates and all(u.status.state in _FAILING for u in updates):
        return SourceStatus(SourceState.ERROR, updates[0].status.reason, url)
    return SourceStatus(SourceState.OK, detail, url)


def build_snapshot(
    latest: Mapping[str, FeedUpdate[Any]],
    taken_at: float,
    settings: Settings,
    *,
    context: str | None = None,
    version: str | None = None,
    prometheus_detail: str = "",  # which Prometheus and how it was found
    prometheus_url: str | None = None,  # default: the configured one
) -> ClusterSnapshot:
    def facts(feed: Feed) -> Any:
        update = latest.get(feed)
        return update.facts if update is not None else None

    url = safe_url(prometheus_url or settings.prometheus_url)
    return ClusterSnapshot(
        taken_at=taken_at,
        context=context or None,
        version=version or None,
        prometheus=_source(Source.PROMETHEUS, latest, settings.use_prometheus, prometheus_detail, url),
        kube=_source(Source.KUBE, latest, settings.use_kube, f"context {context}" if context else ""),
        apiserver=facts(Feed.APISERVER),
        etcd=facts(Feed.ETCD),
        nodes=facts(Feed.NODES),
        restarts=facts(Feed.RESTARTS),
        workloads=facts(Feed.WORKLOADS),
        control_plane=facts(Feed.CONTROL_PLANE),
        request_path=facts(Feed.REQUEST_PATH),
        alerts=facts(Feed.ALERTS),
        kube_summary=facts(Feed.KUBE),
        audit=facts(Feed.AUDIT),
        # Only the feeds a snapshot carries facts for; recording-only feeds (kube_objects) stay out.
        feeds=tuple((feed, update.status) for feed, update in latest.items() if feed in SNAPSHOT_FEEDS),
    )
