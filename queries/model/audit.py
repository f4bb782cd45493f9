"""What the tuning and sizing audit read from a cluster, and how each checked setting grades.

`AuditFacts` holds the raw readings (flags, config files, capacities, what could not be read
and why); `ConfigCheck` is one graded row of the audit table. Grading happens against the
latest snapshot (queries/audit/grade.py), so live evidence such as APF rejections is current
even though settings are read rarely.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AuditStatus(StrEnum):
    OK = "ok"
    ADVICE = "advice"  # differs from the recommendation; no live evidence that it hurts
    WARN = "warn"  # differs, and live evidence shows it hurts
    NOT_APPLICABLE = "not applicable"  # the guide's setting does not exist or no longer applies
    NOT_VISIBLE = "not visible"  # could not be read: managed control plane, RBAC, on-node file

    @property
    def rank(self) -> int:
        """0 is the most pressing; sorts warnings first on screen."""
        return _RANK[self]


_RANK = {
    AuditStatus.WARN: 0,
    AuditStatus.ADVICE: 1,
    AuditStatus.NOT_VISIBLE: 2,
    AuditStatus.OK: 3,
    AuditStatus.NOT_APPLICABLE: 4,
}


@dataclass(frozen=True, slots=True)
class SettingsRead:
    """The settings of one component as read: name -> value, or why nothing could be read."""

    component: str  # kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kubelet, kube-proxy
    values: tuple[tuple[str, str], ...]  # setting as users write it -> value as written
    where: str  # what was read: "pod kube-system/kube-apiserver-cp-1 command", a configz path, ...
    missing: str = ""  # non-empty: nothing could be read, and this says why

    def get(self, setting: str) -> str | None:
        for name, value in self.values:
            if name == setting:
                return value
        return None


@dataclass(frozen=True, slots=True)
class ControlPlaneNode:
    name: str
    cpu_cores: float
    memory_bytes: float


@dataclass(frozen=True, slots=True)
class PromReadings:
    """What Prometheus knows better than a flag: None when the metric is absent."""

    etcd_quota_bytes: float | None = None  # smallest member quota
    etcd_members: int | None = None  # members scraped
    apf_total_seats: float | None = None  # nominal seats summed over priority levels, busiest server
    conntrack_limit: float | None = None  # smallest node_nf_conntrack_entries_limit
    conntrack_used_max: float | None = None  # highest entries / limit ratio over nodes
    control_plane_nodes: tuple[ControlPlaneNode, ...] = ()  # from kube-state-metrics
    missing: str = ""  # non-empty: Prometheus not asked or failed, and why


@dataclass(frozen=True, slots=True)
class AuditFacts:
    components: tuple[SettingsRead, ...]
    kubelets: tuple[SettingsRead, ...]  # one per sampled node; `where` names the node
    control_plane_nodes: tuple[ControlPlaneNode, ...]
    control_plane_nodes_missing: str  # why the control-plane nodes could not be listed, or ""
    static_pods_missing: str  # why the static control-plane pods could not be listed, or ""
    etcd_pods: int  # etcd static pods seen (0 when none or not visible)
    etcd_initial_cluster: int  # members named by etcd's --initial-cluster (0 when unknown)
    prom: PromReadings
    node_count: int | None  # cluster size the readings were taken at

    def component(self, name: str) -> SettingsRead | None:
        for read in self.components:
            if read.component == name:
                return read
        return None


@dataclass(frozen=True, slots=True)
class ConfigCheck:
    """One row of the audit table, as the screen, the report and the findings show it."""

    component: str
    setting: str  # as users write it: --max-requests-inflight, serializeImagePulls, mode
    value: str  # as read, "(default)" when unset; "" when not visible
    recommended: str  # for this cluster's size
    status: AuditStatus
    source: str  # seed section and, where they differ, the upstream docs
    detail: str  # how it was read, the evidence, or why not applicable / not visible
    default: str = ""  # the upstream default, per Kubernetes version where it changed
    read: str = ""  # how k8stop reads it
    by_size: str = ""  # the recommendation across cluster sizes
