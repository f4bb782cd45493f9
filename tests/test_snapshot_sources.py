"""The one snapshot builder: a source's status in the snapshot the TUI, a replay and the
headless report grade is read from its own feeds, the same way in all three."""

from __future__ import annotations

import socket

from k8stop.queries.config import Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.facts import SOURCE_APISERVER_METRICS
from k8stop.queries.model.snapshot import SourceState
from k8stop.queries.model.status import FeedState
from k8stop.tui.app import K8sTopApp
from screen import wait_for


def dead_url() -> str:
    """A loopback port nothing listens on: every Prometheus query is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_tui_snapshot_says_prometheus_failed_while_kube_serves_nodes(kubeconfig_path) -> None:
    settings = Settings(prometheus_url=dead_url(), kubeconfig=str(kubeconfig_path), refresh=0.5, query_timeout=2.0)
    app = K8sTopApp(settings, LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:

        def served(feed: str) -> bool:
            update = app.latest.get(feed)
            return update is not None and update.facts is not None

        await wait_for(
            pilot,
            lambda: (
                served("nodes")
                and served("restarts")
                and served("apiserver")
                and served("etcd")
                and "control_plane" in app.latest
            ),
            what="nodes, restarts and API figures from the kube API",
        )
        snap = app.snapshot()
    # nodes, restarts, API server and etcd are OK through the kube fallbacks (the API server's
    # /metrics for the last two); they must not vouch for Prometheus
    for feed in ("nodes", "apiserver", "etcd"):
        assert snap.feed(feed).state is FeedState.OK and "Prometheus failed" in snap.feed(feed).warnings[0], feed
    assert snap.apiserver is not None and snap.apiserver.source == SOURCE_APISERVER_METRICS
    assert snap.feed("control_plane").state is FeedState.ERROR
    assert snap.prometheus.state is SourceState.ERROR, snap.prometheus
    assert snap.prometheus.detail == snap.feed("control_plane").reason
    assert snap.kube.state is SourceState.OK
    assert snap.nodes is not None and snap.nodes.source == "metrics-server"


async def test_headless_snapshot_reads_sources_the_same_way(kubeconfig_path) -> None:
    settings = Settings(prometheus_url=dead_url(), kubeconfig=str(kubeconfig_path), query_timeout=2.0)
    snap = await collect_snapshot(settings)
    for feed in ("nodes", "apiserver", "etcd"):
        assert snap.feed(feed).state is FeedState.OK and "Prometheus failed" in snap.feed(feed).warnings[0], feed
    assert snap.etcd is not None and snap.etcd.source == SOURCE_APISERVER_METRICS and snap.etcd.api_requests
    for feed in ("control_plane", "alerts"):
        assert snap.feed(feed).state is FeedState.ERROR, feed
    assert snap.prometheus.state is SourceState.ERROR
    assert snap.kube.state is SourceState.OK and snap.kube_summary is not None and snap.kube_summary.synced
