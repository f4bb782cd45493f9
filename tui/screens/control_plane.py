"""Scheduler and controller-manager drill-down."""

from __future__ import annotations

from k8stop.queries.drill.data import DrillData
from k8stop.queries.drill.next_steps import control_plane_commands
from k8stop.queries.model.facts import ControlPlaneFacts
from k8stop.queries.model.units import fmt_rate, fmt_seconds
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from textual.widget import Widget


def facts_blocks(
    f: ControlPlaneFacts, throughput_target: float, depth_target: float, work_target: float
) -> list[Widget]:
    blocks: list[Widget] = []
    s = f.scheduler
    if s is None:
        blocks.append(TextBlock("scheduler: metrics not exposed"))
    else:
        pending = "  ".join(f"{q} {v:.0f}" for q, v in s.pending_by_queue) or "none"
        attempts = "  ".join(f"{r} {fmt_rate(v)}" for r, v in s.attempts_by_result) or "none"
        tput = fmt_rate(s.throughput.number) if s.throughput.known else "n/a"
        blocks.append(
            TextBlock(
                f"scheduler: pending by queue: {pending}\n"
                f"attempts by result: {attempts}\n"
                f"scheduling attempt p99 {fmt_seconds(s.attempt_p99)}   throughput {tput} "
                f"(seed capacity target {throughput_target:.0f} pods/s)"
            )
        )
    rows = [f"workqueues (depth target < {depth_target:.0f}, work p99 < {work_target:g} s, seed 1.1):"]
    for q in f.workqueues:
        flag = "✖" if q.depth >= depth_target or (q.work_p99.at_least(work_target)) else "●"
        rows.append(
            f"  {flag} {q.name:<36} depth {q.depth:>6.0f}  adds {fmt_rate(q.adds_rate):>8}  "
            f"work p99 {fmt_seconds(q.work_p99):>9}  queue p99 {fmt_seconds(q.queue_p99)}"
        )
    if not f.workqueues:
        rows.append("  none exposed")
    blocks.append(TextBlock("\n".join(rows)))
    return blocks


class ControlPlaneScreen(DetailScreen):
    def __init__(self) -> None:
        super().__init__("scheduler and controllers   (esc back, r reload)")

    async def build(self, data: DrillData) -> list[Widget]:
        t = self.k8stop.settings.thresholds
        facts: ControlPlaneFacts | None = self.feed_facts("control_plane")
        widgets: list[Widget] = []
        if facts is not None:
            widgets += facts_blocks(facts, t.scheduler_throughput, t.workqueue_depth, t.workqueue_work_p99)
        else:
            widgets.append(self.feed_missing("control_plane"))
        queues = tuple(q.name for q in facts.workqueues[:5]) if facts is not None else ()
        history, warnings = await data.control_plane(self.window(), queues)
        widgets += [
            self.plot(c)
            for c in (history.pending, history.throughput, history.attempt_p99, history.workqueue_depth)
            if c.lines
        ]
        return self.warned(widgets, warnings)

    def commands(self) -> tuple[str, ...]:
        return control_plane_commands(self.k8stop.settings.context)
