"""Scheduler, controller-manager workqueues and kubelet facts in one request."""

from __future__ import annotations

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import ControlPlaneFacts, KubeletOp, SchedulerFacts, WorkQueue
from k8stop.queries.model.values import ABSENT, Kind, Value
from k8stop.queries.prom.catalog import CATALOG, EXPOSURE_METRICS
from k8stop.queries.prom.client import Sample
from k8stop.queries.prom.combine import by_key, combine, number, or_absent, quantile, split
from k8stop.queries.prom.context import PromContext

SCHEDULER = ("scheduler.pending", "scheduler.attempts_rate", "scheduler.attempt_p99", "scheduler.throughput")
WORKQUEUE = ("workqueue.depth", "workqueue.adds_rate", "workqueue.work_p99", "workqueue.queue_p99")
KUBELET = (
    "kubelet.pod_start_p99",
    "kubelet.runtime_ops_p99",
    "kubelet.runtime_ops_rate",
    "kubelet.runtime_ops_error_rate",
)


async def control_plane_facts(ctx: PromContext) -> tuple[ControlPlaneFacts, tuple[str, ...]]:
    probe = await ctx.probe.get()
    exposed = {c for c in ("scheduler", "controller_manager", "kubelet") if probe.has(EXPOSURE_METRICS[c])}
    if not exposed:
        raise NotExposed(
            "scheduler, controller-manager and kubelet metrics not exposed "
            "(managed control planes often hide the first two)"
        )
    wanted = (
        (SCHEDULER if "scheduler" in exposed else ())
        + (WORKQUEUE if "controller_manager" in exposed else ())
        + (KUBELET if "kubelet" in exposed else ())
    )
    picked: dict[str, str | None] = {}
    parts: dict[str, str] = {}
    for entry_id in wanted:
        entry = CATALOG[entry_id]
        picked[entry_id] = probe.pick(entry)
        if entry.fallbacks and picked[entry_id] is None:
            continue
        parts[entry_id] = ctx.catalog.render(entry_id, metric=picked[entry_id])
    result = await ctx.client.query(combine(parts))
    tagged = split(result)

    def single(entry_id: str) -> Value:
        return first_quantile(tagged, entry_id)

    def pairs(entry_id: str, label: str) -> tuple[tuple[str, float], ...]:
        rows = sorted((labels.get(label, ""), number(v)) for labels, v in tagged.get(entry_id, []))
        return tuple(rows)

    scheduler = None
    if "scheduler" in exposed:
        throughput = single("scheduler.throughput")
        if throughput.kind is Kind.ABSENT and probe.has(EXPOSURE_METRICS["apiserver"]):
            # sum() over no binding series is empty: no pod was bound in the window.
            throughput = Value.of(0.0)
        scheduler = SchedulerFacts(
            attempt_metric=picked.get("scheduler.attempt_p99") or "",
            pending_by_queue=pairs("scheduler.pending", "queue"),
            attempts_by_result=pairs("scheduler.attempts_rate", "result"),
            attempt_p99=single("scheduler.attempt_p99"),
            throughput=throughput,
        )

    tables = {entry_id: by_key(tagged.get(entry_id, []), "name") for entry_id in WORKQUEUE}
    queues = [
        WorkQueue(
            name=key[0],
            depth=number(tables["workqueue.depth"].get(key)),
            adds_rate=number(tables["workqueue.adds_rate"].get(key)),
            work_p99=quantile(
                or_absent(tables["workqueue.work_p99"].get(key)), CATALOG["workqueue.work_p99"].top_bucket
            ),
            queue_p99=quantile(
                or_absent(tables["workqueue.queue_p99"].get(key)), CATALOG["workqueue.queue_p99"].top_bucket
            ),
        )
        for key in set().union(*tables.values())
    ]
    queues.sort(key=lambda q: (-q.depth, -q.adds_rate, q.name))

    facts = ControlPlaneFacts(
        scheduler=scheduler,
        workqueues=tuple(queues),
        pod_start_p99=single("kubelet.pod_start_p99"),
        runtime_ops=kubelet_ops(tagged),
        pod_start_metric=picked.get("kubelet.pod_start_p99") or "",
    )
    return facts, probe.warnings + result.warnings


def first_quantile(tagged: dict[str, list[Sample]], entry_id: str) -> Value:
    rows = tagged.get(entry_id, [])
    return quantile(rows[0][1], CATALOG[entry_id].top_bucket) if rows else ABSENT


def kubelet_ops(tagged: dict[str, list[Sample]]) -> tuple[KubeletOp, ...]:
    """Runtime operations from the answers to KUBELET[1:], busiest first."""
    ops_tables = {entry_id: by_key(tagged.get(entry_id, []), "operation_type") for entry_id in KUBELET[1:]}
    top_ops = CATALOG["kubelet.runtime_ops_p99"].top_bucket
    ops = [
        KubeletOp(
            operation_type=key[0],
            p99=quantile(or_absent(ops_tables["kubelet.runtime_ops_p99"].get(key)), top_ops),
            rate=number(ops_tables["kubelet.runtime_ops_rate"].get(key)),
            error_rate=number(ops_tables["kubelet.runtime_ops_error_rate"].get(key)),
        )
        for key in set().union(*ops_tables.values())
    ]
    ops.sort(key=lambda op: (-op.rate, op.operation_type))
    return tuple(ops)
