"""k8stop's own Kubernetes API test server: a lazy cluster model served over aiohttp."""

from __future__ import annotations

from .cluster import Cluster, Expired, WatchEvent
from .faults import Fault
from .kubeconfig import write_kubeconfig
from .server import KubeApiServer, RequestRecord, ThreadedKubeApiServer

__all__ = [
    "Cluster",
    "Expired",
    "Fault",
    "KubeApiServer",
    "RequestRecord",
    "ThreadedKubeApiServer",
    "WatchEvent",
    "write_kubeconfig",
]
