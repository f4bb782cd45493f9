"""`w`: containers against their limits: the most CPU-throttled and those closest to their
memory limit, with the time the trend reaches it. Read from the workloads feed (no query of its own)."""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.drill.data import DrillData
from k8stop.queries.model.facts import (
    ContainerMemory,
    ContainerThrottling,
    FilesystemRunway,
    KubeletHealth,
    ResourceCommitment,
    WorkloadsFacts,
)
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_bytes, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.capacity import fmt_amount
from k8stop.queries.rules.containers import fmt_cores
from k8stop.queries.rules.node_stability import CREATE
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from textual.widget import Widget

FLAGS = {Level.FAIL: "‼", Level.WARN: "!"}
NAME = 34  # namespace/pod/container column; the rest of a line fits 80 columns
WIDTH = 78  # a line inside the blocks' padding at 80 columns


def _name(namespace: str, pod: str, container: str) -> str:
    ident = f"{namespace}/{pod}/{container}"
    return ident if len(ident) <= NAME else "…" + ident[-(NAME - 1) :]


def _throttled_line(c: ContainerThrottling, t: Thresholds) -> str:
    flag = FLAGS.get(bounds.cpu_throttling(t).grade(Value.of(c.throttled_ratio)), " ")
    use = fmt_cores(c.cpu_usage_cores.number) if c.cpu_usage_cores.known else "?"
    limit = fmt_cores(c.cpu_limit_cores.number) if c.cpu_limit_cores.known else "none"
    return (
        f"{flag} {_name(c.namespace, c.pod, c.container):<{NAME}} {fmt_ratio(Value.of(c.throttled_ratio)):>5} "
        f"use {use:>5}/{limit:<5} {c.placement.node}"
    )


def _memory_line(c: ContainerMemory, t: Thresholds) -> str:
    level = bounds.container_memory(t).grade(Value.of(c.ratio))
    soon = c.seconds_to_limit.known and c.seconds_to_limit.number <= t.container_memory_runway
    flag = FLAGS.get(Level.FAIL if soon and level >= Level.WARN else level, " ")
    left = f"full {fmt_seconds(c.seconds_to_limit)}" if c.seconds_to_limit.known else "not growing"
    return (
        f"{flag} {_name(c.namespace, c.pod, c.container):<{NAME}} {fmt_ratio(Value.of(c.ratio)):>5} "
        f"{fmt_bytes(Value.of(c.limit_bytes)):>8} {left}"
    )


def _filesystem_line(fs: FilesystemRunway, t: Thresholds) -> str:
    level = bounds.filesystem_runway(t).grade(Value.of(t.filesystem_full_critical / max(fs.seconds_left, 1e-9)))
    used = fmt_ratio(Value.of(1 - fs.free_ratio.number)) if fs.free_ratio.known else "?"
    where = f"{fs.node} {fs.mountpoint}"
    where = where if len(where) <= NAME else "…" + where[-(NAME - 1) :]
    return (
        f"{FLAGS.get(level, ' ')} {where:<{NAME}} {fs.resource:<6} {used:>5} used  "
        f"full in {fmt_seconds(Value.of(fs.seconds_left))}"
    )


def _kubelet_line(k: KubeletHealth, t: Thresholds) -> str:
    level = bounds.kubelet_pleg(t).grade(k.pleg_relist_p99)
    if k.evictions_1h or k.pressure:
        level = max(level, Level.WARN)
    evicted = ", ".join(f"{s} {n:.0f}" for s, n in k.evictions_1h) or "no evictions"
    pressure = f"  {', '.join(k.pressure)}" if k.pressure else ""
    extras = []
    flapping = bounds.readiness_flapping(t).grade(Value.of(k.ready_changes_15m))
    if flapping >= Level.WARN:
        extras.append(f"Ready changed {k.ready_changes_15m:.0f}x")
    create = dict(k.runtime_p99).get(CREATE)
    slow = bounds.container_create(t).grade(create) if create is not None else Level.OK
    if create is not None and slow >= Level.WARN:
        extras.append(f"create p99 {fmt_seconds(create)}")
    stalled = max((bounds.node_psi(t).grade(Value.of(share)) for _, share in k.psi_full), default=Level.OK)
    if stalled >= Level.WARN:
        resource, share = k.psi_full[0]
        extras.append(f"PSI {resource} {fmt_ratio(Value.of(share))}")
    level = max(level, flapping, slow, stalled)
    name = k.node if len(k.node) <= 24 else "…" + k.node[-23:]
    line = f"{FLAGS.get(level, ' ')} {name:<24} PLEG p99 {fmt_seconds(k.pleg_relist_p99):>8}  {evicted}{pressure}"
    line += "".join(f"  {extra}" for extra in extras)
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"


def _commitment_line(c: ResourceCommitment, t: Thresholds) -> str:
    flag = FLAGS.get(bounds.overcommit(t, c).grade(Value.of(c.n1_ratio)), " ")
    line = (
        f"{flag} {c.resource:<6} requests {fmt_amount(c.resource, c.requests)} of "
        f"{fmt_amount(c.resource, c.allocatable)} ({fmt_ratio(Value.of(c.ratio))})  "
        f"N-1 {fmt_ratio(Value.of(c.n1_ratio))}"
    )
    room = WIDTH - len(line) - len(" (without )")
    node = c.largest_node if len(c.largest_node) <= room else "…" + c.largest_node[-(room - 1) :]
    return f"{line} (without {node})" if room > 1 else line


def facts_blocks(f: WorkloadsFacts, t: Thresholds) -> list[Widget]:
    capacity = [
        f"Requests / allocatable, and N-1: without the largest node (warn past "
        f"{fmt_ratio(Value.of(t.overcommit_n1_ratio))},",
        "kubernetes-mixin KubeCPUOvercommit / KubeMemoryOvercommit):",
    ]
    capacity += [_commitment_line(c, t) for c in f.commitments] or [
        "  no requests or allocatable from kube-state-metrics"
    ]
    throttled = [
        f"CPU throttling: share of CFS periods throttled over {f.window}",
        f"(warn at {fmt_ratio(Value.of(t.cpu_throttling_ratio))}, kubernetes-mixin CPUThrottlingHigh)",
    ]
    throttled += [_throttled_line(c, t) for c in f.throttled] or ["  no container with a CPU limit was throttled"]
    warn, fail = t.container_memory_ratio
    memory = [
        f"Memory: working set / limit (warn {fmt_ratio(Value.of(warn))}, critical {fmt_ratio(Value.of(fail))}",
        f"or full within {fmt_seconds(Value.of(t.container_memory_runway))} at the trend of the last "
        f"{fmt_seconds(Value.of(f.trend_window))})",
    ]
    memory += [_memory_line(c, t) for c in f.memory] or ["  no container with a memory limit"]
    disks = [
        f"Filesystems filling at the trend of the last {f.runway_window or '-'} (warn full within "
        f"{fmt_seconds(Value.of(t.filesystem_full_warn))},",
        f"critical within {fmt_seconds(Value.of(t.filesystem_full_critical))}, node mixin NodeFilesystemSpaceFillingUp):",
    ]
    disks += [_filesystem_line(fs, t) for fs in f.filesystems] or ["  no filesystem is filling"]
    kubelets = [
        f"Kubelets: PLEG relist p99 (warn {fmt_seconds(Value.of(t.kubelet_pleg_relist_p99))}, "
        "KubeletPlegDurationHigh), evictions 1h,",
        f"Ready flapping (KubeNodeReadinessFlapping), container create p99 (warn "
        f"{fmt_seconds(Value.of(t.container_create_p99))}),",
        f"PSI full: every task stalled on memory or I/O (warn {fmt_ratio(Value.of(t.node_psi_full[0]))}):",
    ]
    kubelets += [_kubelet_line(k, t) for k in f.kubelets] or ["  no kubelet metrics"]
    held = fmt_seconds(Value.of(t.hpa_mismatch_for))
    hpas = [
        "Autoscalers at maxReplicas (KubeHpaMaxedOut) or off their desired size,",
        f"held: for {held} and more (KubeHpaReplicasMismatch):",
    ]
    hpas += [
        f"{'!' if h.mismatch_held or h.current >= h.max_replicas > h.min_replicas else ' '} "
        f"{h.namespace}/{h.name:<30} current {h.current:.0f}  desired {h.desired:.0f}  "
        f"range {h.min_replicas:.0f}-{h.max_replicas:.0f}{'  held' if h.mismatch_held else ''}"
        for h in f.hpas
    ] or ["  none"]
    blocks = (capacity, throttled, memory, disks, kubelets, hpas)
    return [TextBlock("\n".join(block)) for block in blocks]


class WorkloadsScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("workloads and nodes: limits, disk runway   (esc back, r reload)")

    async def build(self, data: DrillData) -> list[Widget]:
        return self.from_feed("workloads", lambda facts: facts_blocks(facts, self.k8stop.settings.thresholds))
