"""The seed's three alert rules (§6.1), evaluated by k8stop when Prometheus has no rules.

Each rule runs as `min_over_time((expr)[for:res]) > threshold` next to the bare
`expr > threshold`: a breach held for the rule's whole `for` is firing, a breach only now
is pending, as Prometheus itself would report. Thresholds come from Settings where the seed
and the config agree (API p99 1 s, fsync p99 10 ms); the seed's 80 % CPU has no config knob.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.model.facts import Alert, AlertsFacts
from k8stop.queries.prom.alerts import alert_order
from k8stop.queries.prom.catalog import CATALOG
from k8stop.queries.prom.combine import combine, split
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import identity, named

NODE_CPU_HIGH = 0.8  # seed 6.1 NodeCPUHigh: > 80 %
SOURCE = "k8stop"


@dataclass(frozen=True, slots=True)
class BuiltinRule:
    name: str
    entry_id: str
    severity: str
    hold: str  # the rule's `for`
    summary: str
    keys: tuple[str, ...]  # labels that identify one alert instance


RULES = (
    BuiltinRule(
        "APIServerLatencyHigh",
        "builtin.apiserver_latency_high",
        "warning",
        "10m",
        "API server p99 latency above 1 s",
        ("verb", "resource"),
    ),
    BuiltinRule(
        "EtcdDiskLatencyHigh",
        "builtin.etcd_disk_latency_high",
        "critical",
        "5m",
        "etcd WAL fsync p99 above 10 ms",
        ("instance",),
    ),
    BuiltinRule("NodeCPUHigh", "builtin.node_cpu_high", "warning", "15m", "node CPU above 80 %", ("node",)),
)


def _threshold(rule: BuiltinRule, ctx: PromContext) -> float:
    t = ctx.settings.thresholds
    return {
        "APIServerLatencyHigh": t.apiserver_p99_slo,
        "EtcdDiskLatencyHigh": t.etcd_wal_fsync_p99,
        "NodeCPUHigh": NODE_CPU_HIGH,
    }[rule.name]


async def builtin_alerts(ctx: PromContext) -> tuple[AlertsFacts, tuple[str, ...]]:
    """Firing and pending instances of the seed's rules, most severe first."""
    probe = await ctx.probe.get()
    parts: dict[str, str] = {}
    for rule in RULES:
        entry = CATALOG[rule.entry_id]
        metric = probe.pick(entry) if entry.fallbacks else None
        if entry.fallbacks and metric is None:
            continue
        common = {"threshold": repr(_threshold(rule, ctx))}
        held = ctx.catalog.render(rule.entry_id, metric=metric, **{"for": rule.hold}, res="30s", **common)
        # The same expression over the current instant only: `[0s:...]` is not allowed, so
        # a one-step subquery at the resolution is the "now" breach.
        now = ctx.catalog.render(rule.entry_id, metric=metric, **{"for": "30s"}, res="30s", **common)
        if "node" in rule.keys:  # per node-exporter target: name the node on the server
            held, now = named(ctx, held), named(ctx, now)
        parts[f"{rule.name}/firing"] = held
        parts[f"{rule.name}/pending"] = now
    if not parts:
        return AlertsFacts((), False), probe.warnings
    result = await ctx.client.query(combine(parts))
    tagged = split(result)
    alerts: list[Alert] = []
    for rule in RULES:
        firing = tagged.get(f"{rule.name}/firing", [])
        seen: set[tuple[str, ...]] = set()
        for state, samples in (("firing", firing), ("pending", tagged.get(f"{rule.name}/pending", []))):
            for series_labels, value in samples:
                labels = series_labels
                if "node" in rule.keys:
                    labels = {"node": identity(ctx, series_labels)[0]}
                key = tuple(labels.get(k, "") for k in rule.keys)
                if key in seen:
                    continue
                seen.add(key)
                shown = {"alertname": rule.name, "severity": rule.severity, **{k: labels.get(k, "") for k in rule.keys}}
                alerts.append(
                    Alert(
                        name=rule.name,
                        state=state,
                        severity=rule.severity,
                        labels=tuple(sorted(shown.items())),
                        summary=f"{rule.summary} (k8stop's evaluation of the seed rule, for {rule.hold})",
                        active_at=None,
                        value=f"{value.number:.6g}" if value.known else "",
                        source=SOURCE,
                    )
                )
    alerts.sort(key=alert_order)
    return AlertsFacts(tuple(alerts), False), probe.warnings + result.warnings
