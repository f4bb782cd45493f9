"""Pod drill-down: restart history from kube-state-metrics, and from the kube API the
container statuses, last termination, recent Warning events, owner and sibling pods."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.drill.common import Chart, RangeWindow, matcher, relabel, tagged_range
from k8stop.queries.kube.store import KubeReads
from k8stop.queries.model.facts import EventRecord, PodRecord
from k8stop.queries.prom.context import PromContext


@dataclass(frozen=True, slots=True)
class PodKube:
    record: PodRecord | None
    warnings: tuple[EventRecord, ...]  # newest first
    siblings: tuple[PodRecord, ...]  # same owner, this pod excluded, most restarts first


async def pod_restart_history(
    ctx: PromContext, namespace: str, pod: str, window: RangeWindow
) -> tuple[Chart, tuple[str, ...]]:
    """The restart counter per container: each step up is a restart, when it happened."""
    await ctx.require("kube_pod_container_status_restarts_total", "kube-state-metrics not exposed: no restart history")
    only = f"{matcher('namespace', namespace)}, {matcher('pod', pod)}"
    promql = ctx.catalog.render("drill.pod_restarts_counter", extra_matchers=only)
    lines, warnings = await tagged_range(ctx, {"restarts": promql}, window)
    series = sorted(
        (relabel(line, labels.get("container", "")) for labels, line in lines.get("restarts", [])),
        key=lambda line: line.label,
    )
    return Chart(f"{namespace}/{pod} restarts (counter)", "count", tuple(series)), warnings


def pod_kube(kube: KubeReads, namespace: str, pod: str) -> PodKube:
    record = kube.pod(namespace, pod)
    events = kube.events_for("Pod", namespace, pod)
    siblings: tuple[PodRecord, ...] = ()
    if record is not None and record.owner_kind and record.owner_name:
        siblings = tuple(
            sorted(
                (p for p in kube.pods_of_owner(namespace, record.owner_kind, record.owner_name) if p.name != pod),
                key=lambda p: (-p.restarts, p.name),
            )
        )
    return PodKube(record, events, siblings)
