"""A large cluster rendered on demand from object indexes (deterministic for a seed).

Pods come in workloads of `replicas` pods; workload w lives in namespace team-(w mod N).
Every pod name encodes its index (Deployment pods end in a 5-letter suffix, StatefulSet
pods in `-<w>-<ordinal>`), so a name maps back to its index without any table.
Deterministic defects: one workload in 101 crash-loops (OOMKilled, exit 137), about one
pod in 1009 is Pending (unschedulable), one node in 499 has DiskPressure, one in 997 is
NotReady.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from functools import partial

from . import objects as o
from .scenario import PROMETHEUS_SERVICE
from .store import Key, LazySource, Store

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
APPS = ("api", "web", "cart", "search", "auth", "billing", "catalog", "orders", "notify", "media", "ledger", "gateway")
BASE_RV = 1000  # every generated object carries this rv; the cluster starts above it
CONTROL_PLANE_NODES = 3
EVENTS_PER_WORKLOAD = 1


def encode(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, len(ALPHABET))
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def decode(text: str) -> int | None:
    n = 0
    for ch in text:
        d = ALPHABET.find(ch)
        if d < 0:
            return None
        n = n * len(ALPHABET) + d
    return n


@functools.lru_cache(maxsize=4096)  # a page of pods hits few workloads; the hash is the hot path
def _template_hash(w: int, seed: int) -> str:
    return encode((w * 2654435761 + seed) % len(ALPHABET) ** 9, 9)


class Layout:
    """Index arithmetic shared by every lazy source of one generated cluster."""

    def __init__(self, nodes: int, pods: int, seed: int, replicas: int) -> None:
        self.nodes, self.pods, self.seed, self.replicas = nodes, pods, seed, replicas
        self.workloads = math.ceil(pods / replicas) if pods else 0
        self.namespaces = max(1, math.ceil(pods / 2500))  # well under the 3,000 pods/namespace limit
        self.control_plane = CONTROL_PLANE_NODES if nodes > 2 * CONTROL_PLANE_NODES else 0

    # --- nodes ---

    def node_name(self, i: int) -> str:
        return f"node-{i:05d}"

    def node_spec(self, i: int) -> o.NodeSpec:
        conditions: tuple[tuple[str, str, str], ...] = ()
        if (i * 17 + self.seed) % 499 == 0:
            conditions += (("DiskPressure", "True", "KubeletHasDiskPressure"),)
        if (i * 29 + self.seed) % 997 == 0:
            conditions += (("Ready", "Unknown", "NodeStatusUnknown"),)
        cp = i < self.control_plane
        return o.NodeSpec(
            name=self.node_name(i),
            control_plane=cp,
            cpu=8 if cp else 16,
            memory_gi=32 if cp else 64,
            ip=f"10.0.{i >> 8}.{i & 255}",
            zone=f"zone-{'abc'[i % 3]}",
            created=-86400.0 + i,
            conditions=conditions,
        )

    def node_index(self, _ns: str, name: str) -> int | None:
        if not name.startswith("node-") or not name[5:].isdigit():
            return None
        i = int(name[5:])
        return i if i < self.nodes and name == self.node_name(i) else None

    def node_selectable(self, i: int) -> tuple[Mapping[str, str], Mapping[str, str]]:
        name = self.node_name(i)
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": f"zone-{'abc'[i % 3]}",
        }
        if i < self.control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
        return {"metadata.name": name, "spec.unschedulable": ""}, labels

    # --- workloads and pods ---

    def namespace_of(self, w: int) -> str:
        return f"team-{w % self.namespaces:03d}"

    def workload_name(self, w: int) -> str:
        return f"{APPS[(w * 31 + self.seed) % len(APPS)]}-{w:05d}"

    def is_statefulset(self, w: int) -> bool:
        return (w + self.seed) % 10 == 9

    def crashlooping(self, w: int) -> bool:
        return (w * 13 + self.seed) % 101 == 0

    def template_hash(self, w: int) -> str:
        return _template_hash(w, self.seed)

    def pod_name(self, i: int) -> str:
        w = i // self.replicas
        if self.is_statefulset(w):
            return f"{self.workload_name(w)}-{i % self.replicas}"
        return f"{self.workload_name(w)}-{self.template_hash(w)}-{encode(i, 5)}"

    def pod_key(self, i: int) -> Key:
        return self.namespace_of(i // self.replicas), self.pod_name(i)

    def pod_index(self, namespace: str, name: str) -> int | None:
        head, _, last = name.rpartition("-")
        candidates: list[int | None] = []
        w_text = head.rpartition("-")[2]
        if last.isdigit() and w_text.isdigit():  # StatefulSet: <app>-<w>-<ordinal>
            candidates.append(int(w_text) * self.replicas + int(last))
        if len(last) == 5:  # Deployment: a suffix may be all digits too, so try both readings
            candidates.append(decode(last))
        for i in candidates:
            if i is not None and i < self.pods and self.pod_key(i) == (namespace, name):
                return i
        return None

    def pod_node(self, i: int) -> str | None:
        if (i * 7 + self.seed) % 1009 == 0 or self.nodes == 0:
            return None
        workers = self.nodes - self.control_plane
        return self.node_name(self.control_plane + (i * 2654435761 + self.seed) % workers)

    def pod_labels(self, i: int) -> dict[str, str]:
        w = i // self.replicas
        app = self.workload_name(w)
        labels = {"app": app, "app.kubernetes.io/name": app}
        if self.is_statefulset(w):
            labels["statefulset.kubernetes.io/pod-name"] = self.pod_name(i)
        else:
            labels["pod-template-hash"] = self.template_hash(w)
        return labels

    def pod_selectable(self, i: int) -> tuple[Mapping[str, str], Mapping[str, str]]:
        ns, name = self.pod_key(i)
        node = self.pod_node(i)
        fields = {
            "metadata.name": name,
            "metadata.namespace": ns,
            "spec.nodeName": node or "",
            "status.phase": "Running" if node else "Pending",
            "spec.restartPolicy": "Always",
            "spec.schedulerName": "default-scheduler",
            "spec.serviceAccountName": "default",
            "status.podIP": self.pod_ip(i) if node else "",
        }
        return fields, self.pod_labels(i)

    def pod_ip(self, i: int) -> str:
        return f"10.{64 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"

    def pod_spec(self, i: int) -> o.PodSpec:
        w = i // self.replicas
        app = self.workload_name(w)
        node = self.pod_node(i)
        image = f"registry.example.com/{app.rsplit('-', 1)[0]}:1.{w % 20}.{w % 7}"
        containers = (
            o.ContainerSpec(
                app.rsplit("-", 1)[0],
                image,
                f"{100 + 50 * (w % 5)}m",
                f"{128 << (w % 4)}Mi",
                f"{500 + 250 * (w % 3)}m",
                f"{256 << (w % 4)}Mi",
                8080,
            ),
        )
        if w % 3 == 0:
            containers += (
                o.ContainerSpec("envoy", "docker.io/envoyproxy/envoy:v1.29.2", "50m", "64Mi", "200m", "128Mi", 15000),
            )
        if self.crashlooping(w):
            states: tuple[o.ContainerState, ...] = (
                o.ContainerState(
                    restarts=5 + i % 40,
                    ready=False,
                    waiting_reason="CrashLoopBackOff",
                    last_terminated_reason="OOMKilled",
                    last_exit_code=137,
                ),
            )
        elif (i * 3 + self.seed) % 53 == 0:
            states = (o.ContainerState(restarts=1 + i % 3, last_terminated_reason="Error", last_exit_code=1),)
        else:
            states = ()
        node_index = int(node[5:]) if node else 0
        sts = self.is_statefulset(w)
        return o.PodSpec(
            namespace=self.namespace_of(w),
            name=self.pod_name(i),
            node=node,
            app=app,
            owner_kind="StatefulSet" if sts else "ReplicaSet",
            owner_name=app if sts else f"{app}-{self.template_hash(w)}",
            containers=containers,
            states=states,
            phase="Running" if node else "Pending",
            pod_ip=self.pod_ip(i),
            host_ip=f"10.0.{node_index >> 8}.{node_index & 255}",
            created=float(i),
            pod_template_hash="" if sts else self.template_hash(w),
        )

    # --- services (one per workload, capped at the 10,000-services scale limit) ---

    def service_count(self) -> int:
        return min(self.workloads, 10000)

    def service_index(self, namespace: str, name: str) -> int | None:
        tail = name.rpartition("-")[2]
        if not tail.isdigit():
            return None
        w = int(tail)
        return (
            w
            if w < self.service_count() and (self.namespace_of(w), self.workload_name(w)) == (namespace, name)
            else None
        )

    def service(self, w: int) -> o.Obj:
        return o.make_service(
            self.namespace_of(w),
            self.workload_name(w),
            8080,
            BASE_RV,
            cluster_ip=f"10.96.{(w >> 8) & 255}.{w & 255}",
            created=float(w),
        )

    # --- events: one per workload, about its first pod ---

    def event_pod(self, j: int) -> int:
        return j * self.replicas

    def event_name(self, j: int) -> str:
        return f"{self.pod_name(self.event_pod(j))}.{(j * 2654435761 + self.seed) % (1 << 64):016x}"

    def event_index(self, namespace: str, name: str) -> int | None:
        pod_index = self.pod_index(namespace, name.rpartition(".")[0])
        if pod_index is None or pod_index % self.replicas:
            return None
        j = pod_index // self.replicas
        return j if self.event_name(j) == name else None

    def event_selectable(self, j: int) -> tuple[Mapping[str, str], Mapping[str, str]]:
        obj = self.event(j)
        inv = obj["involvedObject"]
        return {
            "metadata.name": obj["metadata"]["name"],
            "metadata.namespace": obj["metadata"]["namespace"],
            "involvedObject.kind": "Pod",
            "involvedObject.name": inv["name"],
            "involvedObject.namespace": inv["namespace"],
            "involvedObject.uid": inv["uid"],
            "involvedObject.apiVersion": "v1",
            "reason": obj["reason"],
            "type": obj["type"],
            "source": obj["source"]["component"],
            "reportingComponent": obj["reportingComponent"],
        }, {}

    def event(self, j: int) -> o.Obj:
        i = self.event_pod(j)
        ns, pod = self.pod_key(i)
        node = self.pod_node(i)
        w = i // self.replicas
        if node is None:
            args = (
                "FailedScheduling",
                f"0/{self.nodes} nodes are available: Insufficient cpu.",
                "Warning",
                "default-scheduler",
            )
        elif self.crashlooping(w):
            args = ("BackOff", f"Back-off restarting failed container in pod {pod}_{ns}", "Warning", "kubelet")
        else:
            args = ("Started", "Started container", "Normal", "kubelet")
        reason, message, type_, component = args
        return o.make_event(
            ns,
            self.event_name(j),
            "Pod",
            pod,
            reason,
            message,
            type_,
            BASE_RV,
            count=1 + (5 + i % 40) * 4 if reason == "BackOff" else 1,
            first=float(i),
            last=float(i) + 3600.0,
            component=component,
            host=node,
        )


def generated_stores(
    nodes: int, pods: int, seed: int = 1, replicas: int = 10
) -> tuple[list[Store], list[tuple[str, o.Obj]], int]:
    """Lazy stores, the explicit objects to load on top, and the starting resourceVersion."""
    lay = Layout(nodes, pods, seed, replicas)
    node_source = LazySource(
        nodes,
        lambda i: ("", lay.node_name(i)),
        lay.node_index,
        lay.node_selectable,
        lambda i: o.make_node(lay.node_spec(i), BASE_RV),
    )
    pod_source = LazySource(
        pods, lay.pod_key, lay.pod_index, lay.pod_selectable, lambda i: o.make_pod(lay.pod_spec(i), BASE_RV)
    )
    service_source = LazySource(
        lay.service_count(),
        lambda w: (lay.namespace_of(w), lay.workload_name(w)),
        lay.service_index,
        partial(_service_selectable, lay),
        lay.service,
    )
    event_source = LazySource(
        lay.workloads,
        lambda j: (lay.namespace_of(j), lay.event_name(j)),
        lay.event_index,
        lay.event_selectable,
        lay.event,
    )
    stores = [
        Store("nodes", False, node_source),
        Store("pods", True, pod_source),
        Store("services", True, service_source),
        Store("events", True, event_source),
    ]
    ns, svc, port = PROMETHEUS_SERVICE
    extras: list[tuple[str, o.Obj]] = [
        ("namespaces", o.make_namespace(name, 0))
        for name in ("default", "kube-system", "monitoring", *(f"team-{k:03d}" for k in range(lay.namespaces)))
    ]
    extras.append(("services", o.make_service(ns, svc, port, 0, app="prometheus", cluster_ip="10.95.0.10")))
    return stores, extras, BASE_RV


def _service_selectable(lay: Layout, w: int) -> tuple[Mapping[str, str], Mapping[str, str]]:
    ns, name = lay.namespace_of(w), lay.workload_name(w)
    return (
        {
            "metadata.name": name,
            "metadata.namespace": ns,
            "spec.clusterIP": f"10.96.{(w >> 8) & 255}.{w & 255}",
            "spec.type": "ClusterIP",
        },
        {"app": name},
    )
