"""Container restarts from kube-state-metrics: the containers failing now (waiting for a bad
reason) and the top N by restarts in the last hour, picked on the server, with how many
qualified in all (the panel says "N more")."""

from __future__ import annotations

from k8stop.queries.model.facts import (
    BENIGN_WAITING,
    RESTARTS_SHOWN,
    ContainerRestarts,
    RestartsFacts,
    restarts_rank,
)
from k8stop.queries.prom.combine import combine, number, split
from k8stop.queries.prom.context import PromContext

KEY = ("namespace", "pod", "container")
_ON = "on (namespace, pod, container)"


async def restarts_facts(ctx: PromContext, top: int = RESTARTS_SHOWN) -> tuple[RestartsFacts, tuple[str, ...]]:
    probe = await ctx.require(
        "kube_pod_container_status_restarts_total",
        "kube-state-metrics not found: no kube_pod_container_status_restarts_total series "
        "(restarts come from the kube API instead)",
    )
    render = ctx.catalog.render
    hour, top = render("restarts.increase_1h"), max(1, top)
    # Waiting for a bad reason: `unless on (reason)` a vector holding the benign reasons
    benign = " or ".join(f'label_replace(vector(1), "reason", "{r}", "", "")' for r in sorted(BENIGN_WAITING))
    failing = f"{hour} and {_ON} ({render('restarts.waiting_reason')} unless on (reason) ({benign}))"
    qualified = f"({hour} > 0) or {_ON} ({failing})"
    # Failing containers are picked on their own: a CrashLoopBackOff with few restarts must
    # not lose its place to containers that restarted more and run fine now.
    ranked = f"(topk({top}, {failing}) or {_ON} topk({top}, {hour} > 0))"
    query = combine(
        {
            "1h": ranked,
            "count": f"count({qualified})",
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
    top_rows.sort(key=restarts_rank)
    counted = parts.get("count", [])
    total = round(number(counted[0][1])) if counted else 0
    facts = RestartsFacts("kube-state-metrics", tuple(top_rows[:top]), total=max(total, min(len(top_rows), top)))
    return facts, probe.warnings + result.warnings
