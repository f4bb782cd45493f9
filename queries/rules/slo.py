"""The API server's error budget, burnt as kubernetes-mixin's KubeAPIErrorBudgetBurn measures it.

Budget: 99 % of requests fast enough and not 5xx over 30 days. A window pair fires when both its
long and its short window burn faster than `factor` times the budget: the long window proves it
lasts, the short one that it still goes on (Google SRE workbook, multiwindow multi-burn-rate).
"""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.request_path import RequestPathFacts
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.values import Value
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Rule

BUDGET = 0.01  # KM config.libsonnet SLO.target 0.99


@dataclass(frozen=True, slots=True)
class BurnPair:
    long: str
    short: str
    factor: float
    severity: Level  # CRITICAL pages, WARNING tickets (KM)


# KM alerts/kube_apiserver.libsonnet, most urgent first.
PAIRS = (
    BurnPair("1h", "5m", 14.4, Level.CRITICAL),
    BurnPair("6h", "30m", 6.0, Level.CRITICAL),
    BurnPair("1d", "2h", 3.0, Level.WARNING),
    BurnPair("3d", "6h", 1.0, Level.WARNING),
)


def burn_rate(ratio: Value) -> float | None:
    """How many times faster than the budget allows: 1 spends it exactly in 30 days."""
    return ratio.number / BUDGET if ratio.known else None


def firing(facts: RequestPathFacts) -> list[tuple[BurnPair, float]]:
    """The pairs whose long and short windows both burn faster than their factor, with the
    smaller of the two burn rates (how far past the factor the pair is)."""
    out = []
    for pair in PAIRS:
        long, short = facts.burn_ratio(pair.long), facts.burn_ratio(pair.short)
        rates = [burn_rate(v) for v in (long, short) if v is not None]
        if len(rates) == 2 and all(r is not None and r > pair.factor for r in rates):
            out.append((pair, min(r for r in rates if r is not None)))
    return out


def describe_pairs() -> str:
    return ", ".join(f"{p.long}/{p.short} x{p.factor:g} {p.severity.severity_word}" for p in PAIRS)


BURN_RULE = "apiserver.error_budget_burn"
_BURN = Rule(
    BURN_RULE,
    Component.APISERVER,
    "Burn = (requests too slow or answered 5xx) / all, read and write summed (kubernetes-mixin "
    f"KubeAPIErrorBudgetBurn (99 % availability and latency over 30 d); pairs {describe_pairs()}). Too slow: "
    "reads over 1 s per object, 5 s per namespace, 30 s cluster-wide, writes over 1 s. Look at the API server "
    "findings for the 5xx and the slow verb/resource pairs, and at etcd and admission webhooks behind them.",
)


def burn_findings(snap: ClusterSnapshot, q: EvidenceQueries) -> list[Finding]:
    facts = snap.request_path
    if facts is None or not facts.burn:
        return []
    fired = firing(facts)
    if not fired:
        return []
    pair, rate = fired[0]
    evidence = tuple(
        Evidence(
            q.promql("slo.burn_ratio", metric=facts.burn_metric, window=b.window),
            b.ratio.or_none(),
            f"{b.window}: burn rate {burn_rate(b.ratio) or 0.0:.1f}x (error/slow share of requests)",
        )
        for b in facts.burn
    )
    title = (
        f"API server error budget burning {rate:.1f}x too fast over {pair.long} and {pair.short} "
        f"(fires at {pair.factor:g}x): at this pace the 30-day budget lasts {30 / rate:.1f} days"
    )
    return [_BURN.flag("error budget", pair.severity, title, evidence, key="apiserver", magnitude=rate / pair.factor)]
