"""Static discovery documents: /version, /api, /apis, the core/v1 and metrics.k8s.io resource lists."""

from __future__ import annotations

from .objects import Obj

VERSION: Obj = {
    "major": "1",
    "minor": "29",
    "gitVersion": "v1.29.3",
    "gitCommit": "6813625b7cd706db5bc7388921be03071e1a492d",
    "gitTreeState": "clean",
    "buildDate": "2024-03-14T23:58:36Z",
    "goVersion": "go1.21.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}

METRICS_GROUP = "metrics.k8s.io"
METRICS_VERSION = "v1beta1"

_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _resource(
    name: str,
    singular: str,
    kind: str,
    namespaced: bool,
    short: list[str] | None = None,
    categories: list[str] | None = None,
    verbs: list[str] | None = None,
) -> Obj:
    res: Obj = {
        "name": name,
        "singularName": singular,
        "namespaced": namespaced,
        "kind": kind,
        "verbs": verbs or sorted(_READ + _WRITE),
    }
    if short:
        res["shortNames"] = short
    if categories:
        res["categories"] = categories
    return res


CORE_V1: Obj = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        _resource("configmaps", "configmap", "ConfigMap", True, ["cm"]),
        _resource("events", "event", "Event", True, ["ev"]),
        _resource("namespaces", "namespace", "Namespace", False, ["ns"]),
        _resource("nodes", "node", "Node", False, ["no"]),
        _resource("nodes/proxy", "", "NodeProxyOptions", False, verbs=["create", "delete", "get", "patch", "update"]),
        _resource("pods", "pod", "Pod", True, ["po"], ["all"]),
        _resource("pods/log", "", "Pod", True, verbs=["get"]),
        _resource("pods/status", "", "Pod", True, verbs=["get", "patch", "update"]),
        _resource("services", "service", "Service", True, ["svc"], ["all"]),
        _resource(
            "services/proxy", "", "ServiceProxyOptions", True, verbs=["create", "delete", "get", "patch", "update"]
        ),
    ],
}

METRICS_V1BETA1: Obj = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": f"{METRICS_GROUP}/{METRICS_VERSION}",
    "resources": [
        _resource("nodes", "", "NodeMetrics", False, verbs=["get", "list"]),
        _resource("pods", "", "PodMetrics", True, verbs=["get", "list"]),
    ],
}

METRICS_GROUP_DOC: Obj = {
    "name": METRICS_GROUP,
    "versions": [{"groupVersion": f"{METRICS_GROUP}/{METRICS_VERSION}", "version": METRICS_VERSION}],
    "preferredVersion": {"groupVersion": f"{METRICS_GROUP}/{METRICS_VERSION}", "version": METRICS_VERSION},
}


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_groups() -> Obj:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [METRICS_GROUP_DOC]}


def api_group(name: str) -> Obj | None:
    return {"kind": "APIGroup", "apiVersion": "v1", **METRICS_GROUP_DOC} if name == METRICS_GROUP else None
