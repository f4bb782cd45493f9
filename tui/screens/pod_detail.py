"""Pod drill-down: restart history, container statuses, Warning events, owner and siblings."""

from __future__ import annotations

from k8stop.queries.drill.data import DrillData
from k8stop.queries.drill.next_steps import pod_commands
from k8stop.queries.drill.pod import PodKube
from k8stop.queries.drill.pod_logs import TAIL_LINES, PreviousLog, log_container
from k8stop.queries.model.errors import describe
from k8stop.queries.model.facts import RestartsFacts
from k8stop.queries.model.keys import PodKey
from k8stop.queries.model.units import fmt_more
from k8stop.tui.screens.detail_screen import RowScreen, TextBlock
from rich.text import Text
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
    if more := fmt_more(len(k.warnings), 10):
        events.append(f"  {more}")
    siblings = [f"sibling pods of {owner}:"] + [
        f"  {p.name:<44} {p.phase:<9} restarts {p.restarts}  node {p.node or '-'}" for p in k.siblings[:20]
    ]
    if not k.siblings:
        siblings.append("  none")
    if more := fmt_more(len(k.siblings), 20):
        siblings.append(f"  {more}")
    return [TextBlock("\n".join(rows)), TextBlock("\n".join(events)), TextBlock("\n".join(siblings))]


def log_block(log: PreviousLog) -> Widget:
    """The previous run's last lines as plain Text (a log is data, never markup)."""
    head = f"previous log of container {log.container or '?'} (last {TAIL_LINES} lines, read live, never recorded):"
    body = [f"  {line}" for line in log.lines] or [f"  {log.error or 'empty'}"]
    return TextBlock(Text("\n".join([head, *body])))


def restarts_blocks(facts: RestartsFacts | None, key: PodKey) -> list[Widget]:
    rows = [f"{key.namespace}/{key.pod} from the restarts feed ({facts.source if facts else 'no data'}):"]
    for c in facts.top if facts else ():
        if (c.namespace, c.pod) == (key.namespace, key.pod):
            rows.append(
                f"  {c.container:<16} restarts 1h {c.restarts_1h:.0f}  15m {c.restarts_15m:.0f}  "
                f"waiting {c.waiting_reason or '-'}  last terminated {c.last_terminated_reason or '-'}"
            )
    return [TextBlock("\n".join(rows))]


class PodScreen(RowScreen[PodKey]):
    HEADING = "pod › {key.namespace}/{key.pod}"

    def __init__(self, key: PodKey) -> None:
        super().__init__(key)
        self.containers: tuple[str, ...] = (key.container,) if key.container else ()

    async def build(self, data: DrillData) -> list[Widget]:
        widgets: list[Widget] = restarts_blocks(self.feed_facts("restarts"), self.key)
        try:
            chart, warnings = await data.pod(self.key, self.window())
        except Exception as exc:  # KSM may be absent; the kube part still helps
            widgets.append(TextBlock(f"restart history unavailable: {describe(exc)}"))
        else:
            widgets = self.warned([*widgets, self.plot(chart)], warnings)
        kube = data.pod_kube(self.key)
        record = kube.record if kube is not None else None
        if record is not None:
            # The previous logs worth reading: containers that restarted, else the one asked for.
            restarted = tuple(c.name for c in record.containers if c.restarts or c.last_terminated_reason)
            self.containers = restarted or tuple(filter(None, (log_container(record, self.key.container),)))
        if kube is not None:
            widgets += kube_blocks(kube)
            widgets.append(log_block(await data.previous_log(self.key)))
        else:
            widgets.append(TextBlock("container statuses, events, owner and siblings: need the kube API (live)"))
        return widgets

    def commands(self) -> tuple[str, ...]:
        return pod_commands(self.key.namespace, self.key.pod, self.containers, self.k8stop.settings.context)
