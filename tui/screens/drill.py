"""Which drill-down screen a dashboard panel's row opens."""

from __future__ import annotations

from k8stop.queries.drill.api import split_key
from k8stop.queries.drill.pod import split_pod_key
from k8stop.queries.feeds.registry import Feed
from k8stop.tui.screens.api_detail import ApiDetailScreen
from k8stop.tui.screens.etcd_member import EtcdMemberScreen
from k8stop.tui.screens.node_detail import NodeScreen
from k8stop.tui.screens.pod_detail import PodScreen
from textual.screen import Screen


def drill_screen(feed: Feed, key: str) -> Screen[None] | None:
    """feed is the one the dashboard panel shows; key is the selected row's key."""
    if feed is Feed.APISERVER:
        return ApiDetailScreen(*split_key(key))
    if feed is Feed.ETCD:
        return EtcdMemberScreen(key)
    if feed is Feed.NODES:
        return NodeScreen(key)
    if feed is Feed.RESTARTS:
        return PodScreen(*split_pod_key(key))
    return None
