"""Container restarts from kube-state-metrics: top N by the last hour, ranked on the server."""

from __future__ import annotations

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import ContainerRestarts, RestartsFacts
from k8stop.queries.prom.combine import combine, number, split
from k8stop.queries.prom.context import PromContext

KEY = ("namespace", "pod", "container")
_ON = "on (namespace, pod, container)"


async def restarts_facts(ctx: PromContext, top: int = 10) -> tuple[RestartsFacts, tuple[str, ...]]:
    probe = await ctx.probe.get()
    if not probe.has("kube_pod_container_status_restarts_total"):
        raise NotExposed(
            "kube-state-metrics not found: no kube_pod_container_status_restarts_total series "
            "(restarts come from the kube API instead)"
        )
    render = ctx.catalog.render
    ranked = f"topk({max(1, top)}, {render('restarts.increase_1h')} > 0)"
    query = combine(
        {
            "1h": ranked,
            "15m": f"{render('restarts.increase_15m')} and {_ON} {ranked}",
            "waiting": f"{render('restarts.waiting_reason')} and {_ON} {ranked}",
            "terminated": f"{render('restarts.last_terminated_reason')} and {_ON} {ranked}",
            "pods": f"{render('workload.pod_info')} and on (namespace, pod) {ranked}",
        }
    )
    result = await ctx.client.query(query)
    parts = split(result)

    def reasons(tag: str) -> dict[tuple[str, ...], str]:
        out: dict[tuple[str, ...], str] = {}
        for labels, _value in parts.get(tag, []):
            out.setdefault(tuple(labels.get(n, "") for n in KEY), labels.get("reason", ""))
        return out

    recent = {tuple(labels.get(n, "") for n in KEY): number(v) for labels, v in parts.get("15m", [])}
    waiting = reasons("waiting")
    terminated = reasons("terminated")
    nodes = {
        (labels.get("namespace", ""), labels.get("pod", "")): labels.get("node", "")
        for labels, _ in parts.get("pods", [])
    }
    top_rows = []
    for labels, value in parts.get("1h", []):
        key = tuple(labels.get(n, "") for n in KEY)
        top_rows.append(
            ContainerRestarts(
                namespace=key[0],
                pod=key[1],
                container=key[2],
                restarts_1h=number(value),
                restarts_15m=recent.get(key, 0.0),
                waiting_reason=waiting.get(key) or None,
                last_terminated_reason=terminated.get(key) or None,
                node=nodes.get((key[0], key[1])) or None,
            )
        )
    top_rows.sort(key=lambda c: (-c.restarts_1h, -c.restarts_15m, c.namespace, c.pod, c.container))
    return RestartsFacts("kube-state-metrics", tuple(top_rows)), probe.warnings + result.warnings
