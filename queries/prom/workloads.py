"""Containers against their limits, from cAdvisor and kube-state-metrics: CPU throttling and
memory headroom with a time-to-limit forecast.

One instant query ranks the N most throttled containers and the N closest to their memory
limit on the server (topk) and fetches, for those only, CPU usage, the limits and the pods'
node and controller; one range query fetches the working-set history of the N memory
containers, fitted by least squares (queries/drill/common.py `forecast`, as the etcd quota
forecast) for the time left to the limit. The answer stays N-sized whatever the cluster size.
"""

from __future__ import annotations

from dataclasses import replace

from k8stop.queries.drill.common import Line, RangeWindow, forecast, tagged_range
from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import (
    ContainerMemory,
    ContainerThrottling,
    PodPlacement,
    WorkloadsFacts,
)
from k8stop.queries.model.values import ABSENT
from k8stop.queries.prom.capacity import commitments
from k8stop.queries.prom.catalog import CATALOG, EXPOSURE_METRICS, regex_alternatives
from k8stop.queries.prom.client import LabelMap, Sample
from k8stop.queries.prom.combine import combine, number, or_absent, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.filesystems import WINDOW as FS_WINDOW
from k8stop.queries.prom.filesystems import filesystem_runway
from k8stop.queries.prom.hpa import hpa_status
from k8stop.queries.prom.kubelet_health import kubelet_health
from k8stop.queries.prom.probe import ProbeResult

# CPUThrottlingHigh fires after 15 m above 25 % on 5 m windows: the share over 15 m is that
# sustained figure in one instant query.
WINDOW = "15m"
# Working-set history fitted for the forecast: long enough to see a leak, short enough to
# follow the current trend; a point per minute.
TREND_WINDOW = 1800.0
TREND_POINTS = 31
KEY = ("namespace", "pod", "container")
_ON = "on (namespace, pod, container)"

Key = tuple[str, str, str]


def _key(labels: LabelMap) -> Key:
    return (labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", ""))


def _placements(samples: list[Sample]) -> dict[tuple[str, str], PodPlacement]:
    out: dict[tuple[str, str], PodPlacement] = {}
    for labels, _ in samples:
        out.setdefault(
            (labels.get("namespace", ""), labels.get("pod", "")),
            PodPlacement(labels.get("node", ""), labels.get("created_by_kind", ""), labels.get("created_by_name", "")),
        )
    return out


async def workloads_facts(ctx: PromContext, top: int = 10) -> tuple[WorkloadsFacts, tuple[str, ...]]:
    probe = await ctx.probe.get()
    containers, nodes = probe.has(EXPOSURE_METRICS["cadvisor"]), probe.has(EXPOSURE_METRICS["node"])
    if not containers and not nodes and not probe.has(EXPOSURE_METRICS["kubelet"]):
        raise NotExposed(
            "neither cAdvisor (container_cpu_usage_seconds_total: scrape the kubelets' /metrics/cadvisor), "
            "node-exporter nor kubelet metrics are exposed"
        )
    n = max(1, top)
    facts, warnings = (
        await _containers(ctx, probe, n) if containers else (WorkloadsFacts(WINDOW, trend_window=TREND_WINDOW), ())
    )
    if nodes:
        filesystems, more = await filesystem_runway(ctx, n)
        facts = replace(facts, filesystems=filesystems, runway_window=FS_WINDOW)
        warnings += more
    hpas, more = await hpa_status(ctx, probe, n)
    hpa_metric = probe.pick(CATALOG["hpa.current_replicas"]) or ""
    facts, warnings = replace(facts, hpas=hpas, hpa_metric=hpa_metric), warnings + more
    committed, more = await commitments(ctx, probe)
    facts, warnings = replace(facts, commitments=committed), warnings + more
    if probe.has(EXPOSURE_METRICS["kubelet"]):
        kubelets, more = await kubelet_health(ctx, n)
        facts = replace(facts, kubelets=kubelets)
        warnings += more
    return facts, probe.warnings + warnings


async def _containers(ctx: PromContext, probe: ProbeResult, n: int) -> tuple[WorkloadsFacts, tuple[str, ...]]:
    render = ctx.catalog.render
    throttled = f"topk({n}, {render('workload.cpu_throttled_ratio', window=WINDOW)} > 0)"
    parts = {
        "throttled": throttled,
        "usage": f"{render('workload.cpu_usage', window=WINDOW)} and {_ON} {throttled}",
    }
    cpu_limit = probe.pick(CATALOG["workload.cpu_limit"])
    if cpu_limit is not None:
        parts["cpu_limit"] = f"{render('workload.cpu_limit', metric=cpu_limit)} and {_ON} {throttled}"
    ranked = throttled
    memory_limit = probe.pick(CATALOG["workload.memory_limit"])
    if memory_limit is not None:
        limited = f"({render('workload.memory_limit', metric=memory_limit)} > 0)"
        closest = f"topk({n}, {render('workload.memory_working_set')} / {_ON} {limited})"
        parts["working_set"] = f"{render('workload.memory_working_set')} and {_ON} {closest}"
        parts["memory_limit"] = f"{limited} and {_ON} {closest}"
        ranked = f"({throttled} or {closest})"
    parts["pods"] = f"{render('workload.pod_info')} and on (namespace, pod) {ranked}"
    result = await ctx.client.query(combine(parts))
    warnings = result.warnings
    tables = split(result)
    placements = _placements(tables.get("pods", []))

    def placed(key: Key) -> PodPlacement:
        return placements.get((key[0], key[1]), PodPlacement())

    usage = {_key(labels): value for labels, value in tables.get("usage", [])}
    cpu_limits = {_key(labels): value for labels, value in tables.get("cpu_limit", [])}
    throttling = [
        ContainerThrottling(
            *key,
            throttled_ratio=number(value),
            cpu_usage_cores=or_absent(usage.get(key)),
            cpu_limit_cores=or_absent(cpu_limits.get(key)),
            placement=placed(key),
        )
        for key, value in ((_key(labels), value) for labels, value in tables.get("throttled", []))
    ]
    throttling.sort(key=lambda c: (-c.throttled_ratio, c.namespace, c.pod, c.container))

    working = {_key(labels): value for labels, value in tables.get("working_set", [])}
    limits = {_key(labels): value for labels, value in tables.get("memory_limit", [])}
    history, more = await _working_set_history(ctx, [k for k in working if k in limits])
    warnings += more
    memory = []
    for key, value in working.items():
        if key not in limits:
            continue
        limit = number(limits[key])
        fit = forecast(history[key], limit) if key in history else None
        memory.append(
            ContainerMemory(
                *key,
                working_set_bytes=number(value),
                limit_bytes=limit,
                growth_bytes_per_s=fit.growth_bytes_per_s if fit else 0.0,
                growth_stderr=fit.growth_stderr if fit else 0.0,
                seconds_to_limit=fit.seconds_left if fit else ABSENT,
                seconds_to_limit_low=fit.seconds_left_low if fit else ABSENT,
                placement=placed(key),
            )
        )
    memory.sort(key=lambda c: (-c.ratio, c.namespace, c.pod, c.container))
    facts = WorkloadsFacts(WINDOW, tuple(throttling), tuple(memory), TREND_WINDOW, cpu_limit or "", memory_limit or "")
    return facts, warnings


async def _working_set_history(ctx: PromContext, keys: list[Key]) -> tuple[dict[Key, Line], tuple[str, ...]]:
    """The working set of these containers over the trend window, one line each."""
    if not keys:
        return {}, ()
    narrow = ", ".join(f'{label}=~"{regex_alternatives(sorted({k[i] for k in keys}))}"' for i, label in enumerate(KEY))
    window = RangeWindow.ending(ctx.clock(), TREND_WINDOW, TREND_POINTS)
    lines, warnings = await tagged_range(
        ctx, {"ws": ctx.catalog.render("workload.memory_working_set", extra_matchers=narrow)}, window
    )
    wanted = set(keys)
    return {_key(labels): line for labels, line in lines.get("ws", []) if _key(labels) in wanted}, warnings
