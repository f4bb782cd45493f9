"""etcd rules: slow disks per member, DB near quota, leadership, peer latency (seed §2.2)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import EtcdMember
from k8stop.queries.model.finding import Component, Evidence, Finding, Severity, severity_for
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules.grading import Level, grade
from k8stop.queries.rules.kpis import member_quota_ratio

# The seed points fio at /var/lib/etcd itself; 2 GiB of test writes do not belong in a live
# member's data directory, so the command names a scratch directory on the same disk.
FIO = (
    "mkdir -p /var/lib/etcd-fio && fio --name=etcd-test --directory=/var/lib/etcd-fio --rw=randwrite "
    "--bs=2300 --size=2G --numjobs=1 --runtime=60 --group_reporting --fdatasync=1; rm -rf /var/lib/etcd-fio"
)
_DISK_ADVICE = (
    "etcd needs a dedicated SSD, NVMe preferred, with IOPS > 5000 and latency < 1 ms (seed §2.2). "
    f"Measure the disk with the seed's fio test plus --fdatasync=1, as etcd's own docs do, so every "
    f"write is synced like the WAL (without it fio measures the page cache), in a scratch directory on "
    f"the etcd disk, not in the data directory: `{FIO}`; the fdatasync p99 should stay under 10 ms."
)


def _quantile_query(metric: str, instance: str) -> str:
    return f'histogram_quantile(0.99, sum by (instance, le) (rate({metric}_bucket{{instance="{instance}"}}[5m])))'


def _slow_disk(
    members: tuple[EtcdMember, ...],
    metric: str,
    what: str,
    pick: str,
    target: float,
    limit: float,
    cite: str,
    advice_extra: str = "",
) -> list[Finding]:
    graded = [(m, getattr(m, pick), grade(getattr(m, pick), target, limit)) for m in members]
    slow = [(m, v, lvl) for m, v, lvl in graded if lvl >= Level.WARN]
    fast = [(m, v) for m, v, lvl in graded if lvl is Level.OK]
    out = []
    for member, value, level in slow:
        others = [
            Evidence(_quantile_query(metric, m.instance), v.or_none(), f"member {m.instance} (within target)")
            for m, v in fast
        ]
        if fast:
            scope = (
                f"Only this member is slow (others ≤ {fmt_seconds(Value.of(max(v.number for _, v in fast)))}): "
                "look at this host's disk, co-located workloads or a throttled cloud volume, not at etcd flags. "
            )
        else:
            scope = "Every member reporting is slow: the volume type / storage class is too slow for etcd. "
        out.append(
            Finding(
                id=f"etcd.{pick}_slow:{member.instance}",
                component=Component.ETCD,
                subject=member.instance,
                severity=severity_for(level),
                title=f"etcd {what} p99 {fmt_seconds(value)} on {member.instance} (target < {fmt_seconds(Value.of(target))})",
                evidence=(
                    Evidence(
                        _quantile_query(metric, member.instance),
                        value.or_none(),
                        f"p99; warn at {fmt_seconds(Value.of(target))}, critical at {fmt_seconds(Value.of(limit))} ({cite})",
                    ),
                    *others,
                ),
                recommendation=scope + _DISK_ADVICE + advice_extra,
                magnitude=value.number / target,
                labels=(("etcd_member", member.instance),),
            )
        )
    return out


def _quota(members: tuple[EtcdMember, ...], t: Thresholds) -> list[Finding]:
    warn, fail = t.etcd_db_quota_ratio
    out = []
    for m in members:
        used = member_quota_ratio(m)
        level = grade(used, warn, fail)
        if level < Level.WARN:
            continue
        out.append(
            Finding(
                id=f"etcd.db_near_quota:{m.instance}",
                component=Component.ETCD,
                subject=m.instance,
                severity=severity_for(level),
                title=f"etcd DB {fmt_bytes(m.db_size_bytes)} is {fmt_ratio(used)} of its {fmt_bytes(m.quota_bytes)} quota on {m.instance}",
                evidence=(
                    Evidence(f'etcd_mvcc_db_total_size_in_bytes{{instance="{m.instance}"}}', m.db_size_bytes.or_none()),
                    Evidence(f'etcd_server_quota_backend_bytes{{instance="{m.instance}"}}', m.quota_bytes.or_none()),
                    Evidence(
                        "db size / quota",
                        used.or_none(),
                        f"warn at {fmt_ratio(Value.of(warn))}, critical at {fmt_ratio(Value.of(fail))} (etcd mixin etcdDatabaseQuotaLowSpace)",
                    ),
                ),
                recommendation=(
                    "At the quota etcd refuses every write ('mvcc: database space exceeded'). Compact and "
                    "defragment one member at a time (`etcdctl compact <rev>`, `etcdctl defrag`), find what "
                    "fills it (Events, large custom resources), keep --auto-compaction-retention set "
                    "(seed §2.2: 8h) and --snapshot-count=10000, and raise --quota-backend-bytes up to "
                    "the suggested maximum of 8 GiB (seed §2.2: 8589934592)."
                ),
                magnitude=used.number / warn,
                labels=(("etcd_member", m.instance),),
            )
        )
    return out


def _leadership(members: tuple[EtcdMember, ...], t: Thresholds) -> list[Finding]:
    out = []
    for m in members:
        if m.has_leader is False:
            out.append(
                Finding(
                    id=f"etcd.no_leader:{m.instance}",
                    component=Component.ETCD,
                    subject=m.instance,
                    severity=Severity.CRITICAL,
                    title=f"etcd member {m.instance} has no leader",
                    evidence=(
                        Evidence(f'etcd_server_has_leader{{instance="{m.instance}"}}', 0.0, "etcd mixin etcdNoLeader"),
                    ),
                    recommendation=(
                        "Without a leader the member serves no writes: quorum is lost or it is partitioned. "
                        "Check `etcdctl endpoint status -w table` on every member (seed §2.2), the peer "
                        "network, and the disks (slow fsync stalls heartbeats); --heartbeat-interval=100 and "
                        "--election-timeout=1000 (seed §2.2) must suit the peer round-trip time."
                    ),
                    magnitude=10.0,
                    labels=(("etcd_member", m.instance),),
                )
            )
    changes = [(m.instance, m.leader_changes_1h) for m in members if m.leader_changes_1h is not None]
    if changes:
        instance, count = max(changes, key=lambda item: item[1])
        if count >= t.etcd_leader_changes_1h:
            out.append(
                Finding(
                    id="etcd.leader_changes:cluster",
                    component=Component.ETCD,
                    subject="etcd cluster",
                    severity=Severity.WARNING,
                    title=f"etcd changed leader {count:.0f} times in the last hour",
                    evidence=(
                        Evidence(
                            "changes(etcd_server_leader_changes_seen_total[1h])",
                            count,
                            f"seen by {instance}; warn at {t.etcd_leader_changes_1h:g}/h (etcd mixin etcdHighNumberOfLeaderChanges: >= 4 in 15 min)",
                        ),
                    ),
                    recommendation=(
                        "Each election stalls writes. Elections come from slow disks (WAL fsync) or a slow or "
                        "lossy peer network; fix those first, then make --heartbeat-interval (seed §2.2: 100 ms) "
                        "about the peer RTT and --election-timeout (seed: 1000 ms) 10x that."
                    ),
                    magnitude=count / t.etcd_leader_changes_1h,
                )
            )
    return out


def _peer_rtt(members: tuple[EtcdMember, ...], t: Thresholds) -> list[Finding]:
    out = []
    for m in members:
        if not m.peer_rtt_p99.at_least(t.etcd_peer_rtt_p99):
            continue
        out.append(
            Finding(
                id=f"network.etcd_peer_rtt:{m.instance}",
                component=Component.NETWORK,
                subject=m.instance,
                severity=Severity.WARNING,
                title=f"etcd peer round-trip p99 {fmt_seconds(m.peer_rtt_p99)} from {m.instance}",
                evidence=(
                    Evidence(
                        _quantile_query("etcd_network_peer_round_trip_time_seconds", m.instance),
                        m.peer_rtt_p99.or_none(),
                        f"warn at {fmt_seconds(Value.of(t.etcd_peer_rtt_p99))} (etcd mixin etcdMemberCommunicationSlow); seed target < 5 ms",
                    ),
                ),
                recommendation=(
                    "etcd members replicate every write over this link. Keep members in one low-latency "
                    "network (seed §2.2: > 1 Gbps; §8.1: a dedicated 10 Gbps network), check for packet "
                    "loss and saturated NICs, and size --heartbeat-interval to the measured RTT."
                ),
                magnitude=m.peer_rtt_p99.number / t.etcd_peer_rtt_p99,
                labels=(("etcd_member", m.instance),),
            )
        )
    return out


def etcd_findings(snap: ClusterSnapshot, t: Thresholds) -> list[Finding]:
    if snap.etcd is None or not snap.etcd.members:
        return []
    members = snap.etcd.members
    return [
        *_slow_disk(
            members,
            "etcd_disk_wal_fsync_duration_seconds",
            "WAL fsync",
            "wal_fsync_p99",
            t.etcd_wal_fsync_p99,
            t.etcd_wal_fsync_p99_limit,
            "seed §1.1/§6.1 EtcdDiskLatencyHigh; etcd mixin etcdHighFsyncDurations",
        ),
        *_slow_disk(
            members,
            "etcd_disk_backend_commit_duration_seconds",
            "backend commit",
            "backend_commit_p99",
            t.etcd_backend_commit_p99,
            t.etcd_backend_commit_p99_limit,
            "etcd FAQ < 25 ms; etcd mixin etcdHighCommitDurations",
            " Backend commits also slow down as the DB grows: compact and defragment, and keep "
            "--quota-backend-bytes at most 8 GiB (seed §2.2).",
        ),
        *_quota(members, t),
        *_leadership(members, t),
        *_peer_rtt(members, t),
    ]
