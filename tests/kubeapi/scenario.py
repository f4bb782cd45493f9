"""The small realistic cluster the `kube_api` fixture serves.

3 control-plane + 3 worker nodes; static control-plane pods, coredns, kube-proxy; a healthy
`shop/frontend`, an OOMKilled CrashLoopBackOff `shop/checkout`, a Prometheus StatefulSet,
an unschedulable `batch/report` pod; Warning and Normal events; a `monitoring/prometheus-k8s`
service. Names and numbers here are what tests assert against.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from . import objects as o
from .control_plane import static_pod_spec

CONTROL_PLANE = ("cp-1", "cp-2", "cp-3")
WORKERS = ("worker-1", "worker-2", "worker-3")
NAMESPACES = ("default", "kube-system", "monitoring", "shop", "batch")
CRASHLOOP_PODS = ("checkout-6d9f7b8c4-k2x7p", "checkout-6d9f7b8c4-m9q4z", "checkout-6d9f7b8c4-t5w8r")
CRASHLOOP_RESTARTS = (7, 12, 9)
PENDING_POD = ("batch", "report-5c8d6f9b7-vx4nq")
PROMETHEUS_SERVICE = ("monitoring", "prometheus-k8s", 9090)


def _deployment_pod(
    namespace: str, app: str, template_hash: str, suffix: str, container: o.ContainerSpec, **more: Any
) -> o.PodSpec:
    """A Deployment's pod: its ReplicaSet is "<app>-<hash>", the pod "<replicaset>-<suffix>"."""
    owner = f"{app}-{template_hash}"
    return o.PodSpec(
        namespace=namespace,
        name=f"{owner}-{suffix}",
        app=app,
        owner_name=owner,
        pod_template_hash=template_hash,
        containers=(container,),
        **more,
    )


def _pods() -> Iterator[o.PodSpec]:
    ip = iter(range(10, 250))
    for n, node in enumerate(CONTROL_PLANE):
        for app, cpu, mem in (
            ("kube-apiserver", "250m", "512Mi"),
            ("etcd", "100m", "100Mi"),
            ("kube-scheduler", "100m", "64Mi"),
            ("kube-controller-manager", "200m", "128Mi"),
        ):
            yield static_pod_spec(app, node, f"10.0.0.{11 + n}", cpu, mem)
    for n, (node, suffix) in enumerate(
        zip(CONTROL_PLANE + WORKERS, ("b7k2d", "c9m4f", "d2p6h", "f4r8j", "g6t2l", "h8v4n"))
    ):
        yield o.PodSpec(
            namespace="kube-system",
            name=f"kube-proxy-{suffix}",
            node=node,
            app="kube-proxy",
            owner_kind="DaemonSet",
            owner_name="kube-proxy",
            containers=(
                o.ContainerSpec("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.3", "50m", "64Mi", None, None, None),
            ),
            pod_ip=f"10.0.0.{11 + n}",
            host_ip=f"10.0.0.{11 + n}",
            priority_class="system-node-critical",
        )
    for suffix, node in (("x7kqp", "worker-1"), ("z2lmw", "worker-2")):
        yield _deployment_pod(
            "kube-system",
            "coredns",
            "76f75df574",
            suffix,
            o.ContainerSpec("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", "100m", "70Mi", None, "170Mi", 53),
            node=node,
            pod_ip=f"10.244.1.{next(ip)}",
            host_ip="10.0.0.21",
            priority_class="system-cluster-critical",
            extra_labels=(("k8s-app", "kube-dns"),),
        )
    yield o.PodSpec(
        namespace="monitoring",
        name="prometheus-k8s-0",
        node="worker-3",
        app="prometheus",
        owner_kind="StatefulSet",
        owner_name="prometheus-k8s",
        containers=(
            o.ContainerSpec("prometheus", "quay.io/prometheus/prometheus:v2.51.0", "500m", "2Gi", None, "4Gi", 9090),
            o.ContainerSpec(
                "config-reloader",
                "quay.io/prometheus-operator/prometheus-config-reloader:v0.72.0",
                "10m",
                "50Mi",
                "10m",
                "50Mi",
                8080,
            ),
        ),
        pod_ip=f"10.244.3.{next(ip)}",
        host_ip="10.0.0.23",
    )
    for suffix, node in zip(("a1b2c", "d3e4f", "g5h6j"), WORKERS):
        yield _deployment_pod(
            "shop",
            "frontend",
            "7c9d8f6b5",
            suffix,
            o.ContainerSpec(
                "frontend", "registry.example.com/shop/frontend:2.4.1", "200m", "256Mi", "1", "512Mi", 8080
            ),
            node=node,
            pod_ip=f"10.244.{WORKERS.index(node) + 1}.{next(ip)}",
            host_ip=f"10.0.0.{21 + WORKERS.index(node)}",
        )
    for name, node, restarts in zip(CRASHLOOP_PODS, WORKERS, CRASHLOOP_RESTARTS):
        yield _deployment_pod(
            "shop",
            "checkout",
            "6d9f7b8c4",
            name.rsplit("-", 1)[1],
            o.ContainerSpec(
                "checkout", "registry.example.com/shop/checkout:1.9.0", "250m", "128Mi", "500m", "128Mi", 8080
            ),
            node=node,
            states=(
                o.ContainerState(
                    restarts=restarts,
                    ready=False,
                    waiting_reason="CrashLoopBackOff",
                    last_terminated_reason="OOMKilled",
                    last_exit_code=137,
                ),
            ),
            pod_ip=f"10.244.{WORKERS.index(node) + 1}.{next(ip)}",
            host_ip=f"10.0.0.{21 + WORKERS.index(node)}",
        )
    for i, suffix in enumerate(("p8q2w", "r4s6x", "t2u8y", "v6w4z")):
        node = WORKERS[i % 3]
        yield _deployment_pod(
            "default",
            "api",
            "5f6b7c8d9",
            suffix,
            o.ContainerSpec("api", "registry.example.com/api:3.0.2", "100m", "128Mi", "500m", "256Mi", 8080),
            node=node,
            states=(
                o.ContainerState(
                    restarts=1 if i == 0 else 0,
                    last_terminated_reason="Error" if i == 0 else None,
                    last_exit_code=1 if i == 0 else 0,
                ),
            ),
            pod_ip=f"10.244.{i % 3 + 1}.{next(ip)}",
            host_ip=f"10.0.0.{21 + i % 3}",
        )
    namespace, pending = PENDING_POD
    yield _deployment_pod(
        namespace,
        "report",
        "5c8d6f9b7",
        pending.rsplit("-", 1)[1],
        o.ContainerSpec("report", "registry.example.com/batch/report:0.3.0", "8", "16Gi", "8", "16Gi", None),
        node=None,
        phase="Pending",
    )


def small_cluster_objects() -> list[tuple[str, o.Obj]]:
    objects: list[tuple[str, o.Obj]] = [("namespaces", o.make_namespace(ns, 0)) for ns in NAMESPACES]
    for n, name in enumerate(CONTROL_PLANE + WORKERS):
        spec = o.NodeSpec(
            name=name,
            control_plane=name in CONTROL_PLANE,
            cpu=4 if name in CONTROL_PLANE else 8,
            memory_gi=16 if name in CONTROL_PLANE else 32,
            ip=f"10.0.0.{11 + n if n < 3 else 18 + n}",
            zone=f"zone-{'abc'[n % 3]}",
            created=-86400.0,
        )
        objects.append(("nodes", o.make_node(spec, 0)))
    for k, spec in enumerate(_pods()):
        objects.append(("pods", o.make_pod(replace(spec, created=60.0 * k), 0)))
    ns, svc, port = PROMETHEUS_SERVICE
    objects += [
        ("services", o.make_service("default", "kubernetes", 443, 0, app="apiserver", cluster_ip="10.96.0.1")),
        ("services", o.make_service("kube-system", "kube-dns", 53, 0, app="coredns", cluster_ip="10.96.0.10")),
        ("services", o.make_service(ns, svc, port, 0, app="prometheus", cluster_ip="10.96.100.10")),
        ("services", o.make_service("shop", "frontend", 8080, 0, cluster_ip="10.96.50.20")),
    ]
    for n, (name, restarts) in enumerate(zip(CRASHLOOP_PODS, CRASHLOOP_RESTARTS)):
        backoff = f"Back-off restarting failed container checkout in pod {name}_shop"
        pulled = 'Container image "registry.example.com/shop/checkout:1.9.0" already present on machine'
        for tag, reason, message, type_, count, last in (
            ("5e", "BackOff", backoff, "Warning", restarts * 4, 3000.0),
            ("6f", "Pulled", pulled, "Normal", restarts, 2990.0),
        ):
            uid = f"{name}.17e1c0a2b3c4d{tag}{n}"
            event = o.make_event(
                "shop",
                uid,
                "Pod",
                name,
                reason,
                message,
                type_,
                0,
                count=count,
                first=600.0,
                last=last + n,
                host=WORKERS[n],
            )
            objects.append(("events", event))
    objects.append(
        (
            "events",
            o.make_event(
                PENDING_POD[0],
                f"{PENDING_POD[1]}.17e1c0a2b3c4d7a0",
                "Pod",
                PENDING_POD[1],
                "FailedScheduling",
                "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.",
                "Warning",
                0,
                count=14,
                first=900.0,
                last=3100.0,
                component="default-scheduler",
            ),
        )
    )
    objects.append(
        (
            "events",
            o.make_event(
                "default",
                "worker-2.17e1c0a2b3c4d8b0",
                "Node",
                "worker-2",
                "NodeHasSufficientMemory",
                "Node worker-2 status is now: NodeHasSufficientMemory",
                "Normal",
                0,
                first=0.0,
                host="worker-2",
            ),
        )
    )
    return objects
