"""Scheduler and controller-manager drill-down: pending pods by queue, throughput and
attempt p99 over time, against the seed's 100 pods/s and the workqueue depth target."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.drill import charts
from k8stop.queries.drill.common import Chart, Line, RangeWindow, relabel, tagged_range
from k8stop.queries.model.errors import NotExposed
from k8stop.queries.prom.catalog import CATALOG, EXPOSURE_METRICS, regex_alternatives
from k8stop.queries.prom.combine import quantile
from k8stop.queries.prom.context import PromContext


@dataclass(frozen=True, slots=True)
class ControlPlaneHistory:
    pending: Chart  # one line per scheduler queue
    throughput: Chart  # pods bound per second against the seed's 100 pods/s
    attempt_p99: Chart
    workqueue_depth: Chart  # the deepest queues now, over time, against the seed's 1000


async def control_plane_history(
    ctx: PromContext, window: RangeWindow, queues: tuple[str, ...] = ()
) -> tuple[ControlPlaneHistory, tuple[str, ...]]:
    probe = await ctx.probe.get()
    has_scheduler = probe.has(EXPOSURE_METRICS["scheduler"])
    has_queues = probe.has(EXPOSURE_METRICS["controller_manager"])
    if not (has_scheduler or has_queues):
        raise NotExposed("scheduler and controller-manager metrics not exposed (managed control plane?)")
    render = ctx.catalog.render
    parts: dict[str, str] = {}
    if has_scheduler:
        parts["pending"] = render("scheduler.pending")
        metric = probe.pick(CATALOG["scheduler.attempt_p99"])
        if metric:
            parts["attempt_p99"] = render("scheduler.attempt_p99", metric=metric)
    # Binding POSTs are API-server series: throughput is known even when the scheduler is hidden.
    parts["throughput"] = render("scheduler.throughput")
    if has_queues and queues:
        parts["depth"] = render("workqueue.depth", extra_matchers=f'name=~"{regex_alternatives(queues)}"')
    lines, warnings = await tagged_range(ctx, parts, window)
    top = CATALOG["scheduler.attempt_p99"].top_bucket
    lines["attempt_p99"] = [
        (labels, Line(line.label, line.times, tuple(quantile(v, top) for v in line.values)))
        for labels, line in lines.get("attempt_p99", [])
    ]

    def by(tag: str, label: str) -> tuple[Line, ...]:
        return tuple(
            sorted(
                (relabel(line, labels.get(label, tag)) for labels, line in lines.get(tag, [])),
                key=lambda line: line.label,
            )
        )

    history = ControlPlaneHistory(
        *charts.control_plane(
            by("pending", "queue"),
            by("throughput", "throughput"),
            by("attempt_p99", "attempt p99"),
            by("depth", "name"),
            ctx.settings.thresholds,
        )
    )
    return history, warnings
