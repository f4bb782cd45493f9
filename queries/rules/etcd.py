"""etcd rules: slow disks per member, DB near quota, leadership, peer latency (seed §2.2)."""

from __future__ import annotations

from collections.abc import Callable

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import EtcdMember
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds, sources
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Bound, Rule, present
from k8stop.queries.rules.kpis import member_quota_ratio

# The seed points fio at /var/lib/etcd itself; 2 GiB of test writes do not belong in a live
# member's data directory, so the command names a scratch directory on the same disk.
FIO = (
    "mkdir -p /var/lib/etcd-fio && fio --name=etcd-test --directory=/var/lib/etcd-fio --rw=randwrite "
    "--bs=2300 --size=2G --numjobs=1 --runtime=60 --group_reporting --fdatasync=1; rm -rf /var/lib/etcd-fio"
)
_DISK_ADVICE = (
    "etcd needs a dedicated SSD, NVMe preferred, with IOPS > 5000 and latency < 1 ms (seed §2.2; "
    f"etcd hardware guide {sources.ETCD_HARDWARE}). Measure the disk with fio and --fdatasync=1, so "
    "every write is synced like the WAL (without it fio measures the page cache), in a scratch "
    f"directory on the etcd disk, not in the data directory: `{FIO}`; the fdatasync p99 should stay "
    "under 10 ms."
)


_DB_NEAR_QUOTA = Rule(
    "etcd.db_near_quota",
    Component.ETCD,
    "At the quota etcd refuses every write ('mvcc: database space exceeded'). Compact and "
    "defragment one member at a time (`etcdctl compact <rev>`, `etcdctl defrag`; etcd maintenance "
    f"guide {sources.ETCD_MAINTENANCE}), find what fills it (Events, large custom resources), keep "
    "--auto-compaction-retention set (seed §2.2: 8h) and --snapshot-count=10000, and raise "
    "--quota-backend-bytes up to the suggested maximum of 8 GiB (8589934592).",
)
_NO_LEADER = Rule(
    "etcd.no_leader",
    Component.ETCD,
    "Without a leader the member serves no writes: quorum is lost or it is partitioned. "
    "Check `etcdctl endpoint status -w table` on every member, the peer network, and the "
    "disks (slow fsync stalls heartbeats); --heartbeat-interval (100 ms) and "
    f"--election-timeout (1000 ms) must suit the peer round-trip time ({sources.ETCD_TUNING}).",
)
_LEADER_CHANGES = Rule(
    "etcd.leader_changes",
    Component.ETCD,
    "Each election stalls writes. Elections come from slow disks (WAL fsync) or a slow or "
    "lossy peer network; fix those first, then make --heartbeat-interval (100 ms by default) "
    f"about the peer RTT and --election-timeout (1000 ms) 10x that ({sources.ETCD_TUNING}).",
)
_PEER_RTT = Rule(
    "network.etcd_peer_rtt",
    Component.NETWORK,
    "etcd members replicate every write over this link. Keep members in one low-latency "
    "network (seed §2.2: > 1 Gbps; §8.1: a dedicated 10 Gbps network), check for packet "
    f"loss and saturated NICs, and size --heartbeat-interval to the measured RTT ({sources.ETCD_TUNING}).",
)


def _member(m: EtcdMember) -> dict[str, str]:
    return {"instance": m.instance}


def _slow_disk(
    members: tuple[EtcdMember, ...],
    q: EvidenceQueries,
    entry_id: str,
    what: str,
    pick: Callable[[EtcdMember], Value],
    bound: Bound,
    advice_extra: str = "",
) -> list[Finding]:
    rule = Rule(f"etcd.{entry_id.split('.', 1)[1]}_slow", Component.ETCD)
    fast = [(m, pick(m)) for m in members if bound.grade(pick(m)) is Level.OK]
    if fast:
        scope = (
            f"Only this member is slow (others ≤ {fmt_seconds(Value.of(max(v.number for _, v in fast)))}): "
            "look at this host's disk, co-located workloads or a throttled cloud volume, not at etcd flags. "
        )
    else:
        scope = "Every member reporting is slow: the volume type / storage class is too slow for etcd. "
    others = [
        Evidence(q.promql(entry_id, _member(m)), v.or_none(), f"member {m.instance} (within target)") for m, v in fast
    ]
    target = fmt_seconds(Value.of(bound.target))
    found = (
        rule.graded(
            pick(m),
            bound,
            fmt_seconds,
            subject=m.instance,
            title=f"etcd {what} p99 {fmt_seconds(pick(m))} on {m.instance} (target < {target})",
            query=q.promql(entry_id, _member(m)),
            advice=scope + _DISK_ADVICE + advice_extra,
            evidence_detail="p99",
            more_evidence=others,
            labels=(("etcd_member", m.instance),),
        )
        for m in members
    )
    return present(found)


def _quota(members: tuple[EtcdMember, ...], q: EvidenceQueries, db_metric: str, t: Thresholds) -> list[Finding]:
    found = (
        _DB_NEAR_QUOTA.graded(
            member_quota_ratio(m),
            bounds.etcd_db_quota(t),
            fmt_ratio,
            subject=m.instance,
            title=f"etcd DB {fmt_bytes(m.db_size_bytes)} is {fmt_ratio(member_quota_ratio(m))} of its "
            f"{fmt_bytes(m.quota_bytes)} quota on {m.instance}",
            query="db size / quota",
            more_evidence=(
                Evidence(q.promql("etcd.db_size", _member(m), metric=db_metric), m.db_size_bytes.or_none()),
                Evidence(q.promql("etcd.quota", _member(m)), m.quota_bytes.or_none()),
            ),
            labels=(("etcd_member", m.instance),),
        )
        for m in members
    )
    return present(found)


def _leadership(members: tuple[EtcdMember, ...], q: EvidenceQueries, t: Thresholds) -> list[Finding]:
    out = []
    for m in members:
        if m.has_leader is False:
            out.append(
                _NO_LEADER.flag(
                    m.instance,
                    Level.CRITICAL,
                    f"etcd member {m.instance} has no leader",
                    (Evidence(q.promql("etcd.has_leader", _member(m)), 0.0, "etcd mixin etcdNoLeader"),),
                    magnitude=10.0,
                    labels=(("etcd_member", m.instance),),
                )
            )
    changes = [(m.instance, m.leader_changes_1h) for m in members if m.leader_changes_1h is not None]
    if changes:
        instance, count = max(changes, key=lambda item: item[1])
        if count >= t.etcd_leader_changes_1h:
            out.append(
                _LEADER_CHANGES.flag(
                    "etcd cluster",
                    Level.WARNING,
                    f"etcd changed leader {count:.0f} times in the last hour",
                    (
                        Evidence(
                            q.promql("etcd.leader_changes_1h", {"instance": instance}),
                            count,
                            f"seen by {instance}; warn at {t.etcd_leader_changes_1h:g}/h (etcd mixin etcdHighNumberOfLeaderChanges: >= 4 in 15 min)",
                        ),
                    ),
                    key="cluster",
                    magnitude=count / t.etcd_leader_changes_1h,
                )
            )
    return out


def _peer_rtt(members: tuple[EtcdMember, ...], q: EvidenceQueries, t: Thresholds) -> list[Finding]:
    # Past the seed's 5 ms the KPI warns; a finding needs the mixin's alert threshold.
    bound = Bound(t.etcd_peer_rtt_p99, None, "etcd mixin etcdMemberCommunicationSlow; seed target < 5 ms")
    found = (
        _PEER_RTT.graded(
            m.peer_rtt_p99,
            bound,
            fmt_seconds,
            subject=m.instance,
            title=f"etcd peer round-trip p99 {fmt_seconds(m.peer_rtt_p99)} from {m.instance}",
            query=q.promql("etcd.peer_rtt_p99", _member(m)),
            labels=(("etcd_member", m.instance),),
        )
        for m in members
    )
    return present(found)


def etcd_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.etcd is None or not snap.etcd.members:
        return []
    members = snap.etcd.members
    return [
        *_slow_disk(members, q, "etcd.wal_fsync_p99", "WAL fsync", lambda m: m.wal_fsync_p99, bounds.etcd_wal_fsync(t)),
        *_slow_disk(
            members,
            q,
            "etcd.backend_commit_p99",
            "backend commit",
            lambda m: m.backend_commit_p99,
            bounds.etcd_backend_commit(t),
            " Backend commits also slow down as the DB grows: compact and defragment, and keep "
            f"--quota-backend-bytes at most 8 GiB ({sources.ETCD_MAINTENANCE}).",
        ),
        *_quota(members, q, snap.etcd.db_size_metric, t),
        *_leadership(members, q, t),
        *_peer_rtt(members, q, t),
    ]
