"""Cluster size tiers: the seed's sizing matrix (7.1) and its 1000+ node practice (8.1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from k8stop.queries.model.snapshot import ClusterSnapshot

GiB = 1024**3


class Tier(StrEnum):
    SMALL = "small"  # 1-10 nodes
    MEDIUM = "medium"  # 10-100
    LARGE = "large"  # 100+
    ULTRA = "1000+"  # seed 8.1


@dataclass(frozen=True, slots=True)
class Sizing:
    """Control-plane sizing per node for a tier; the low end of the seed's range is the bar."""

    cpu_cores: float
    memory_bytes: float
    control_plane_nodes: int
    etcd_members: int
    text: str  # the seed's wording, shown as the recommendation
    source: str


def tier_of(nodes: int) -> Tier:
    if nodes >= 1000:
        return Tier.ULTRA
    if nodes >= 100:
        return Tier.LARGE
    if nodes > 10:
        return Tier.MEDIUM
    return Tier.SMALL


def tier_text(nodes: int) -> str:
    return f"{nodes:,} nodes, tier {tier_of(nodes)}"


SIZING: dict[Tier, Sizing] = {
    Tier.SMALL: Sizing(2, 4 * GiB, 1, 1, "2-4 cores, 4-8 GB; 1 control-plane node", "seed 7.1 small (1-10 nodes)"),
    Tier.MEDIUM: Sizing(
        4, 16 * GiB, 3, 3, "4-8 cores, 16-32 GB; 3 control-plane nodes (HA)", "seed 7.1 medium (10-100 nodes)"
    ),
    Tier.LARGE: Sizing(
        8, 32 * GiB, 5, 5, "8-16 cores, 32-64 GB; 5 control-plane nodes (HA)", "seed 7.1 large (100+ nodes)"
    ),
    # 8.1 also asks for 9 etcd members across 3 data centres; the etcd FAQ advises against more
    # than 5 voting members (every write waits for a majority), so the audit recommends 5.
    Tier.ULTRA: Sizing(
        32,
        128 * GiB,
        5,
        5,
        "32 cores, 128 GB per API server (seed 8.1); 5 control-plane nodes (seed 7.1)",
        "seed 8.1 (1000+ nodes) and 7.1 large",
    ),
}


def snapshot_nodes(snap: ClusterSnapshot | None) -> int | None:
    """The node count: the kube API's when it answered, else Prometheus', else the audit's own."""
    if snap is None:
        return None
    if snap.kube_summary is not None and snap.kube_summary.synced and snap.kube_summary.node_count:
        return snap.kube_summary.node_count  # not while the initial list is still paging in
    if snap.nodes is not None and snap.nodes.total:
        return snap.nodes.total
    return snap.audit.node_count if snap.audit is not None else None
