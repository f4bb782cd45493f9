"""Fleet snapshots for the headless report: detect the clusters a query backend holds, then
collect one cluster-scoped snapshot per cluster, exactly as a `--cluster` report would.

A cluster's kube API is read only when the config pairs the cluster with a kube context
(`clusters: {prod-us: {context: prod-us-admin}}`): the current context belongs to one cluster
at most, and its pods and events must not be graded as another's.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from k8stop.queries.config import Settings
from k8stop.queries.model.errors import FeedError

if TYPE_CHECKING:
    from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.prom.scope import fleet_clusters, scoped

# Clusters collected at once: each runs its feeds' queries concurrently already.
CONCURRENT_CLUSTERS = 4
# The detection call holds up the first data: a backend that does not answer by then is
# treated as no fleet, and its feeds report why as they would have.
DETECT_TIMEOUT = 3.0


def could_be_fleet(settings: Settings) -> bool:
    """Unscoped, with a cluster label and a Prometheus URL: a Prometheus discovered inside a
    cluster is that cluster's own."""
    return not settings.cluster and bool(settings.cluster_label and settings.use_prometheus and settings.prometheus_url)


async def detect_fleet(settings: Settings) -> tuple[str, ...]:
    """The backend's clusters when this session could be a fleet, else (). A failed call is no
    fleet: the feeds then report the failure themselves."""
    if not could_be_fleet(settings):
        return ()
    from k8stop.queries.prom.client import PromClient

    try:
        async with asyncio.timeout(DETECT_TIMEOUT), PromClient.from_settings(settings) as client:
            return await fleet_clusters(client, settings)
    except (FeedError, TimeoutError):
        return ()


async def unknown_cluster(settings: Settings) -> str | None:
    """Why --cluster names no cluster of the backend, or None (also when it cannot be asked:
    the feeds then say why). A typo would otherwise show an empty dashboard, not an error."""
    if not settings.cluster or not could_be_fleet(replace(settings, cluster=None)):
        return None
    clusters = await detect_fleet(replace(settings, cluster=None))
    if not clusters or settings.cluster in clusters:
        return None
    shown = ", ".join(clusters[:10]) + (f" and {len(clusters) - 10} more" if len(clusters) > 10 else "")
    return f"--cluster {settings.cluster}: no such {settings.cluster_label} in the backend (it holds {shown})"


def cluster_settings(settings: Settings, cluster: str) -> Settings:
    """One cluster's settings in a fleet report: scoped, and the kube API only when paired."""
    one = scoped(settings, cluster)
    return one if settings.context_of(cluster) else replace(one, use_kube=False)


async def collect_fleet(settings: Settings, clusters: tuple[str, ...]) -> list[tuple[Settings, ClusterSnapshot]]:
    from k8stop.queries.feeds.collect import collect_snapshot

    limit = asyncio.Semaphore(CONCURRENT_CLUSTERS)

    async def one(cluster: str) -> tuple[Settings, ClusterSnapshot]:
        own = cluster_settings(settings, cluster)
        async with limit:
            return own, await collect_snapshot(own)

    return list(await asyncio.gather(*(one(c) for c in clusters)))
