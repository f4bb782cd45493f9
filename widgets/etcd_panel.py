"""etcd members: WAL fsync and backend commit p99 with history, leader, DB size against quota.

Without Prometheus (facts from the API server's /metrics) etcd's own metrics are not
visible: the panel says so and shows the API server's etcd request latency instead."""

from __future__ import annotations

from k8stop.queries.model.facts import SOURCE_PROMETHEUS, EtcdFacts, EtcdMember, EtcdRequestStat
from k8stop.queries.model.keys import EtcdKey
from k8stop.queries.model.level import Level
from k8stop.queries.model.units import fmt_bytes, fmt_rate, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.widgets.fact_panel import FactPanel, Row
from k8stop.widgets.levels import level_of, warn_critical
from k8stop.widgets.sparkline_text import sparkline
from rich.text import Text


def short_instance(instance: str, width: int) -> str:
    """'https://10.0.0.11:2379' -> '10.0.0.11'; cut from the left so the distinct end stays."""
    name = instance.split("://", 1)[-1]
    host, sep, port = name.rpartition(":")
    if sep and port.isdigit():
        name = host
    return name if len(name) <= width else "…" + name[-(width - 1) :]


def member_label(member: EtcdMember, width: int) -> str:
    """The node's name next to the member's host when both fit, else the node's name (what
    `kubectl describe node` needs), else the host."""
    host = short_instance(member.instance, width)
    if not member.node:
        return host
    both = f"{member.node} {short_instance(member.instance, 64)}"
    return both if len(both) <= width else short_instance(member.node, width)


class EtcdPanel(FactPanel[EtcdFacts]):
    TITLE = "etcd"

    def __init__(
        self,
        fsync: tuple[float, float],
        commit: tuple[float, float],
        quota_levels: tuple[float, float],
        *,
        id: str | None = None,
    ) -> None:
        """fsync and commit: (target, critical limit), the same bounds the findings grade by."""
        super().__init__(id=id)
        self.fsync = fsync
        self.commit = commit
        self.quota_levels = quota_levels

    def empty_text(self) -> str:
        return "waiting for etcd metrics…"

    def _spark_width(self, width: int) -> int:
        return 0 if width < 64 else min(12, (width - 56) // 2)

    def _name_width(self, width: int) -> int:
        spark = self._spark_width(width)
        used = 2 * (9 + (spark + 1 if spark else 0)) + 2 + 6
        return max(8, min(24, width - used))

    def summary_lines(self, facts: EtcdFacts, width: int) -> list[Text]:
        style = self.get_component_rich_style("panel--dim")
        if facts.source != SOURCE_PROMETHEUS:
            note = Text("etcd disk: not visible via /metrics", style=style)
            header = f"{'API server -> etcd':<{max(8, width - 20)}}{'p99':>10}{'req/s':>10}"
            return [note, Text(header, style=style)]
        spark = self._spark_width(width)
        pad = " " * (spark + 1 if spark else 0)
        name = self._name_width(width)
        header = f"{'member':<{name}}{'fsync':>9}{pad} {'commit':>9}{pad} {'db':>5}"
        return [Text(header, style=style)]

    def _latency(
        self, value: Value, history: tuple[Value, ...], bounds: tuple[float, float], spark: int, w: int
    ) -> Text:
        level = warn_critical(value, *bounds)
        target = bounds[0]
        text = self.marked(fmt_seconds(value).rjust(w - 1), level)
        if spark:
            text.append(" " + sparkline(history, spark, floor=target).ljust(spark), style=self.level_style(level))
        return text

    def _member_line(self, member: EtcdMember, width: int) -> Text:
        if member.has_leader is False:
            mark = "!"
        elif member.is_leader:
            mark = "★"
        else:
            mark = " "
        name = self._name_width(width)
        line = Text(f"{mark}{member_label(member, name - 1):<{name - 1}}")
        if member.has_leader is False:
            line.stylize(self.level_style(Level.FAIL))
        spark = self._spark_width(width)
        line.append_text(self._latency(member.wal_fsync_p99, member.wal_fsync_history, self.fsync, spark, 9))
        line.append(" ")
        line.append_text(self._latency(member.backend_commit_p99, member.backend_commit_history, self.commit, spark, 9))
        line.append(" ")
        line.append_text(self._quota(member))
        if member.has_leader is False:
            line.append(" NO LEADER", style=self.level_style(Level.FAIL))
        return line

    def _quota(self, member: EtcdMember) -> Text:
        if member.db_size_bytes.known and member.quota_bytes.known and member.quota_bytes.number > 0:
            ratio = member.db_size_bytes.number / member.quota_bytes.number
            level = level_of(Value.of(ratio), self.quota_levels)
            return Text(f"{ratio * 100:>4.0f}%", style=self.level_style(level))
        return Text(fmt_bytes(member.db_size_bytes))

    def _request_line(self, stat: EtcdRequestStat, width: int) -> Text:
        name = max(8, width - 20)
        # "/registry/pods" -> "pods": the distinct end of the key prefix, then the operation
        label = f"{stat.type.rstrip('/').rsplit('/', 1)[-1]} {stat.operation}"
        line = Text(label if len(label) < name else label[: name - 2] + "…", end="")
        line.pad_right(name - line.cell_len)
        level = warn_critical(stat.p99, *self.commit)
        line.append_text(self.marked(fmt_seconds(stat.p99).rjust(9), level))
        line.append(fmt_rate(stat.rate).rjust(10))
        return line

    def row_lines(self, facts: EtcdFacts, width: int) -> list[Row]:
        if facts.source != SOURCE_PROMETHEUS:
            # Not a member: the key names the request kind (a drill-down finds no member by it).
            return [(EtcdKey(f"{s.operation} {s.type}"), self._request_line(s, width)) for s in facts.api_requests]
        return [(EtcdKey(member.instance), self._member_line(member, width)) for member in facts.members]

    def footer_lines(self, facts: EtcdFacts, width: int) -> list[Text]:
        if facts.source != SOURCE_PROMETHEUS:
            stored = "  ".join(f"{s.resource} {s.objects:.0f}" for s in facts.stored[:4])
            text = f"stored objects: {stored}" if stored else "no apiserver_storage_objects"
            return [Text(text, style=self.get_component_rich_style("panel--dim"))]
        quotas = {m.quota_bytes for m in facts.members if m.quota_bytes.known}
        quota = f"  db % of quota {fmt_bytes(quotas.pop())}" if len(quotas) == 1 else ""
        text = f"★ leader  fsync target < {fmt_seconds(Value.of(self.fsync[0]))}{quota}"
        return [Text(text, style=self.get_component_rich_style("panel--dim"))]
