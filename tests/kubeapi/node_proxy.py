"""The node proxy's kubelet endpoints: GET /api/v1/nodes/NAME/proxy/configz.

A real kubelet answers /configz with `{"kubeletconfig": {...}}`, its live KubeletConfiguration
with defaults filled in. Every node serves upstream's defaults unless a test sets a config for
one node or for all (`set`, `set_default`); faults (e.g. 403 for an RBAC-limited user) come from
the server's FaultBook like any other path.
"""

from __future__ import annotations

import copy
import re
import threading

from .objects import Obj

NODE_PROXY = re.compile(r"^/api/v1/nodes/(?P<node>[^/]+)/proxy/(?P<rest>.*)$")


def upstream_kubelet_defaults() -> Obj:
    """The defaults a v1.29 kubelet reports (kubelet config reference), the fields k8stop reads and a few more."""
    return {
        "kind": "KubeletConfiguration",
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "serializeImagePulls": True,
        "maxPods": 110,
        "podsPerCore": 0,
        "evictionHard": {
            "imagefs.available": "15%",
            "memory.available": "100Mi",
            "nodefs.available": "10%",
            "nodefs.inodesFree": "5%",
        },
        "containerLogMaxSize": "10Mi",
        "containerLogMaxFiles": 5,
        "maxOpenFiles": 1000000,
        "hairpinMode": "promiscuous-bridge",
        "cgroupDriver": "systemd",
        "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
    }


class KubeletConfigBook:
    def __init__(self) -> None:
        self._default = upstream_kubelet_defaults()
        self._per_node: dict[str, Obj] = {}
        self._lock = threading.Lock()

    def set_default(self, changes: Obj) -> None:
        """Fields every kubelet reports from now on, over upstream's defaults."""
        with self._lock:
            self._default = {**upstream_kubelet_defaults(), **changes}

    def set(self, node: str, changes: Obj) -> None:
        with self._lock:
            self._per_node[node] = {**self._default, **changes}

    def configz(self, node: str) -> Obj:
        with self._lock:
            return {"kubeletconfig": copy.deepcopy(self._per_node.get(node, self._default))}


def node_proxy_target(path: str) -> tuple[str, str] | None:
    """(node, path on the kubelet) for a node proxy path, else None."""
    match = NODE_PROXY.match(path)
    return (match["node"], match["rest"]) if match else None
