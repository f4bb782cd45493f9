"""etcd drill-down for one member."""

from __future__ import annotations

from k8stop.queries.drill.common import QuotaForecast
from k8stop.queries.drill.data import DrillData
from k8stop.queries.drill.etcd import EtcdDetail
from k8stop.queries.drill.next_steps import etcd_commands
from k8stop.queries.model.facts import EtcdMember
from k8stop.queries.model.keys import EtcdKey
from k8stop.queries.model.units import fmt_bytes, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.tui.screens.detail_screen import RowScreen, TextBlock
from textual.widget import Widget


def member_text(m: EtcdMember) -> str:
    leader = "leader" if m.is_leader else ("follower" if m.is_leader is False else "leader ?")
    seen = {True: "sees a leader", False: "NO LEADER", None: "leader unknown"}[m.has_leader]
    changes = f"{m.leader_changes_1h:.0f}" if m.leader_changes_1h is not None else "n/a"
    return (
        f"{m.instance}{f' on node {m.node}' if m.node else ''}: {leader}, {seen}, leader changes in 1 h: {changes}\n"
        f"wal fsync p99 {fmt_seconds(m.wal_fsync_p99)}   backend commit p99 {fmt_seconds(m.backend_commit_p99)}"
        f"   peer RTT p99 {fmt_seconds(m.peer_rtt_p99)}\n"
        f"DB {fmt_bytes(m.db_size_bytes)} of quota {fmt_bytes(m.quota_bytes)}"
    )


def forecast_text(f: QuotaForecast | None) -> str:
    if f is None:
        return "DB growth: not enough samples to fit"
    growth = f"DB growth {fmt_bytes(Value.of(f.growth_bytes_per_s * 3600))}/h ± {fmt_bytes(Value.of(2 * f.growth_stderr * 3600))}/h"
    if not f.seconds_left.known:
        return f"{growth}: not growing toward the quota"
    high = fmt_seconds(f.seconds_left_high) if f.seconds_left_high.known else "never"
    return (
        f"{growth}; quota reached in {fmt_seconds(f.seconds_left)} "
        f"(between {fmt_seconds(f.seconds_left_low)} and {high}, least squares over {f.points} points)"
    )


class EtcdMemberScreen(RowScreen[EtcdKey]):
    HEADING = "etcd › {key.instance}"

    async def build(self, data: DrillData) -> list[Widget]:
        detail, warnings = await data.etcd(self.key, self.window())
        return self.warned(self._blocks(detail), warnings)

    def commands(self) -> tuple[str, ...]:
        return etcd_commands(self.key.instance, self.k8stop.settings.context)

    def _blocks(self, d: EtcdDetail) -> list[Widget]:
        head = member_text(d.member) if d.member is not None else f"{d.instance}: no instant facts for this member"
        peers = ["peer round trip p99 (target < 5 ms, seed 1.1):"] + [
            f"  → {peer:<18} {fmt_seconds(rtt)}" for peer, rtt in d.peer_rtt_p99
        ]
        if not d.peer_rtt_p99:
            peers.append("  none reported")
        return [
            TextBlock(head),
            self.plot(d.disk),
            self.plot(d.db_size),
            TextBlock(forecast_text(d.forecast)),
            TextBlock("\n".join(peers)),
            TextBlock(d.guidance),
        ]
