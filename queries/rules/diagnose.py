"""Guided diagnosis: run every rule over a snapshot, link causes to symptoms, rank.

Cause links are general, evidence-driven relations (not tuned to any cluster):
- a slow or leaderless etcd member explains slow mutating API calls and API 5xx;
- one dominant traffic source explains API saturation (set by the apiserver rule) and slow reads;
- a saturated node (CPU, memory, load) explains containers crash-looping or restarting on it;
- a slow admission webhook explains the slow verbs it intercepts (before etcd: when both are slow,
  the duration the webhook adds is measured, etcd's share is not);
- an APF flow schema being rejected or queued explains the heavy traffic and the saturation it
  carries: it names the clients (flow schema) and the seats they fill (priority level);
- a slow DNS upstream explains slow and failing CoreDNS answers (cache misses wait on it).
A cause is raised to the severity of its worst symptom. The ranking lists every independent cause
before any symptom, so two unrelated problems both lead, whatever the number of symptoms.
"""

from __future__ import annotations

from dataclasses import replace

from k8stop.queries.audit.grade import config_findings
from k8stop.queries.config import Settings
from k8stop.queries.model.finding import Component, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.rules.alerts import attach_alerts
from k8stop.queries.rules.apiserver import apiserver_findings
from k8stop.queries.rules.capacity import overcommit_findings
from k8stop.queries.rules.control_plane import control_plane_findings
from k8stop.queries.rules.disk_runway import disk_runway_findings
from k8stop.queries.rules.etcd import etcd_findings
from k8stop.queries.rules.evidence import EvidenceQueries
from k8stop.queries.rules.flows import FLOW_RULE, flow_findings
from k8stop.queries.rules.grouping import merge_by_subject, rule_of, rules_of
from k8stop.queries.rules.hpa import hpa_findings
from k8stop.queries.rules.kubelet_health import kubelet_findings
from k8stop.queries.rules.memory_headroom import memory_findings
from k8stop.queries.rules.network import DNS_FORWARD_RULE, network_findings
from k8stop.queries.rules.node_stability import node_stability_findings
from k8stop.queries.rules.nodes import node_findings, same_node
from k8stop.queries.rules.slo import BURN_RULE, burn_findings
from k8stop.queries.rules.targets import target_findings
from k8stop.queries.rules.throttling import throttling_findings
from k8stop.queries.rules.webhooks import VERB_RULE, WEBHOOK_RULE, webhook_cause, webhook_findings
from k8stop.queries.rules.workloads import workload_findings

_ETCD_CAUSES = frozenset({"etcd.wal_fsync_p99_slow", "etcd.backend_commit_p99_slow", "etcd.no_leader"})
_NODE_CAUSES = frozenset({"node.cpu_saturated", "node.memory_saturated", "node.load_saturated"})


def _strongest(candidates: list[Finding]) -> Finding | None:
    return min(candidates, key=lambda f: (-f.severity, -f.magnitude, f.id), default=None)


def _cause_of(
    f: Finding,
    etcd: Finding | None,
    traffic: Finding | None,
    nodes: list[Finding],
    webhooks: list[Finding],
    flow: Finding | None,
    upstream: Finding | None,
) -> Finding | None:
    rule = rule_of(f)
    if rule in ("apiserver.heavy_traffic", "apiserver.saturated"):
        return flow
    if rule in ("dns.latency", "dns.errors"):
        return upstream
    if rule == VERB_RULE:
        return webhook_cause(f, webhooks)
    if rule == "apiserver.latency":
        mutating = "mutating" in f.label_values("kind")
        if mutating:
            return webhook_cause(f, webhooks) or etcd
        return traffic
    if rule == "apiserver.errors_5xx":
        return etcd
    if rule == BURN_RULE:
        # The budget burns because requests are slow or failing: whatever makes them so is the cause.
        return _strongest([c for c in (*webhooks, etcd, flow, traffic) if c is not None])
    if rule == "workload.cpu_throttled" and "node contention" not in f.label_values("cause"):
        return None  # a limit too low is the workload's own problem, whatever its node
    if f.component is Component.WORKLOAD and not rule.startswith("alert.") and rule != "workload.image_pull":
        # A workload is a node's symptom only when every affected pod runs on a saturated node.
        hosts = f.label_values("node")
        matching = [n for n in nodes if any(same_node(n.subject, h) for h in hosts)]
        if hosts and all(any(same_node(n.subject, h) for n in nodes) for h in hosts):
            return _strongest(matching)
    return None


def link_causes(findings: list[Finding]) -> list[Finding]:
    """Set caused_by on symptoms, say so in their text, and raise causes to their symptoms' severity."""
    by_id = {f.id: f for f in findings}
    etcd = _strongest([f for f in findings if rules_of(f) & _ETCD_CAUSES])
    traffic = _strongest([f for f in findings if rule_of(f) == "apiserver.heavy_traffic"])
    nodes = [f for f in findings if rules_of(f) & _NODE_CAUSES]
    webhooks = [f for f in findings if rule_of(f) == WEBHOOK_RULE]
    flow = _strongest([f for f in findings if rule_of(f) == FLOW_RULE])
    upstream = _strongest([f for f in findings if rule_of(f) == DNS_FORWARD_RULE])
    linked = []
    for f in findings:
        cause = by_id.get(f.caused_by) if f.caused_by else _cause_of(f, etcd, traffic, nodes, webhooks, flow, upstream)
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
    worst_symptom: dict[str, Level] = {}
    for f in linked:
        if f.caused_by:
            worst_symptom[f.caused_by] = max(worst_symptom.get(f.caused_by, Level.INFO), f.severity)
    return [replace(f, severity=max(f.severity, worst_symptom.get(f.id, f.severity))) for f in linked]


def importance(f: Finding) -> tuple[int, float, str]:
    return (-f.severity, -f.magnitude, f.id)


def rank(findings: list[Finding]) -> tuple[Finding, ...]:
    """Independent causes first (severity, then how far past the threshold), so no problem hides
    behind another's symptoms; then the symptoms, grouped under their causes in the same order.
    Each cause lists its direct symptoms."""
    by_id = {f.id: f for f in findings}
    # A cause the rules named but that is not among the findings leaves its symptom independent.
    findings = [f if f.caused_by is None or f.caused_by in by_id else replace(f, caused_by=None) for f in findings]
    children: dict[str, list[Finding]] = {}
    for f in findings:
        if f.caused_by is not None:
            children.setdefault(f.caused_by, []).append(f)
    for group in children.values():
        group.sort(key=importance)
    roots = sorted((f for f in findings if f.caused_by is None), key=importance)
    symptoms: list[Finding] = []

    def follow(cause: Finding) -> None:
        for child in children.get(cause.id, []):
            symptoms.append(child)
            follow(child)

    for root in roots:
        follow(root)
    # A cause chain that loops has no root: its findings still appear, last.
    placed = {f.id for f in (*roots, *symptoms)}
    symptoms += sorted((f for f in findings if f.id not in placed), key=importance)
    return tuple(replace(f, symptoms=tuple(c.id for c in children.get(f.id, []))) for f in (*roots, *symptoms))


def symptoms_of(findings: tuple[Finding, ...], cause: Finding) -> list[Finding]:
    """The symptoms under `cause` in ranked `findings` (rank's order), deepest chains included."""
    out: list[Finding] = []
    for f in findings:
        if f.caused_by is not None and (f.caused_by == cause.id or f.caused_by in {s.id for s in out}):
            out.append(f)
    return out


def diagnose(snap: ClusterSnapshot, settings: Settings) -> tuple[Finding, ...]:
    t, q = settings.thresholds, EvidenceQueries(settings)
    findings = [
        *etcd_findings(snap, t, q),
        *apiserver_findings(snap, t, q),
        *webhook_findings(snap, t, q),
        *flow_findings(snap, t, q),
        *burn_findings(snap, q),
        *network_findings(snap, q),
        *node_findings(snap, t, q),
        *disk_runway_findings(snap, t, q),
        *kubelet_findings(snap, t, q),
        *control_plane_findings(snap, t, q),
        *workload_findings(snap, t, q),
        *throttling_findings(snap, t, q),
        *memory_findings(snap, t, q),
        *hpa_findings(snap, t, q),
        *overcommit_findings(snap, t, q),
        *node_stability_findings(snap, t, q),
        *target_findings(snap, q),
        *config_findings(snap, t),
    ]
    return rank(link_causes(attach_alerts(snap, merge_by_subject(findings))))
