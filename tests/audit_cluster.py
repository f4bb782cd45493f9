"""Clusters for the tuning and sizing audit tests: a large kubeadm-style cluster and a managed one."""

from __future__ import annotations

from dataclasses import replace

from kubeapi import Cluster
from kubeapi.control_plane import kubeadm_objects
from kubeapi.objects import NodeSpec
from scenario import GiB, Scenario

NODES = 1200
PODS = 1200
# Three small control-plane nodes (the generated cluster's first three names), one etcd member.
CONTROL_PLANE = tuple(
    NodeSpec(f"node-{i:05d}", control_plane=True, cpu=4, memory_gi=16, ip=f"10.0.0.{i}") for i in range(3)
)
FLAGS = {
    "kube-apiserver": {
        "advertise-address": "10.0.0.0",
        "max-requests-inflight": "400",
        "max-mutating-requests-inflight": "200",
        "etcd-servers": "https://127.0.0.1:2379",
    },
    "etcd": {"quota-backend-bytes": "2147483648", "heartbeat-interval": "100", "election-timeout": "1000"},
    # Already at the seed's values for a large cluster: the audit must not flag these.
    "kube-controller-manager": {
        "concurrent-deployment-syncs": "10",
        "concurrent-replicaset-syncs": "10",
        "concurrent-endpoint-syncs": "10",
        "concurrent-gc-syncs": "30",
        "concurrent-service-syncs": "2",
        "kube-api-qps": "100",
    },
    "kube-scheduler": {"leader-elect": "true"},
}
PROXY = {
    "mode": "iptables",
    "iptables": {"minSyncPeriod": "1s", "syncPeriod": "30s"},
    "conntrack": {"maxPerCore": 32768},
}
# The kubelets keep upstream's serializeImagePulls (true) but reserve what seed 3.1 asks for.
KUBELET = {
    "kubeReserved": {"cpu": "500m", "memory": "1Gi"},
    "systemReserved": {"cpu": "500m", "memory": "1Gi"},
    "evictionHard": {"memory.available": "500Mi", "nodefs.available": "10%"},
}


def large_kubeadm_cluster() -> Cluster:
    cluster = Cluster.generate(nodes=NODES, pods=PODS)
    cluster.load(kubeadm_objects(CONTROL_PLANE, FLAGS, etcd_nodes=1, proxy=PROXY))
    return cluster


def managed_cluster() -> Cluster:
    """No static pods, no kubeadm or kube-proxy ConfigMaps, no control-plane nodes (a managed service)."""
    return Cluster.generate(nodes=6, pods=60)  # 6 nodes: the generator labels no control plane


# Prometheus for the same cluster in trouble: APF rejecting LISTs and every etcd member's
# database at 1.8 of its 2 GiB, evidence that the default inflight limits and quota hurt.
EVIDENCE = Scenario.list_storm(
    etcd=tuple(replace(m, db_size_bytes=1.8 * GiB) for m in Scenario.healthy().etcd),
)
