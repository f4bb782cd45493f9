"""Thresholds with their citations, shared by the KPI scorecard and the findings so both grade
and cite a signal the same way. Each comes from Settings.thresholds (configurable)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ResourceCommitment
from k8stop.queries.rules import sources
from k8stop.queries.rules.grading import Bound


def etcd_wal_fsync(t: Thresholds) -> Bound:
    return Bound(
        t.etcd_wal_fsync_p99,
        t.etcd_wal_fsync_p99_limit,
        f"fsync p99 < 10 ms, {sources.ETCD_HARDWARE}; etcd mixin etcdHighFsyncDurations",
    )


def etcd_backend_commit(t: Thresholds) -> Bound:
    return Bound(
        t.etcd_backend_commit_p99,
        t.etcd_backend_commit_p99_limit,
        f"etcd FAQ < 25 ms, {sources.ETCD_FAQ}; etcd mixin etcdHighCommitDurations",
    )


def etcd_peer_rtt(t: Thresholds) -> Bound:
    return Bound(
        t.etcd_peer_rtt_target,
        t.etcd_peer_rtt_p99,
        "seed §1.1 network < 5 ms; etcd mixin etcdMemberCommunicationSlow",
    )


def etcd_db_quota(t: Thresholds) -> Bound:
    return Bound.between(t.etcd_db_quota_ratio, "etcd mixin etcdDatabaseQuotaLowSpace at 95 %")


def node_saturation(t: Thresholds) -> Bound:
    _, warn, fail = t.node_saturation
    return Bound(warn, fail, "seed §8.1 node saturation 70/85/95 %")


def node_load(t: Thresholds) -> Bound:
    return Bound(t.node_load1_per_cpu, None, "node mixin NodeSystemSaturation")


def apiserver_errors(t: Thresholds) -> Bound:
    return Bound.between(
        t.apiserver_error_ratio, "kubernetes-mixin 99 % availability budget; critical at the 1 h burn rate of 14.4x"
    )


def pod_startup(t: Thresholds) -> Bound:
    return Bound(
        t.pod_startup_p99,
        t.pod_startup_p99_seed,
        f"SIG-scalability pod startup SLO 5 s, {sources.SLOS}; seed §1.1 < 30 s is the hard limit",
    )


def workqueue_depth(t: Thresholds) -> Bound:
    return Bound(t.workqueue_depth, None, "seed §1.1 queue_depth < 1000; no upstream alert")


def workqueue_work(t: Thresholds) -> Bound:
    return Bound(t.workqueue_work_p99, None, "seed §1.1 reconcile_duration < 5 s; no upstream alert")


def runtime_errors(t: Thresholds) -> Bound:
    return Bound(t.runtime_ops_error_ratio, None, "k8stop's own 1 % target; the mixins ship no alert")


def container_create(t: Thresholds) -> Bound:
    return Bound(t.container_create_p99, None, "seed §1.1 container_creation < 2 s")


def cpu_throttling(t: Thresholds) -> Bound:
    return Bound(t.cpu_throttling_ratio, None, "kubernetes-mixin CPUThrottlingHigh > 25 % of CFS periods for 15m")


def container_memory(t: Thresholds) -> Bound:
    return Bound.between(
        t.container_memory_ratio, "k8stop's own: the kernel OOM-kills the container at 100 % of its limit"
    )


def filesystem_runway(t: Thresholds) -> Bound:
    """Graded on the urgency `critical horizon / seconds left` (1 = full at the critical horizon),
    so a higher value is worse like every other bound; filesystem_urgency_fmt reads it back as time."""
    return Bound(
        t.filesystem_full_critical / t.filesystem_full_warn,
        1.0,
        "node mixin NodeFilesystemSpaceFillingUp / FilesFillingUp (predict_linear)",
    )


def kubelet_pleg(t: Thresholds) -> Bound:
    return Bound(t.kubelet_pleg_relist_p99, None, "kubernetes-mixin KubeletPlegDurationHigh p99 >= 10 s")


def readiness_flapping(t: Thresholds) -> Bound:
    return Bound(t.node_ready_changes_15m, None, "kubernetes-mixin KubeNodeReadinessFlapping: > 2 changes in 15m")


def node_psi(t: Thresholds) -> Bound:
    warn, fail = t.node_psi_full
    return Bound(warn, fail, "PSI full (Linux psi.rst); k8stop's own 10 %, critical at systemd-oomd's 60 %")


def overcommit(t: Thresholds, c: ResourceCommitment) -> Bound:
    """Graded on requests / allocatable without the largest node; critical where the requests
    exceed even the whole cluster's allocatable (the same ratio at allocatable / N-1)."""
    whole = c.allocatable / c.without_largest if c.nodes > 1 and c.without_largest > 0 else None
    return Bound(
        t.overcommit_n1_ratio,
        whole,
        f"kubernetes-mixin Kube{'CPU' if c.resource == 'cpu' else 'Memory'}Overcommit: requests > allocatable "
        "minus the largest node; critical past the whole cluster's allocatable",
    )
