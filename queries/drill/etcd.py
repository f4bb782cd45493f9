"""etcd drill-down for one member: disk latency history, DB growth toward the quota with
the fit's uncertainty, leadership, peer round trips, and the seed's disk guidance."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.drill import charts
from k8stop.queries.drill.common import (
    Chart,
    Line,
    QuotaForecast,
    RangeWindow,
    forecast,
    matcher,
    relabel,
    tagged_range,
)
from k8stop.queries.model.facts import EtcdMember
from k8stop.queries.model.values import Value
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.client import LabelMap
from k8stop.queries.prom.combine import by_key, or_absent, quantile
from k8stop.queries.prom.context import PromContext

# Seed §2.2 "存储和硬件优化", quoted so the screen can show it next to the measurements.
DISK_GUIDANCE = (
    "Seed §2.2 disk guidance: SSD storage (NVMe better), disk IOPS > 5000, disk latency < 1 ms, "
    "network bandwidth > 1 Gbps. Measure the disk in a scratch directory on the etcd disk (not in\n"
    "the member's data directory), with --fdatasync=1 so every write is synced like the WAL:\n"
    "  mkdir -p /var/lib/etcd-fio && fio --name=etcd-test --directory=/var/lib/etcd-fio \\\n"
    "      --rw=randwrite --bs=2300 --size=2G --numjobs=1 --runtime=60 --group_reporting \\\n"
    "      --fdatasync=1; rm -rf /var/lib/etcd-fio"
)


@dataclass(frozen=True, slots=True)
class EtcdDetail:
    instance: str
    disk: Chart  # fsync p50/p99 and commit p50/p99
    db_size: Chart  # with the quota as threshold
    member: EtcdMember | None  # the instant facts: leader, changes, quota, RTT
    forecast: QuotaForecast | None
    peer_rtt_p99: tuple[tuple[str, Value], ...]  # (peer member id, p99), worst first
    guidance: str = DISK_GUIDANCE


async def etcd_detail(
    ctx: PromContext, instance: str, window: RangeWindow, member: EtcdMember | None = None
) -> tuple[EtcdDetail, tuple[str, ...]]:
    probe = await ctx.require(
        "etcd_disk_wal_fsync_duration_seconds_bucket",
        "etcd metrics not exposed (managed control planes usually hide etcd)",
    )
    only = matcher("instance", instance)
    render = ctx.catalog.render
    t = ctx.settings.thresholds
    parts = {
        f"{disk}_{name}": render(
            "drill.etcd_disk_range", q=q, disk=disk, extra_matchers=only, window=window.rate_window
        )
        for disk in ("wal_fsync", "backend_commit")
        for name, q in (("p50", "0.5"), ("p99", "0.99"))
    }
    lines, warnings = await tagged_range(ctx, parts, window, CATALOG["drill.etcd_disk_range"].top_bucket)
    db_metric = probe.pick(CATALOG["drill.etcd_db_size_range"])
    db_lines: dict[str, list[tuple[LabelMap, Line]]] = {}
    if db_metric:
        db_lines, db_warnings = await tagged_range(
            ctx, {"db": render("drill.etcd_db_size_range", metric=db_metric, extra_matchers=only)}, window
        )
        warnings += db_warnings

    def line(tag: str, label: str, source: dict[str, list[tuple[LabelMap, Line]]]) -> Line:
        found = source.get(tag)
        return relabel(found[0][1], label) if found else Line(label, (), ())

    disk = charts.etcd_disk(instance, (line(tag, tag.replace("_", " "), lines) for tag in parts), t)
    quota = member.quota_bytes.or_none() if member is not None else None
    db_line = line("db", "db size", db_lines)
    db_chart = charts.etcd_db(instance, db_line, quota)

    rtt = await ctx.client.query(render("drill.etcd_peer_rtt_by_peer", extra_matchers=only))
    warnings += rtt.warnings
    top = CATALOG["drill.etcd_peer_rtt_by_peer"].top_bucket
    peers = sorted(
        ((key[0], quantile(or_absent(value), top)) for key, value in by_key(list(rtt.samples), "To").items()),
        key=lambda p: (-(p[1].or_none() or -1.0), p[0]),
    )
    detail = EtcdDetail(instance, disk, db_chart, member, forecast(db_line, quota), tuple(peers))
    return detail, warnings
