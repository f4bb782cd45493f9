"""Node drill-down: saturation history, conditions, requests/limits vs allocatable, its pods."""

from __future__ import annotations

from k8stop.queries.drill.data import DrillData
from k8stop.queries.drill.next_steps import node_commands
from k8stop.queries.drill.node import Allocation, NodeKube, NodeKubelet, conditions
from k8stop.queries.model.facts import PodUsage
from k8stop.queries.model.keys import NodeKey
from k8stop.queries.model.units import fmt_bytes, fmt_more, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.screens.detail_screen import RowScreen, TextBlock
from textual.widget import Widget

# A condition is healthy when Ready is True and every pressure is False.
HEALTHY = {"Ready": "True"}


def share(used: int, total: int) -> str:
    return f"{used / total:.0%}" if total > 0 else "n/a"


def allocation_text(a: Allocation) -> str:
    verdict = "OVERCOMMITTED: limits exceed allocatable" if a.overcommitted else "not overcommitted"
    cpu, memory = a.allocatable_cpu_millis, a.allocatable_memory_bytes
    return (
        f"requests / limits against allocatable ({verdict}):\n"
        f"  cpu     requests {a.cpu_requests_millis}m ({share(a.cpu_requests_millis, cpu)})  limits "
        f"{a.cpu_limits_millis}m ({share(a.cpu_limits_millis, cpu)})  of {cpu}m\n"
        f"  memory  requests {fmt_bytes(Value.of(a.memory_requests_bytes))} ({share(a.memory_requests_bytes, memory)})  "
        f"limits {fmt_bytes(Value.of(a.memory_limits_bytes))} ({share(a.memory_limits_bytes, memory)})  "
        f"of {fmt_bytes(Value.of(memory))}\n"
        f"  pods    {a.pods} of {a.allocatable_pods}"
    )


def kubelet_text(k: NodeKubelet) -> str:
    rows = [f"kubelet: {k.naming}", f"  pod start p99 {fmt_seconds(k.pod_start_p99)}"]
    rows += [
        f"  {op.operation_type:<22} p99 {fmt_seconds(op.p99):>8}  {op.rate:.3g}/s  errors {op.error_rate:.3g}/s"
        for op in k.runtime_ops[:6]
    ]
    if more := fmt_more(len(k.runtime_ops), 6):
        rows.append(f"  {more}")
    if k.pod_usage:
        rows.append("busiest pods (cAdvisor on this kubelet, CPU over 5m, working set):")
        rows += [f"  {_clip(f'{u.namespace}/{u.pod}', 48):<48} {usage_text(u)}" for u in k.pod_usage]
    return "\n".join(rows)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def usage_text(u: PodUsage) -> str:
    return f"cpu {u.cpu_millis:>5}m mem {fmt_bytes(Value.of(u.memory_bytes)):>9}"


def kube_blocks(k: NodeKube, cadvisor: tuple[PodUsage, ...] = ()) -> list[Widget]:
    """`cadvisor`: the kubelet's per-pod usage, shown where metrics-server gave none."""
    marks = []
    for kind, status in k.conditions:
        good = status == HEALTHY.get(kind, "False")
        marks.append(f"{'●' if good else '✖'} {kind}={status}")
    blocks: list[Widget] = [TextBlock("conditions: " + "  ".join(marks))]
    if k.allocation is not None:
        blocks.append(TextBlock(allocation_text(k.allocation)))
    measured = {(u.namespace, u.pod): u for u in cadvisor}
    rows = ["pods on this node, most restarts first:"]
    for row in k.pods[:50]:
        found = row.usage or measured.get((row.pod.namespace, row.pod.name))
        usage = f"  cpu {found.cpu_millis}m mem {fmt_bytes(Value.of(found.memory_bytes))}" if found else ""
        rows.append(f"  {row.pod.namespace}/{row.pod.name:<40} {row.pod.phase:<9} restarts {row.pod.restarts}{usage}")
    if more := fmt_more(len(k.pods), 50):
        rows.append(f"  {more}")
    if k.usage_note:
        fallback = f"; usage from cAdvisor for the {len(cadvisor)} busiest" if cadvisor else ""
        rows.append(f"  ({k.usage_note}{fallback})")
    blocks.append(TextBlock("\n".join(rows)))
    return blocks


class NodeScreen(RowScreen[NodeKey]):
    HEADING = "node › {key.node}"

    async def build(self, data: DrillData) -> list[Widget]:
        history, warnings = await data.node(self.key, self.window())
        last = {line.label: line.last for line in history.saturation.lines}
        widgets: list[Widget] = [
            TextBlock(
                f"{self.key.node}: "
                + "  ".join(
                    f"{name} {v.number:.0%}" if v is not None and v.known else f"{name} n/a" for name, v in last.items()
                )
            )
        ]
        if history.naming:
            # Say how the name was joined to the series, so a wrong join shows.
            widgets.append(TextBlock(history.naming))
        widgets += [self.plot(chart) for chart in (history.saturation, history.load) if chart.lines]
        kubelet, kubelet_warnings = await data.node_kubelet(self.key)
        if kubelet is not None:
            widgets.append(TextBlock(kubelet_text(kubelet)))
        widgets = self.warned(widgets, warnings + kubelet_warnings)
        kube = await data.node_kube(self.key)
        if kube is not None:
            widgets += kube_blocks(kube, kubelet.pod_usage if kubelet is not None else ())
        else:
            widgets.append(TextBlock("conditions, allocation and pods: need the kube API (live, without --no-kube)"))
            widgets.append(TextBlock("conditions: " + "  ".join(f"{k}=?" for k, _ in conditions(None))))
        return widgets

    def commands(self) -> tuple[str, ...]:
        return node_commands(self.key.node, self.k8stop.settings.context)
