"""Which drill-down screen a dashboard panel's row opens."""

from __future__ import annotations

from k8stop.queries.drill.api import split_key
from k8stop.queries.drill.pod import split_pod_key
from k8stop.tui.screens.api_detail import ApiDetailScreen
from k8stop.tui.screens.etcd_member import EtcdMemberScreen
from k8stop.tui.screens.node_detail import NodeScreen
from k8stop.tui.screens.pod_detail import PodScreen
from textual.screen import Screen


def drill_screen(panel: str, key: str) -> Screen[None] | None:
    """panel is the dashboard panel's id (its feed); key is the selected row's key."""
    if panel == "apiserver":
        return ApiDetailScreen(*split_key(key))
    if panel == "etcd":
        return EtcdMemberScreen(key)
    if panel == "nodes":
        return NodeScreen(key)
    if panel == "restarts":
        return PodScreen(*split_pod_key(key))
    return None
