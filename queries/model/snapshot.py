"""One consistent picture of the cluster at one instant: what KPIs, findings and reports read.

Facts are optional because any feed may be off, broken or not exposed; the feed statuses
travel with them so every consumer can say *why* something is unknown instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import overload
from urllib.parse import urlsplit, urlunsplit

from k8stop.queries.model.audit import AuditFacts
from k8stop.queries.model.facts import (
    AlertsFacts,
    ApiserverFacts,
    ControlPlaneFacts,
    EtcdFacts,
    KubeSummary,
    NodesFacts,
    RestartsFacts,
    WorkloadsFacts,
)
from k8stop.queries.model.request_path import RequestPathFacts
from k8stop.queries.model.status import FeedState, FeedStatus


class SourceState(StrEnum):
    OK = "ok"
    ERROR = "error"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    state: SourceState
    detail: str = ""
    url: str | None = None  # Prometheus only; never carries credentials (see safe_url)


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    taken_at: float  # unix seconds
    context: str | None
    version: str | None  # Kubernetes server version, e.g. "v1.31.2"
    prometheus: SourceStatus
    kube: SourceStatus
    apiserver: ApiserverFacts | None = None
    etcd: EtcdFacts | None = None
    nodes: NodesFacts | None = None
    restarts: RestartsFacts | None = None
    workloads: WorkloadsFacts | None = None  # containers against their limits (a slow feed)
    control_plane: ControlPlaneFacts | None = None
    request_path: RequestPathFacts | None = None  # admission webhooks
    alerts: AlertsFacts | None = None
    kube_summary: KubeSummary | None = None
    audit: AuditFacts | None = None  # the tuning and sizing audit's readings (a slow feed)
    # Feed name -> status; names match the facts fields above ("apiserver", "etcd", ...,
    # "kube" for the kube summary).
    feeds: tuple[tuple[str, FeedStatus], ...] = ()

    def feed(self, name: str) -> FeedStatus | None:
        for feed, status in self.feeds:
            if feed == name:
                return status
        return None

    def missing_reason(self, feed: str) -> str:
        """Why a feed's facts are absent, phrased for a KPI's or report's detail column."""
        source = self.kube if feed == "kube" else self.prometheus
        if source.state is SourceState.DISABLED:
            which = "kube API" if feed == "kube" else "Prometheus"
            return f"{which} disabled" + (f" ({source.detail})" if source.detail else "")
        status = self.feed(feed)
        if status is not None:
            if status.state is FeedState.NOT_EXPOSED:
                return status.reason or f"{feed} metrics not exposed"
            if status.state in (FeedState.ERROR, FeedState.STALE):
                return f"{feed} feed failing: {status.reason}" if status.reason else f"{feed} feed failing"
            if status.state is FeedState.WAITING:
                return f"waiting for the first {feed} answer"
            if status.state is FeedState.DISABLED:
                return status.reason or f"{feed} feed disabled"
        if source.state is SourceState.ERROR:
            return f"source unreachable: {source.detail}" if source.detail else "source unreachable"
        return f"no {feed} data"


@overload
def safe_url(url: str) -> str: ...
@overload
def safe_url(url: None) -> None: ...
def safe_url(url: str | None) -> str | None:
    """The URL without userinfo, query or fragment (tokens ride in either): fit for
    messages, headers, recordings and reports pasted into tickets."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal lost its brackets in hostname
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: drop it rather than fail on a message
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
