"""Guided diagnosis: run every rule over a snapshot, link causes to symptoms, rank.

Cause links are general, evidence-driven relations (not tuned to any cluster):
- a slow or leaderless etcd member explains slow mutating API calls and API 5xx;
- one dominant traffic source explains API saturation (set by the apiserver rule) and slow reads;
- a saturated node (CPU, memory, load) explains containers crash-looping or restarting on it.
A cause is raised to the severity of its worst symptom, so ranking by severity, then causes
before symptoms, then magnitude puts the thing to fix first.
"""

from __future__ import annotations

from dataclasses import replace

from k8stop.queries.audit.grade import config_findings
from k8stop.queries.config import Thresholds
from k8stop.queries.model.finding import Component, Finding, Severity
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.rules.alerts import alert_findings
from k8stop.queries.rules.apiserver import apiserver_findings
from k8stop.queries.rules.control_plane import control_plane_findings
from k8stop.queries.rules.etcd import etcd_findings
from k8stop.queries.rules.nodes import node_findings, same_node
from k8stop.queries.rules.workloads import workload_findings

_ETCD_CAUSES = frozenset({"etcd.wal_fsync_p99_slow", "etcd.backend_commit_p99_slow", "etcd.no_leader"})
_NODE_CAUSES = frozenset({"node.cpu_saturated", "node.memory_saturated", "node.load_saturated"})


def rule_of(finding: Finding) -> str:
    return finding.id.split(":", 1)[0]


def _strongest(candidates: list[Finding]) -> Finding | None:
    return min(candidates, key=lambda f: (f.severity.rank, -f.magnitude, f.id), default=None)


def _cause_of(f: Finding, etcd: Finding | None, traffic: Finding | None, nodes: list[Finding]) -> Finding | None:
    rule = rule_of(f)
    if rule == "apiserver.latency":
        mutating = "mutating" in f.label_values("kind")
        return etcd if mutating and etcd is not None else (traffic if not mutating else None)
    if rule == "apiserver.errors_5xx":
        return etcd
    if f.component is Component.WORKLOAD and not rule.startswith("alert.") and rule != "workload.image_pull":
        hosts = f.label_values("node")
        return _strongest([n for n in nodes if any(same_node(n.subject, h) for h in hosts)])
    return None


def link_causes(findings: list[Finding]) -> list[Finding]:
    """Set caused_by on symptoms, say so in their text, and raise causes to their symptoms' severity."""
    by_id = {f.id: f for f in findings}
    etcd = _strongest([f for f in findings if rule_of(f) in _ETCD_CAUSES])
    traffic = _strongest([f for f in findings if rule_of(f) == "apiserver.heavy_traffic"])
    nodes = [f for f in findings if rule_of(f) in _NODE_CAUSES]
    linked = []
    for f in findings:
        cause = by_id.get(f.caused_by) if f.caused_by else _cause_of(f, etcd, traffic, nodes)
        if cause is None or cause.id == f.id:
            linked.append(f)
            continue
        linked.append(
            replace(
                f,
                caused_by=cause.id,
                title=f"{f.title}; likely caused by {cause.component} {cause.subject}",
                recommendation=f"Likely caused by: {cause.title} [{cause.id}]; fix that first. {f.recommendation}",
            )
        )
    worst_symptom: dict[str, int] = {}
    for f in linked:
        if f.caused_by:
            worst_symptom[f.caused_by] = min(worst_symptom.get(f.caused_by, 9), f.severity.rank)
    out = []
    for f in linked:
        rank = worst_symptom.get(f.id)
        raised = rank is not None and rank < f.severity.rank
        out.append(replace(f, severity=next(s for s in Severity if s.rank == rank)) if raised else f)
    return out


def rank(findings: list[Finding]) -> tuple[Finding, ...]:
    """Severity, then causes before symptoms, then how far past the threshold."""
    return tuple(sorted(findings, key=lambda f: (f.severity.rank, f.caused_by is not None, -f.magnitude, f.id)))


def diagnose(snap: ClusterSnapshot, t: Thresholds) -> tuple[Finding, ...]:
    findings = [
        *etcd_findings(snap, t),
        *apiserver_findings(snap, t),
        *node_findings(snap, t),
        *control_plane_findings(snap, t),
        *workload_findings(snap, t),
        *alert_findings(snap),
        *config_findings(snap, t),
    ]
    return rank(link_causes(findings))
