"""Which drill-down screen a dashboard row's key opens."""

from __future__ import annotations

from k8stop.queries.model.keys import ApiKey, EtcdKey, NodeKey, RowKey
from k8stop.tui.screens.api_detail import ApiDetailScreen
from k8stop.tui.screens.etcd_member import EtcdMemberScreen
from k8stop.tui.screens.node_detail import NodeScreen
from k8stop.tui.screens.pod_detail import PodScreen
from textual.screen import Screen


def drill_screen(key: RowKey) -> Screen[None]:
    if isinstance(key, ApiKey):
        return ApiDetailScreen(key)
    if isinstance(key, EtcdKey):
        return EtcdMemberScreen(key)
    if isinstance(key, NodeKey):
        return NodeScreen(key)
    return PodScreen(key)
