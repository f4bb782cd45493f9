"""Node drill-down: saturation history from node-exporter, conditions and "is this node
overcommitted?" from kube records, and its pods sorted by restarts and usage."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.drill import charts
from k8stop.queries.drill.common import Chart, Line, RangeWindow, relabel, tagged_range
from k8stop.queries.kube.store import KubeReads
from k8stop.queries.model.errors import describe
from k8stop.queries.model.facts import KubeletOp, NodeRecord, PodRecord, PodUsage
from k8stop.queries.model.values import ABSENT, Value
from k8stop.queries.prom.catalog import CATALOG, EXPOSURE_METRICS, regex_alternatives
from k8stop.queries.prom.client import Sample
from k8stop.queries.prom.combine import by_key, combine, number, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.control_plane import KUBELET, first_quantile, kubelet_ops
from k8stop.queries.prom.node_names import NAMING, kubelet_targets_of, target_naming, targets_of

HISTORY = (
    ("cpu", "node.cpu_utilisation"),
    ("memory", "node.memory_utilisation"),
    ("disk", "node.disk_utilisation"),
)
CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
TOP_PODS = 10  # pods whose cAdvisor usage the node drill-down fetches (busiest by CPU, by memory)


@dataclass(frozen=True, slots=True)
class NodeHistory:
    saturation: Chart  # cpu / memory / disk ratios, threshold = the high level (85 %)
    load: Chart  # load1 per CPU, threshold from the node mixin
    instances: tuple[str, ...]  # the node-exporter targets named after the node
    naming: str  # how they were named: "node names from node_uname_info (instance 10.0.1.11:9100)"


@dataclass(frozen=True, slots=True)
class NodeKubelet:
    """The node's own kubelet: pod startup and runtime operations of this node alone."""

    naming: str  # which kubelet targets, and how they were tied to the node
    pod_start_p99: Value
    runtime_ops: tuple[KubeletOp, ...]  # busiest first
    pod_usage: tuple[PodUsage, ...] = ()  # from cAdvisor on this kubelet: the busiest pods, most CPU first


@dataclass(frozen=True, slots=True)
class Allocation:
    """Sums of pod requests and limits against allocatable: limits above 100 % is overcommit."""

    cpu_requests_millis: int
    cpu_limits_millis: int
    memory_requests_bytes: int
    memory_limits_bytes: int
    allocatable_cpu_millis: int
    allocatable_memory_bytes: int
    pods: int
    allocatable_pods: int

    @property
    def overcommitted(self) -> bool:
        """Limits above allocatable: the node relies on not every pod using its limit at once."""
        return self.cpu_limits_millis > self.allocatable_cpu_millis > 0 or (
            self.memory_limits_bytes > self.allocatable_memory_bytes > 0
        )


@dataclass(frozen=True, slots=True)
class NodePod:
    pod: PodRecord
    usage: PodUsage | None


@dataclass(frozen=True, slots=True)
class NodeKube:
    record: NodeRecord | None
    conditions: tuple[tuple[str, str], ...]  # the four the seed watches, "Unknown" when missing
    allocation: Allocation | None
    pods: tuple[NodePod, ...]  # most restarts first, then most CPU
    usage_note: str  # why usage is missing, or ""


async def node_targets(ctx: PromContext, promql: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """instance -> naming rule of a node's targets (node_names.targets_of and the like): one
    instant query of the name map, so the figures after it read only this node's series."""
    found = await ctx.client.query(promql)
    return {labels.get("instance", ""): labels.get(NAMING, "") for labels, _ in found.samples}, found.warnings


def naming_text(targets: dict[str, str], job: str) -> str:
    if not targets:
        return f"no {job} target is named after this node"
    return "; ".join(target_naming(instance, how) for instance, how in sorted(targets.items()))


async def node_history(ctx: PromContext, node: str, window: RangeWindow) -> tuple[NodeHistory, tuple[str, ...]]:
    await ctx.require(
        "node_cpu_seconds_total", "node-exporter metrics not exposed: no history (metrics-server keeps none)"
    )
    targets, warnings = await node_targets(ctx, targets_of(ctx, node))
    # No target: an impossible matcher keeps the query's shape and returns empty lines.
    only = f'instance=~"{regex_alternatives(sorted(targets))}"' if targets else 'instance=""'
    render = ctx.catalog.render
    parts = {name: render(entry_id, extra_matchers=only) for name, entry_id in HISTORY}
    parts["load1"] = render("node.load1_per_cpu", extra_matchers=only)
    lines, range_warnings = await tagged_range(ctx, parts, window)

    def line(tag: str) -> Line:
        found = lines.get(tag)
        return relabel(found[0][1], tag) if found else Line(tag, (), ())

    t = ctx.settings.thresholds
    saturation = charts.node_saturation(node, (line(name) for name, _ in HISTORY), t)
    load = Chart(f"{node} load1 per CPU", "count", (line("load1"),), t.node_load1_per_cpu, "NM saturation")
    return (
        NodeHistory(saturation, load, tuple(sorted(targets)), naming_text(targets, "node-exporter")),
        warnings + range_warnings,
    )


async def node_kubelet(ctx: PromContext, node: str) -> tuple[NodeKubelet | None, tuple[str, ...]]:
    """None when no kubelet metrics are scraped; two instant queries (targets, then figures)."""
    probe = await ctx.probe.get()
    if not probe.has(EXPOSURE_METRICS["kubelet"]):
        return None, ()
    targets, warnings = await node_targets(ctx, kubelet_targets_of(ctx, node))
    if not targets:
        return NodeKubelet(naming_text(targets, "kubelet"), ABSENT, ()), warnings
    only = f'instance=~"{regex_alternatives(sorted(targets))}"'
    parts = {}
    for entry_id in KUBELET:
        metric = probe.pick(CATALOG[entry_id])
        if not CATALOG[entry_id].fallbacks or metric is not None:
            parts[entry_id] = ctx.catalog.render(entry_id, metric=metric, extra_matchers=only)
    if probe.has(EXPOSURE_METRICS["cadvisor"]):
        parts.update(_pod_usage_parts(ctx, only))
    result = await ctx.client.query(combine(parts))
    tagged = split(result)
    kubelet = NodeKubelet(
        naming_text(targets, "kubelet"),
        first_quantile(tagged, "kubelet.pod_start_p99"),
        kubelet_ops(tagged),
        _pod_usage(tagged),
    )
    return kubelet, warnings + result.warnings


def _pod_usage_parts(ctx: PromContext, only: str) -> dict[str, str]:
    """The TOP_PODS busiest pods by CPU and by memory, from cAdvisor on the node's kubelet: the
    same instance serves /metrics and /metrics/cadvisor, whatever labels the series carry."""
    cpu = ctx.catalog.render("node.pod_cpu_usage", extra_matchers=only)
    memory = ctx.catalog.render("node.pod_memory_working_set", extra_matchers=only)
    busiest = f"(topk({TOP_PODS}, {cpu}) or topk({TOP_PODS}, {memory}))"
    return {
        tag: f"{expr} and on (namespace, pod) {busiest}" for tag, expr in (("pod_cpu", cpu), ("pod_memory", memory))
    }


def _pod_usage(tagged: dict[str, list[Sample]]) -> tuple[PodUsage, ...]:
    cpu = by_key(tagged.get("pod_cpu", []), "namespace", "pod")
    memory = by_key(tagged.get("pod_memory", []), "namespace", "pod")
    usage = [
        PodUsage(
            namespace, pod, round(number(cpu.get((namespace, pod))) * 1000), round(number(memory.get((namespace, pod))))
        )
        for namespace, pod in cpu.keys() | memory.keys()
    ]
    return tuple(sorted(usage, key=lambda u: (-u.cpu_millis, -u.memory_bytes, u.namespace, u.pod)))


def allocation(record: NodeRecord, pods: tuple[PodRecord, ...]) -> Allocation:
    # Finished pods hold no resources: the scheduler ignores them too.
    active = [p for p in pods if p.phase not in ("Succeeded", "Failed")]
    return Allocation(
        cpu_requests_millis=sum(p.cpu_request_millis for p in active),
        cpu_limits_millis=sum(p.cpu_limit_millis for p in active),
        memory_requests_bytes=sum(p.memory_request_bytes for p in active),
        memory_limits_bytes=sum(p.memory_limit_bytes for p in active),
        allocatable_cpu_millis=record.allocatable_cpu_millis,
        allocatable_memory_bytes=record.allocatable_memory_bytes,
        pods=len(active),
        allocatable_pods=record.allocatable_pods,
    )


def conditions(record: NodeRecord | None) -> tuple[tuple[str, str], ...]:
    have = dict(record.conditions) if record is not None else {}
    return tuple((kind, have.get(kind, "Unknown")) for kind in CONDITIONS)


async def node_kube(kube: KubeReads, node: str) -> NodeKube:
    record = kube.node(node)
    pods = kube.pods_on_node(node)
    note = ""
    usage: dict[tuple[str, str], PodUsage] = {}
    try:
        usage = {(u.namespace, u.pod): u for u in await kube.pod_usage()}
    except Exception as exc:  # metrics-server is optional: say why usage is missing
        note = f"pod usage unavailable: {describe(exc)}"
    rows = [NodePod(p, usage.get((p.namespace, p.name))) for p in pods]
    rows.sort(key=lambda r: (-r.pod.restarts, -(r.usage.cpu_millis if r.usage else 0), r.pod.namespace, r.pod.name))
    return NodeKube(
        record,
        conditions(record),
        allocation(record, pods) if record is not None else None,
        tuple(rows),
        note,
    )
