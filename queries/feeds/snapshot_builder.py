"""A ClusterSnapshot from the latest feed updates the app holds (live or replayed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus
from k8stop.queries.model.status import FeedState, FeedUpdate

PROMETHEUS_FEEDS = ("apiserver", "etcd", "nodes", "restarts", "control_plane", "alerts")


SNAPSHOT_FEEDS = ("apiserver", "etcd", "nodes", "restarts", "control_plane", "alerts", "kube", "audit")


def _source(
    latest: Mapping[str, FeedUpdate[Any]], feeds: tuple[str, ...], enabled: bool, url: str | None
) -> SourceStatus:
    if not enabled:
        return SourceStatus(SourceState.DISABLED, "turned off", url)
    updates = [latest[f] for f in feeds if f in latest]
    if updates and all(u.status.state is FeedState.ERROR for u in updates):
        return SourceStatus(SourceState.ERROR, updates[0].status.reason, url)
    return SourceStatus(SourceState.OK, "", url)


def snapshot_from_feeds(
    latest: Mapping[str, FeedUpdate[Any]],
    taken_at: float,
    *,
    context: str | None = None,
    version: str | None = None,
    prometheus_enabled: bool = True,
    kube_enabled: bool = True,
    prometheus_url: str | None = None,
) -> ClusterSnapshot:
    def facts(feed: str) -> Any:
        update = latest.get(feed)
        return update.facts if update is not None else None

    return ClusterSnapshot(
        taken_at=taken_at,
        context=context or None,
        version=version or None,
        prometheus=_source(latest, PROMETHEUS_FEEDS, prometheus_enabled, prometheus_url),
        kube=_source(latest, ("kube",), kube_enabled, None),
        apiserver=facts("apiserver"),
        etcd=facts("etcd"),
        nodes=facts("nodes"),
        restarts=facts("restarts"),
        control_plane=facts("control_plane"),
        alerts=facts("alerts"),
        kube_summary=facts("kube"),
        audit=facts("audit"),
        # Only the feeds a snapshot carries facts for; recording-only feeds (kube_objects) stay out.
        feeds=tuple((feed, update.status) for feed, update in latest.items() if feed in SNAPSHOT_FEEDS),
    )
