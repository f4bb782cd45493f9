"""`collect_audit`: every reading the audit needs, as one self-contained async call.

A slow feed: settings change seldom, so it is polled rarely. Cost per run: about 6 GETs on the
kube API (control-plane pods, kubeadm-config, kube-proxy ConfigMap, control-plane nodes, a
3-node sample, their /configz) and one combined PromQL query. Never raises for an unreadable
source: each reading says what could not be read and why.
"""

from __future__ import annotations

import asyncio

from k8stop.queries.audit import read_kube
from k8stop.queries.audit.read_prom import prom_readings
from k8stop.queries.audit.tiers import snapshot_nodes
from k8stop.queries.kube.connection import KubeConnection
from k8stop.queries.model.audit import AuditFacts, SettingsRead
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.prom.context import PromContext

NO_KUBE = "kube API not connected"
# Settings change seldom: the live app reads them every few minutes. One run is a handful of
# sequential GETs (a kubelet's /configz through the node proxy can take seconds).


async def collect_audit(
    connection: KubeConnection | None, prom_context: PromContext | None, snapshot: ClusterSnapshot | None
) -> AuditFacts:
    """`snapshot` (the other feeds' latest facts) gives the cluster size the readings go with."""
    prom_task = asyncio.ensure_future(prom_readings(prom_context))
    if connection is None:
        components = tuple(
            SettingsRead(c, (), "", missing=NO_KUBE) for c in (*read_kube.CONTROL_PLANE_COMPONENTS, "kube-proxy")
        )
        return AuditFacts(components, (), (), NO_KUBE, NO_KUBE, 0, 0, await prom_task, snapshot_nodes(snapshot))
    pods, pods_missing = await read_kube.static_pods(connection)
    kubeadm, kubeadm_missing = await read_kube.kubeadm_extra_args(connection)
    proxy = await read_kube.kube_proxy(connection)
    cp_nodes, cp_missing = await read_kube.control_plane_nodes(connection)
    sample, sample_missing = await read_kube.sample_nodes(connection, cp_nodes)
    kubelets = tuple(await asyncio.gather(*(read_kube.kubelet_config(connection, n) for n in sample)))
    if not kubelets:
        kubelets = (SettingsRead("kubelet", (), "", missing=sample_missing or "no node to sample"),)
    return AuditFacts(
        components=(*read_kube.component_reads(pods, pods_missing, kubeadm, kubeadm_missing), proxy),
        kubelets=kubelets,
        control_plane_nodes=cp_nodes,
        control_plane_nodes_missing=cp_missing,
        static_pods_missing=pods_missing,
        etcd_pods=len(pods.get("etcd") or ()),
        etcd_initial_cluster=read_kube.initial_cluster_members(pods),
        prom=await prom_task,
        node_count=snapshot_nodes(snapshot),
    )
