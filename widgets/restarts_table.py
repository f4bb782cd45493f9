"""Pod restarts: the top containers by restarts in the last hour, with waiting and last-terminated reasons."""

from __future__ import annotations

from k8stop.queries.model.facts import ContainerRestarts, RestartsFacts
from k8stop.queries.model.keys import PodKey
from k8stop.queries.model.level import Level
from k8stop.widgets.fact_panel import FactPanel, Row
from rich.text import Text

ALARMING_WAITING = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"}


class RestartsTable(FactPanel[RestartsFacts]):
    TITLE = "Pod restarts (last 1h)"

    def empty_text(self) -> str:
        return "waiting for restart data…"

    def _widths(self, width: int) -> tuple[int, int]:
        reasons = 34 if width >= 90 else 30 if width >= 70 else 22
        name = max(12, width - 12 - reasons)
        return name, reasons

    def summary_lines(self, facts: RestartsFacts, width: int) -> list[Text]:
        name, reasons = self._widths(width)
        header = f"{'namespace/pod/container':<{name}} {'1h':>4} {'15m':>4}  {'waiting / last exit':<{reasons}}"
        return [Text(header[:width], style=self.get_component_rich_style("panel--dim"))]

    def _line(self, item: ContainerRestarts, width: int) -> Text:
        name, _ = self._widths(width)
        ident = f"{item.namespace}/{item.pod}/{item.container}"
        if len(ident) > name:
            ident = "…" + ident[-(name - 1) :]
        line = Text(f"{ident:<{name}} {item.restarts_1h:>4.0f} {item.restarts_15m:>4.0f}  ")
        waiting = item.waiting_reason or "-"
        last = item.last_terminated_reason or "-"
        style = self.level_style(Level.FAIL if waiting in ALARMING_WAITING else Level.OK)
        line.append(waiting, style=style if item.waiting_reason else "")
        line.append(" / ")
        oom = last == "OOMKilled"
        line.append(last, style=self.level_style(Level.FAIL) if oom else "")
        return line

    def row_lines(self, facts: RestartsFacts, width: int) -> list[Row]:
        return [
            (PodKey(item.namespace, item.pod, item.container), self._line(item, width))
            for item in facts.top
            if item.restarts_1h > 0 or item.waiting_reason
        ]

    def rows_total(self, facts: RestartsFacts) -> int | None:
        return facts.total

    def footer_lines(self, facts: RestartsFacts, width: int) -> list[Text]:
        dim = self.get_component_rich_style("panel--dim")
        syncing = [Text(facts.sync.line()[:width], style=dim)] if facts.sync is not None else []
        if not self.row_lines(facts, width):
            return [*syncing, Text("no container restarted in the last hour", style=dim)]
        return [*syncing, Text(f"source: {facts.source}", style=dim)]
