"""Pod drill-down: restart history, container statuses, Warning events, owner and siblings."""

from __future__ import annotations

from k8stop.queries.drill.pod import PodKube, pod_kube, pod_restart_history
from k8stop.queries.model.errors import describe
from k8stop.queries.model.facts import RestartsFacts
from k8stop.tui.screens.detail_screen import DetailScreen, TextBlock
from k8stop.widgets.chart_plot import ChartPlot
from textual.widget import Widget


def kube_blocks(k: PodKube) -> list[Widget]:
    r = k.record
    if r is None:
        return [TextBlock("the kube API does not know this pod (deleted, or outside the namespace)")]
    owner = f"{r.owner_kind}/{r.owner_name}" if r.owner_kind else "none (bare pod)"
    rows = [f"{r.namespace}/{r.name}  phase {r.phase}  node {r.node or '-'}  owner {owner}", "containers:"]
    for c in r.containers:
        state = c.waiting_reason or ("ready" if c.ready else "not ready")
        last = (
            f"last terminated {c.last_terminated_reason or '?'} exit {c.last_exit_code} at {c.last_finished_at or '?'}"
            if c.last_terminated_reason or c.last_exit_code is not None
            else "no previous termination"
        )
        rows.append(f"  {c.name:<16} restarts {c.restarts:<4} {state:<18} {last}")
    events = ["recent Warning events:"] + [
        f"  {e.last_seen or '?'}  {e.reason} x{e.count}: {e.message}" for e in k.warnings[:10]
    ]
    if not k.warnings:
        events.append("  none")
    siblings = [f"sibling pods of {owner}:"] + [
        f"  {p.name:<44} {p.phase:<9} restarts {p.restarts}  node {p.node or '-'}" for p in k.siblings[:20]
    ]
    if not k.siblings:
        siblings.append("  none")
    return [TextBlock("\n".join(rows)), TextBlock("\n".join(events)), TextBlock("\n".join(siblings))]


def recorded_blocks(facts: RestartsFacts | None, namespace: str, pod: str) -> list[Widget]:
    rows = [f"{namespace}/{pod} from the restarts feed ({facts.source if facts else 'no data'}):"]
    for c in facts.top if facts else ():
        if (c.namespace, c.pod) == (namespace, pod):
            rows.append(
                f"  {c.container:<16} restarts 1h {c.restarts_1h:.0f}  15m {c.restarts_15m:.0f}  "
                f"waiting {c.waiting_reason or '-'}  last terminated {c.last_terminated_reason or '-'}"
            )
    return [TextBlock("\n".join(rows))]


class PodScreen(DetailScreen):
    def __init__(self, namespace: str, pod: str) -> None:
        super().__init__(f"pod › {namespace}/{pod}   (esc back, r reload)")
        self.namespace = namespace
        self.pod = pod

    async def build(self) -> list[Widget]:
        ctx = self.prom_context()
        kube = self.kube()
        now = self.k8stop.now()
        latest = self.k8stop.latest.get("restarts")
        widgets: list[Widget] = recorded_blocks(latest.facts if latest else None, self.namespace, self.pod)
        if ctx is not None:
            try:
                chart, warnings = await pod_restart_history(ctx, self.namespace, self.pod, self.window())
            except Exception as exc:  # KSM may be absent; the kube part still helps
                widgets.append(TextBlock(f"restart history unavailable: {describe(exc)}"))
            else:
                widgets.append(ChartPlot(chart, now))
                widgets += [TextBlock("⚠ " + w) for w in warnings]
        if kube is not None:
            widgets += kube_blocks(pod_kube(kube, self.namespace, self.pod))
        else:
            widgets.append(TextBlock("container statuses, events, owner and siblings: need the kube API (live)"))
        return widgets
