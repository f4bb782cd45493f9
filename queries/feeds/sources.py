"""Open a cluster's data sources from settings: the kube connection and feed, and Prometheus
(given by URL, or discovered in the cluster and reached through the API server's proxy).

Shared by the live app and the headless report. Heavy imports happen inside `open_sources`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from k8stop.queries.config import Settings
from k8stop.queries.model.errors import FeedError, describe
from k8stop.queries.model.sanitize import clean

if TYPE_CHECKING:
    from k8stop.queries.kube.connection import KubeConnection
    from k8stop.queries.kube.feed import KubeFeed
    from k8stop.queries.prom.client import PromClient
    from k8stop.queries.prom.facts_source import PrometheusFacts


class Source(StrEnum):
    PROMETHEUS = "prometheus"
    KUBE = "kube"

    @property
    def flag(self) -> str:
        """The flag that turns this source off."""
        return "--no-prometheus" if self is Source.PROMETHEUS else "--no-kube"


@dataclass(slots=True)
class Sources:
    settings: Settings
    connection: KubeConnection | None = None
    kube: KubeFeed | None = None
    prom_client: PromClient | None = None
    prometheus: PrometheusFacts | None = None
    context: str = ""
    version: str = ""
    prometheus_description: str = ""  # which Prometheus and how it was found; no credentials
    prometheus_label: str = ""  # the same, short enough for an 80-column header
    prometheus_url: str | None = None  # without credentials
    kube_error: str = ""
    prometheus_error: str = ""

    def has(self, source: Source) -> bool:
        return (self.prometheus if source is Source.PROMETHEUS else self.kube) is not None

    def enabled(self, source: Source) -> bool:
        return self.settings.use_prometheus if source is Source.PROMETHEUS else self.settings.use_kube

    def error(self, source: Source) -> str:
        return self.prometheus_error if source is Source.PROMETHEUS else self.kube_error

    async def close(self) -> None:
        if self.kube is not None:
            await self.kube.stop()
        if self.prom_client is not None:
            await self.prom_client.close()
        if self.connection is not None:
            await self.connection.close()


async def open_sources(settings: Settings, clock: Callable[[], float] = time.time) -> Sources:
    """Never raises for an unreachable source: the error is kept for its feeds to report."""
    sources = Sources(settings, context=settings.context or "")
    if settings.use_kube:
        try:
            from k8stop.queries.http_limits import limits_from
            from k8stop.queries.kube.connection import connect
            from k8stop.queries.kube.feed import KubeFeed

            sources.connection = await connect(settings.kubeconfig, settings.context, limits=limits_from(settings))
            sources.context = sources.connection.context
            sources.kube = KubeFeed(sources.connection, settings.namespace, clock=clock)
            sources.kube.start()
            try:
                sources.version = await sources.connection.version()
            except Exception as exc:  # the kube feed reports the failure in detail
                sources.version = f"version ? ({describe(exc)})"
        except Exception as exc:
            sources.kube_error = describe(exc)
    if settings.use_prometheus:
        try:
            await _open_prometheus(sources, clock)
        except Exception as exc:
            sources.prometheus_error = describe(exc)
    # The server's version and a discovered Service's name are cluster data (model/sanitize.py)
    sources.version = clean(sources.version)
    sources.prometheus_description = clean(sources.prometheus_description)
    sources.prometheus_label = clean(sources.prometheus_label)
    return sources


async def _open_prometheus(sources: Sources, clock: Callable[[], float]) -> None:
    from k8stop.queries.model.snapshot import safe_url
    from k8stop.queries.prom.client import PromClient
    from k8stop.queries.prom.facts_source import PrometheusFacts

    s = sources.settings
    if s.prometheus_url:
        sources.prom_client = PromClient.from_settings(s)
        sources.prometheus_url = safe_url(s.prometheus_url)
        sources.prometheus_description = f"{sources.prometheus_url} (--prometheus-url)"
        sources.prometheus_label = sources.prometheus_url
    else:
        connection = sources.connection
        if connection is None:
            from k8stop.queries.prom.discovery import POINT_AT_PROMETHEUS

            raise FeedError(
                "no --prometheus-url, and no cluster to discover one in"
                + (f" ({sources.kube_error})" if sources.kube_error else "")
                + f": {POINT_AT_PROMETHEUS}"
            )
        from k8stop.queries.prom.discovery import discover_prometheus

        found = await discover_prometheus(connection)
        _, ssl_context = await connection.aiohttp_auth()

        async def kube_credentials() -> dict[str, str]:
            return (await connection.aiohttp_auth())[0]

        sources.prom_client = PromClient.from_settings(
            s,
            url=found.url,
            ssl_context=ssl_context,
            auth_headers=kube_credentials,
            read_only_get=True,
            max_body=connection.limits.max_body,
        )
        sources.prometheus_url = safe_url(found.url)
        sources.prometheus_description = f"{found.description} (discovered)"
        sources.prometheus_label = found.label
    kube_nodes = sources.kube.node_addresses if sources.kube is not None else None
    sources.prometheus = PrometheusFacts(sources.prom_client, s, clock, kube_nodes)
    if not sources.version:
        try:
            sources.version = await sources.prometheus.cluster_version() or ""
        except Exception:  # only the header's version is missing; the feeds report the failure
            sources.version = ""
