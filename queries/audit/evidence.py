"""Live evidence from the snapshot that turns a setting's advice into a warning.

Each helper returns a one-line description of the evidence, or "" when there is none, so the
audit can say *why* it warns. Thresholds are the configured ones (queries/config.py cites them).
"""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.snapshot import ClusterSnapshot

# Inflight requests at this share of their limit saturate the server (kubernetes-mixin's
# apiserver dashboard draws the limit; 80 % leaves no headroom for a burst).
INFLIGHT_SATURATION = 0.8


def apf_pressure(snap: ClusterSnapshot, readonly_limit: float | None, mutating_limit: float | None) -> str:
    """APF rejections, saturated priority levels or inflight requests near their limits."""
    api = snap.apiserver
    if api is None:
        return ""
    if api.apf_rejected_rate > 0:
        return f"APF rejecting {api.apf_rejected_rate:.3g} requests/s (429)"
    saturated = [
        a.priority_level
        for a in api.apf
        if a.limit_seats is not None and a.limit_seats > 0 and a.executing_seats >= a.limit_seats and a.inqueue > 0
    ]
    if saturated:
        return f"APF priority level {', '.join(saturated)} at its seat limit with requests queued"
    limits = {"readOnly": readonly_limit, "mutating": mutating_limit}
    for inflight in api.inflight:
        limit = inflight.limit or limits.get(inflight.request_kind)
        if limit and inflight.current >= INFLIGHT_SATURATION * limit:
            return f"{inflight.current:.0f} {inflight.request_kind} requests in flight of {limit:.0f} allowed"
    return ""


def etcd_db_pressure(snap: ClusterSnapshot, quota: float | None, t: Thresholds) -> str:
    """The fullest etcd member's database against the quota (the configured warn ratio)."""
    if snap.etcd is None:
        return ""
    worst = 0.0
    for member in snap.etcd.members:
        member_quota = member.quota_bytes.or_none() or quota
        size = member.db_size_bytes.or_none()
        if member_quota and size is not None:
            worst = max(worst, size / member_quota)
    if worst >= t.etcd_db_quota_ratio[0]:
        return f"etcd database at {worst:.0%} of its quota"
    return ""


def slow_pod_startup(snap: ClusterSnapshot, t: Thresholds) -> str:
    """Pod start-up p99 past the SIG-scalability SLO, or image pulls among slow runtime operations."""
    cp = snap.control_plane
    if cp is None:
        return ""
    if cp.pod_start_p99.at_least(t.pod_startup_p99):
        return f"pod start-up p99 {cp.pod_start_p99.number:.3g} s (SLO {t.pod_startup_p99:g} s)"
    for op in cp.runtime_ops:
        if op.operation_type == "pull_image" and op.p99.at_least(t.pod_startup_p99):
            return f"image pull p99 {op.p99.number:.3g} s"
    return ""


def workqueue_backlog(snap: ClusterSnapshot, queue_prefixes: tuple[str, ...], t: Thresholds) -> str:
    """A controller's workqueue deeper than the seed's 1.1 target."""
    cp = snap.control_plane
    if cp is None:
        return ""
    for queue in cp.workqueues:
        if queue.name.startswith(queue_prefixes) and queue.depth >= t.workqueue_depth:
            return f"workqueue {queue.name} holds {queue.depth:.0f} items"
    return ""


def control_plane_hot(snap: ClusterSnapshot, names: tuple[str, ...], t: Thresholds) -> str:
    """A control-plane node's CPU or memory past the seed's 8.1 saturation threshold."""
    if snap.nodes is None:
        return ""
    limit = t.node_saturation[1]
    for node in snap.nodes.worst:
        if node.node.split(":", 1)[0] in names:
            for what, value in (("CPU", node.cpu), ("memory", node.memory)):
                if value.at_least(limit):
                    return f"control-plane node {node.node} {what} at {value.number:.0%}"
    return ""


def conntrack_pressure(used_ratio: float | None) -> str:
    """node-mixin NodeHighNumberConntrackEntriesUsed fires above 75 %."""
    if used_ratio is not None and used_ratio > 0.75:
        return f"a node's conntrack table is {used_ratio:.0%} full"
    return ""
