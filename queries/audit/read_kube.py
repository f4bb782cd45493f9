"""Read the control plane's and the nodes' settings through the kube API, GETs only.

Static control-plane pods (kubeadm, kops, kubespray) carry their flags in `command`/`args`;
kubeadm's ClusterConfiguration carries extraArgs; kube-proxy's ConfigMap its
KubeProxyConfiguration; a kubelet serves its live config at /configz through the node proxy.
A 403, a 404 or a managed control plane becomes a `missing` reason, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import yaml
from k8stop.queries.kube.connection import KubeConnection
from k8stop.queries.kube.errors import KubeApiError
from k8stop.queries.kube.parse import parse_quantity
from k8stop.queries.model.audit import ControlPlaneNode, SettingsRead

KUBE_SYSTEM = "/api/v1/namespaces/kube-system"
CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler")
# kubeadm's ClusterConfiguration key for each component's extraArgs
KUBEADM_KEYS = {
    "kube-apiserver": ("apiServer",),
    "kube-controller-manager": ("controllerManager",),
    "kube-scheduler": ("scheduler",),
    "etcd": ("etcd", "local"),
}
CONTROL_PLANE_ROLES = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
KUBELET_SAMPLE = 3  # kubelets asked for /configz: a few, never every node
KUBELET_KEYS = (
    "serializeImagePulls",
    "maxParallelImagePulls",
    "kubeReserved",
    "systemReserved",
    "evictionHard",
    "maxPods",
)
PROXY_KEYS = (
    "mode",
    "iptables.minSyncPeriod",
    "iptables.syncPeriod",
    "ipvs.minSyncPeriod",
    "ipvs.syncPeriod",
    "nftables.minSyncPeriod",
    "conntrack.maxPerCore",
    "conntrack.min",
)

Json = Any
# Only the flags the audit grades are kept (recordings store the readings): a command line can
# carry secrets other installers pass inline, and nothing else is shown anyway.
EXTRA_FLAGS = ("--watch-cache", "--initial-cluster")
MAX_VALUE = 300
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """Cluster text made safe for a terminal: control characters (ESC, C1) replaced, length capped."""
    return _CONTROLS.sub("?", str(text))[:MAX_VALUE]


def kept_flags() -> frozenset[str]:
    from k8stop.queries.audit.table import SETTINGS

    return frozenset(s.setting for s in SETTINGS if s.setting.startswith("--")) | frozenset(EXTRA_FLAGS)


def why_not(exc: KubeApiError, what: str, permission: str) -> str:
    """One line naming what could not be read and, for a 403, the RBAC permission it needs."""
    if exc.status == 403:
        return f"{what}: forbidden (needs RBAC {permission})"
    if exc.status == 404:
        return f"{what}: not found"
    return f"{what}: {exc}"


# --- flags ------------------------------------------------------------------------------------


def parse_flags(words: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`--name=value` and `--name value` pairs; a bare `--name` is "true" (as pflag reads it)."""
    flags: list[tuple[str, str]] = []
    items = [str(w) for w in words]
    i = 0
    while i < len(items):
        word = items[i]
        i += 1
        if not word.startswith("--"):
            continue
        if "=" in word:
            name, value = word.split("=", 1)
        elif i < len(items) and not items[i].startswith("-"):
            name, value = word, items[i]
            i += 1
        else:
            name, value = word, "true"
        flags.append((printable(name), printable(value)))
    return tuple(flags)


def component_of(pod: Json) -> str | None:
    """The control-plane component a pod runs: its `component` label, else its name prefix."""
    meta = pod.get("metadata") or {}
    label = (meta.get("labels") or {}).get("component")
    if label in CONTROL_PLANE_COMPONENTS:
        return str(label)
    name = str(meta.get("name") or "")
    return next((c for c in CONTROL_PLANE_COMPONENTS if name.startswith(f"{c}-")), None)


def pod_flags(pod: Json, component: str) -> tuple[tuple[str, str], ...]:
    for container in (pod.get("spec") or {}).get("containers") or ():
        if container.get("name") == component or len((pod.get("spec") or {}).get("containers") or ()) == 1:
            return parse_flags([*(container.get("command") or ()), *(container.get("args") or ())])
    return ()


async def static_pods(connection: KubeConnection) -> tuple[dict[str, list[Json]], str]:
    """Control-plane pods by component, and why none could be read ("" when some were)."""
    pods: list[Json] = []
    try:
        # kubeadm labels them tier=control-plane; other installers only name them by prefix.
        data = await connection.get_json(
            f"{KUBE_SYSTEM}/pods", (("labelSelector", "tier=control-plane"),), what="list pods in kube-system"
        )
        pods = list(data.get("items") or ())
        if not pods:
            token = ""
            while True:
                params: list[tuple[str, str | int | bool]] = [("limit", 500)]
                if token:
                    params.append(("continue", token))
                page = await connection.get_json(f"{KUBE_SYSTEM}/pods", params, what="list pods in kube-system")
                pods.extend(p for p in page.get("items") or () if component_of(p) is not None)
                token = str((page.get("metadata") or {}).get("continue") or "")
                if not token:
                    break
    except KubeApiError as exc:
        return {}, why_not(exc, "control-plane pods", 'list pods in namespace "kube-system"')
    by_component: dict[str, list[Json]] = {}
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name"))):
        component = component_of(pod)
        if component is not None:
            by_component.setdefault(component, []).append(pod)
    return by_component, ""


async def kubeadm_extra_args(connection: KubeConnection) -> tuple[dict[str, tuple[tuple[str, str], ...]], str]:
    """extraArgs per component from kube-system/kubeadm-config (v1beta3 maps and v1beta4 lists)."""
    try:
        data = await connection.get_json(
            f"{KUBE_SYSTEM}/configmaps/kubeadm-config", what="get configmap kube-system/kubeadm-config"
        )
        config = yaml.safe_load(str((data.get("data") or {}).get("ClusterConfiguration") or "")) or {}
    except KubeApiError as exc:
        return {}, why_not(exc, "kubeadm ClusterConfiguration", 'get configmaps in namespace "kube-system"')
    except yaml.YAMLError:
        return {}, "kubeadm ClusterConfiguration is not valid YAML"
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for component, path in KUBEADM_KEYS.items():
        node: Json = config
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        extra = node.get("extraArgs") if isinstance(node, dict) else None
        if isinstance(extra, dict):
            out[component] = tuple((printable(f"--{k}"), printable(v)) for k, v in extra.items())
        elif isinstance(extra, list):
            out[component] = tuple(
                (printable(f"--{e.get('name')}"), printable(e.get("value")))
                for e in extra
                if isinstance(e, dict) and e.get("name")
            )
    return out, ""


def component_reads(
    pods: Mapping[str, list[Json]],
    pods_missing: str,
    kubeadm: Mapping[str, tuple[tuple[str, str], ...]],
    kubeadm_missing: str,
) -> tuple[SettingsRead, ...]:
    reads = []
    kept = kept_flags()
    for component in CONTROL_PLANE_COMPONENTS:
        found = pods.get(component) or []
        if found:
            meta = found[0].get("metadata") or {}
            where = f"pod kube-system/{meta.get('name')} command/args"
            if len(found) > 1:
                where += f" (1 of {len(found)} replicas)"
            flags = tuple(f for f in pod_flags(found[0], component) if f[0] in kept)
            reads.append(SettingsRead(component, flags, printable(where)))
        elif component in kubeadm:
            flags = tuple(f for f in kubeadm[component] if f[0] in kept)
            reads.append(SettingsRead(component, flags, "kubeadm ClusterConfiguration extraArgs"))
        else:
            why = pods_missing or f"no {component} static pod in kube-system (managed control plane?)"
            if kubeadm_missing and "not found" not in kubeadm_missing:
                why += f"; {kubeadm_missing}"
            reads.append(SettingsRead(component, (), "", missing=why))
    return tuple(reads)


def initial_cluster_members(pods: Mapping[str, list[Json]]) -> int:
    for pod in pods.get("etcd") or ():
        value = dict(pod_flags(pod, "etcd")).get("--initial-cluster")
        if value:
            return len([m for m in value.split(",") if m.strip()])
    return 0


# --- kube-proxy -------------------------------------------------------------------------------


def flatten(config: Mapping[str, Any], keys: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Dotted keys of a nested config as strings; maps as `k=v,k=v` in key order; absent keys left out."""
    out = []
    for key in keys:
        node: Any = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None or node == "":
            continue
        if isinstance(node, Mapping):
            text = ",".join(f"{k}={v}" for k, v in sorted(node.items(), key=lambda kv: str(kv[0])))
            out.append((key, printable(text) if text else "{}"))
        elif isinstance(node, bool):
            out.append((key, "true" if node else "false"))
        else:
            out.append((key, printable(node)))
    return tuple(out)


async def kube_proxy(connection: KubeConnection) -> SettingsRead:
    where = "configmap kube-system/kube-proxy"
    try:
        data = await connection.get_json(f"{KUBE_SYSTEM}/configmaps/kube-proxy", what=f"get {where}")
    except KubeApiError as exc:
        why = why_not(exc, where, 'get configmaps in namespace "kube-system"')
        if exc.status == 404:
            why += " (kube-proxy configured another way, or replaced by an eBPF CNI)"
        return SettingsRead("kube-proxy", (), where, missing=why)
    for key, text in sorted((data.get("data") or {}).items()):
        try:
            config = yaml.safe_load(str(text))
        except yaml.YAMLError:
            continue
        if isinstance(config, dict) and config.get("kind") == "KubeProxyConfiguration":
            return SettingsRead("kube-proxy", flatten(config, PROXY_KEYS), f"{where} ({printable(key)})")
    return SettingsRead("kube-proxy", (), where, missing=f"{where} holds no KubeProxyConfiguration")


# --- nodes ------------------------------------------------------------------------------------


def _capacity(node: Json) -> ControlPlaneNode:
    capacity = (node.get("status") or {}).get("capacity") or {}
    try:
        cpu = float(parse_quantity(capacity.get("cpu", "0")))
        memory = float(parse_quantity(capacity.get("memory", "0")))
    except ValueError:
        cpu = memory = 0.0
    return ControlPlaneNode(printable((node.get("metadata") or {}).get("name")), cpu, memory)


async def control_plane_nodes(connection: KubeConnection) -> tuple[tuple[ControlPlaneNode, ...], str]:
    try:
        for role in CONTROL_PLANE_ROLES:
            data = await connection.get_json("/api/v1/nodes", (("labelSelector", role),), what="list nodes")
            items = data.get("items") or ()
            if items:
                return tuple(_capacity(n) for n in items), ""
    except KubeApiError as exc:
        return (), why_not(exc, "control-plane nodes", "list nodes")
    return (), ""


async def sample_nodes(connection: KubeConnection, cp_nodes: Iterable[ControlPlaneNode]) -> tuple[list[str], str]:
    """A few worker nodes (the kubelets that run the workloads), else control-plane ones."""
    try:
        data = await connection.get_json(
            "/api/v1/nodes",
            (("labelSelector", f"!{CONTROL_PLANE_ROLES[0]}"), ("limit", KUBELET_SAMPLE)),
            what="list nodes",
        )
    except KubeApiError as exc:
        return [], why_not(exc, "nodes", "list nodes")
    names = [printable((n.get("metadata") or {}).get("name")) for n in data.get("items") or ()][:KUBELET_SAMPLE]
    names += [n.name for n in cp_nodes][: KUBELET_SAMPLE - len(names)]
    return names, ""


async def kubelet_config(connection: KubeConnection, node: str) -> SettingsRead:
    path = f"/api/v1/nodes/{quote(node, safe='')}/proxy/configz"
    try:
        data = await connection.get_json(path, what=f"get {path}", timeout=10.0)
    except KubeApiError as exc:
        return SettingsRead("kubelet", (), node, missing=why_not(exc, "kubelet configz", "get nodes/proxy"))
    config = data.get("kubeletconfig") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return SettingsRead("kubelet", (), node, missing=f"{path} answered without a kubeletconfig")
    return SettingsRead("kubelet", flatten(config, KUBELET_KEYS), node)
