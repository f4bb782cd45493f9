"""Who loads the API server: an APF flow schema whose requests are rejected or queued long.

APF metrics name the flow schema (which clients) and the priority level (whose seats) a request
went through; a LIST storm or any heavy traffic source is linked to the flow schema that carries
it (diagnose.link_causes), so the report names who to slow down, not only what they ask.
"""

from __future__ import annotations

from k8stop.queries.config import Thresholds
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.request_path import FlowStat, RequestPathFacts
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_count, fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules import bounds
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.grading import Bound, graded_finding, present
from k8stop.queries.rules.kpis import LIST_VERBS

FLOW_RULE = "apf.flow_overloaded"
# LIST resources whose object counts go into the evidence (what makes each LIST expensive).
LISTED_SHOWN = 2


def flow_wait(t: Thresholds) -> Bound:
    return Bound(
        t.apiserver_p99_slo,
        None,
        "SIG-scalability API call SLO p99 1 s, which queueing alone would spend (APF wait excluded from the SLI)",
    )


def _advice(f: FlowStat) -> str:
    return (
        f"The clients matched by flow schema {f.flow_schema} fill priority level {f.priority_level}: "
        f"`kubectl get flowschema {f.flow_schema} -o yaml` lists its subjects and rules, the audit log's "
        "user agent names the client. Make them LIST from the watch cache (resourceVersion=0), paginate "
        "(limit=500) or use informers; give them a FlowSchema of their own with a "
        "PriorityLevelConfiguration of few nominalConcurrencyShares and queuing (queues, handSize, "
        "queueLengthLimit) so they wait instead of crowding everyone else; raise the level's shares only "
        "for legitimate traffic."
    )


def _match(f: FlowStat) -> dict[str, str]:
    return {"priority_level": f.priority_level, "flow_schema": f.flow_schema}


def _object_evidence(snap: ClusterSnapshot, facts: RequestPathFacts, q: EvidenceQueries) -> list[Evidence]:
    """Object counts of the most requested LIST resources: how much each LIST has to read."""
    if snap.apiserver is None or not facts.objects_metric:
        return []
    lists = [r for r in snap.apiserver.requests if r.verb.upper() in LIST_VERBS][:LISTED_SHOWN]
    return [
        Evidence(
            q.promql("apiserver.storage_objects", {"resource": r.resource}, metric=facts.objects_metric),
            count,
            f"{r.resource} objects read by each LIST ({fmt_rate(r.rate)})",
        )
        for r in lists
        if (count := facts.objects_of(r.resource)) is not None
    ]


def flow_findings(snap: ClusterSnapshot, t: Thresholds, q: EvidenceQueries) -> list[Finding]:
    facts = snap.request_path
    if facts is None:
        return []
    objects = _object_evidence(snap, facts, q)
    out: list[Finding | None] = []
    for f in facts.flows:
        rejected = Value.of(f.rejected_share)
        waiting = bounds.apiserver_errors(t).grade(rejected) < Level.WARN
        value, bound, fmt = (
            (f.wait_p99, flow_wait(t), fmt_seconds) if waiting else (rejected, bounds.apiserver_errors(t), fmt_ratio)
        )
        out.append(
            graded_finding(
                value,
                bound,
                fmt,
                rule=FLOW_RULE,
                component=Component.APISERVER,
                subject=f"flowschema/{f.flow_schema}",
                key=f"{f.priority_level}/{f.flow_schema}",
                title=(
                    f"APF flow schema {f.flow_schema} (priority level {f.priority_level}): "
                    f"{fmt_rate(f.rejected_rate)} rejected ({fmt_ratio(rejected)}), {fmt_count(f.inqueue)} queued, "
                    f"wait p99 {fmt_seconds(f.wait_p99)}"
                ),
                query=q.promql("apf.flow_wait_p99" if waiting else "apf.flow_rejected_rate", _match(f)),
                evidence_detail="queue wait p99" if waiting else "rejected / (dispatched + rejected)",
                more_evidence=(
                    Evidence(q.promql("apf.flow_rejected_rate", _match(f)), f.rejected_rate, "429/s"),
                    Evidence(q.promql("apf.flow_inqueue", _match(f)), f.inqueue, "requests queued"),
                    Evidence(q.promql("apf.flow_wait_p99", _match(f)), f.wait_p99.or_none(), "queue wait p99"),
                    Evidence(q.promql("apf.flow_dispatched_rate", _match(f)), f.dispatched_rate, "dispatched/s"),
                    *objects,
                ),
                recommendation=_advice(f),
                labels=(("flow_schema", f.flow_schema), ("priority_level", f.priority_level)),
            )
        )
    return present(out)
