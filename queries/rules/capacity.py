"""Requests against allocatable: a cluster whose pods' requests do not fit once its largest node
is lost (kubernetes-mixin KubeCPUOvercommit / KubeMemoryOvercommit)."""

from __future__ import annotations

from functools import partial

from k8stop.queries.config import Thresholds
from k8stop.queries.model.facts import ResourceCommitment
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_bytes, fmt_ratio
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.containers import fmt_cores
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import graded_finding, present

SUBJECT = "cluster"
_ADVICE = (
    "The pods' requests need more than the nodes left after the largest one is drained, upgraded "
    "or fails: its pods would stay Pending. Add a node (or let the cluster autoscaler add one), "
    "lower requests that are far above real use (the workloads screen shows use against limits), "
    "or spread the capacity over more, smaller nodes so losing one costs less."
)


def fmt_amount(resource: str, amount: float) -> str:
    """Cores as the scheduler counts them (500m, 22 cores), memory in binary units."""
    if resource != "cpu":
        return fmt_bytes(Value.of(amount))
    text = fmt_cores(amount)
    return text if text.endswith("m") else f"{text} cores"


def _finding(c: ResourceCommitment, t: Thresholds, q: EvidenceQueries) -> Finding | None:
    amount = partial(fmt_amount, c.resource)
    name = "CPU" if c.resource == "cpu" else "Memory"
    allocatable = q.promql(f"capacity.{c.resource}_allocatable", metric=c.allocatable_metric)
    return graded_finding(
        Value.of(c.n1_ratio),
        bounds.overcommit(t, c),
        fmt_ratio,
        rule=f"node.{c.resource}_overcommit",
        component=Component.NODE,
        subject=SUBJECT,
        title=f"{name} requests {amount(c.requests)} are {fmt_ratio(Value.of(c.n1_ratio))} of the allocatable "
        f"left without the largest node {c.largest_node} ({amount(c.without_largest)} of {amount(c.allocatable)})",
        query=q.promql(f"capacity.{c.resource}_requests", metric=c.requests_metric),
        evidence_detail=f"{c.resource} requests / allocatable without the largest node",
        more_evidence=(
            Evidence(f"sum({allocatable})", c.allocatable, f"{c.resource} allocatable on {c.nodes} nodes"),
            Evidence(f"topk(1, {allocatable})", c.largest_allocatable, f"largest node {c.largest_node}"),
        ),
        recommendation=_ADVICE,
        labels=(("resource", c.resource), ("largest_node", c.largest_node)),
    )


def overcommit_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    if snap.workloads is None:
        return []
    return present(_finding(c, t, q) for c in snap.workloads.commitments)
