"""Disk and inode runway per node (node mixin NodeFilesystemSpaceFillingUp / FilesFillingUp):
graded on when the recent trend fills the filesystem, not on how full it is, so a disk at 78 %
that fills in 20 minutes is critical now."""

from __future__ import annotations

from collections.abc import Callable

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import FilesystemRunway
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.evidence import EvidenceQueries, matchers
from k8stop.queries.rules.grading import graded_finding, present

_ADVICE = {
    "space": (
        "Find what writes (`du -xh --max-depth=2 {mount} | sort -h`, container logs under /var/log/pods, "
        "emptyDir volumes, images). Cap container logs (containerLogMaxSize 100Mi, containerLogMaxFiles 5) "
        "and keep evictionHard nodefs.available 10 % / imagefs.available 15 % (seed §3.1) so the kubelet "
        "evicts and garbage-collects images before the disk is full; a full root filesystem stops the "
        "kubelet and the runtime."
    ),
    "inodes": (
        "Many small files are being created (`find {mount} -xdev -type f | cut -d/ -f2-4 | sort | uniq -c "
        "| sort -n | tail`): often logs or caches in emptyDir volumes, or unused images' layers. Remove "
        "them and keep evictionHard nodefs.inodesFree 5 % so the kubelet evicts before inodes run out."
    ),
}


def urgency_fmt(t: Thresholds) -> Callable[[Value], str]:
    """Reads an urgency (critical horizon / seconds left) back as the time left."""

    def fmt(v: Value) -> str:
        if not v.known or v.number <= 0:
            return "not filling"
        return f"full in {fmt_seconds(Value.of(t.filesystem_full_critical / v.number))}"

    return fmt


def _finding(fs: FilesystemRunway, t: Thresholds, q: EvidenceQueries, window: str) -> Finding | None:
    if fs.seconds_left <= 0:
        return None
    urgency = Value.of(t.filesystem_full_critical / fs.seconds_left)
    bound = bounds.filesystem_runway(t)
    level = bound.grade(urgency)
    # The mixin's gate for the warning: a slow fill of a mostly empty disk is not news yet.
    if level is Level.WARN and fs.free_ratio.known and fs.free_ratio.number >= t.filesystem_free_gate:
        return None
    sel = matchers({"instance": fs.instance, "device": fs.device, "mountpoint": fs.mountpoint})
    left_id, free_id = (
        ("node.filesystem_space_left", "node.filesystem_space_free")
        if fs.resource == "space"
        else ("node.filesystem_inodes_left", "node.filesystem_inodes_free")
    )
    used = Value.of(1 - fs.free_ratio.number) if fs.free_ratio.known else fs.free_ratio
    what = "space" if fs.resource == "space" else "inodes"
    return graded_finding(
        urgency,
        bound,
        urgency_fmt(t),
        rule=f"node.filesystem_{fs.resource}_filling",
        component=Component.NODE,
        subject=fs.node,
        key=f"{fs.node}:{fs.mountpoint}",
        title=f"Node {fs.node} filesystem {fs.mountpoint} ({fs.device}) {what} {fmt_ratio(used)} used, "
        f"full in {fmt_seconds(Value.of(fs.seconds_left))} at the trend of the last {window}",
        query=q.promql(left_id, extra=sel, window=window),
        evidence_detail=f"critical horizon / seconds left ({fs.seconds_left:.0f} s to full)",
        more_evidence=(
            Evidence(q.promql(left_id, extra=sel, window=window), fs.seconds_left, "seconds until full"),
            Evidence(q.promql(free_id, extra=sel), fs.free_ratio.or_none(), f"free {what} ratio now"),
        ),
        recommendation=_ADVICE[fs.resource].format(mount=fs.mountpoint),
        labels=(("node", fs.node), ("resource", f"filesystem_{fs.resource}"), ("mountpoint", fs.mountpoint)),
    )


def disk_runway_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    facts = snap.workloads
    if facts is None:
        return []
    found = (_finding(fs, t, q, facts.runway_window) for fs in facts.filesystems)
    return present(found)
