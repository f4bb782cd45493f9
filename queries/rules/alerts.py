"""Prometheus alerts as findings: the cluster's own rules may know things k8stop does not.

A firing alert keeps its own severity. Its component comes from its name, the metrics its
rule's expression reads, then its labels. When a k8stop finding is about the same subject
(the etcd member, node or pod the alert names), the alert becomes evidence on that finding
instead of a second finding about one problem.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from k8stop.queries.model.facts import Alert
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.units import fmt_age
from k8stop.queries.rules import sources
from k8stop.queries.rules.nodes import same_node

# Alerts that fire by design (dead man's switch, inhibition helpers) say nothing about health.
_SILENT_SEVERITIES = frozenset({"none", ""})
_SEVERITIES = {"critical": Level.CRITICAL, "page": Level.CRITICAL, "error": Level.CRITICAL, "warning": Level.WARNING}

# Checked in order against the alert's name, then the metric names of its expression.
_NAME_PREFIXES = (
    ("etcd", Component.ETCD),
    ("KubeAPI", Component.APISERVER),
    ("APIServer", Component.APISERVER),
    ("KubeClientCertificate", Component.APISERVER),
    ("KubeAggregatedAPI", Component.APISERVER),
    ("KubeScheduler", Component.SCHEDULER),
    ("KubeControllerManager", Component.CONTROLLER_MANAGER),
    ("Kubelet", Component.KUBELET),
    ("KubeNode", Component.NODE),
    ("Node", Component.NODE),
    ("KubePod", Component.WORKLOAD),
    ("KubeContainer", Component.WORKLOAD),
    ("KubeDeployment", Component.WORKLOAD),
    ("KubeStatefulSet", Component.WORKLOAD),
    ("KubeDaemonSet", Component.WORKLOAD),
    ("KubeJob", Component.WORKLOAD),
    ("KubeHpa", Component.WORKLOAD),
    ("CoreDNS", Component.NETWORK),
    ("KubeProxy", Component.NETWORK),
)
_METRIC_PREFIXES = (
    ("apiserver_", Component.APISERVER),
    ("etcd_", Component.ETCD),
    ("scheduler_", Component.SCHEDULER),
    ("workqueue_", Component.CONTROLLER_MANAGER),
    ("kubelet_", Component.KUBELET),
    ("node_network_", Component.NETWORK),
    ("node_", Component.NODE),
    ("kube_node_", Component.NODE),
    ("kube_pod_", Component.WORKLOAD),
    ("kube_deployment_", Component.WORKLOAD),
    ("kube_statefulset_", Component.WORKLOAD),
    ("kube_daemonset_", Component.WORKLOAD),
    ("kube_job_", Component.WORKLOAD),
    ("container_", Component.WORKLOAD),
    ("coredns_", Component.NETWORK),
    ("kubeproxy_", Component.NETWORK),
)
# A job label naming a component, e.g. job="kube-etcd", job="node-exporter".
_JOB_WORDS = (
    ("etcd", Component.ETCD),
    ("apiserver", Component.APISERVER),
    ("scheduler", Component.SCHEDULER),
    ("controller-manager", Component.CONTROLLER_MANAGER),
    ("kubelet", Component.KUBELET),
    ("node", Component.NODE),
    ("dns", Component.NETWORK),
)
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def component_of_job(job: str) -> Component | None:
    return next((component for word, component in _JOB_WORDS if word in job), None)


def component_of(alert: Alert) -> Component:
    for prefix, component in _NAME_PREFIXES:
        if alert.name.startswith(prefix):
            return component
    for metric in _METRIC.findall(alert.expression):
        for prefix, component in _METRIC_PREFIXES:
            if metric.startswith(prefix):
                return component
    labels = dict(alert.labels)
    by_job = component_of_job(labels.get("job", ""))
    if by_job is not None:
        return by_job
    if "node" in labels and "pod" not in labels:
        return Component.NODE
    return Component.WORKLOAD if "namespace" in labels else Component.OTHER


def severity_of(alert: Alert) -> Level:
    """Its own severity while firing; pending (not yet held for its `for`) is only info."""
    return _SEVERITIES.get(alert.severity.lower(), Level.INFO) if alert.state == "firing" else Level.INFO


def _subject(alert: Alert) -> str:
    labels = dict(alert.labels)
    if "namespace" in labels and "pod" in labels:
        return f"{labels['namespace']}/{labels['pod']}"
    for key in ("instance", "node", "namespace", "job"):
        if labels.get(key):
            return labels[key]
    return alert.name


def when(alert: Alert, now: float) -> str:
    """'firing for 12m (since 2026-05-04T09:00:31Z)', or the bare state when the start is unknown."""
    if alert.active_at is None:
        return alert.state
    since = datetime.fromtimestamp(alert.active_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"{alert.state} for {fmt_age(now - alert.active_at)} (since {since})"


def _number(text: str) -> float | str | None:
    try:
        return float(text)
    except ValueError:
        return text or None


def is_alert_evidence(e: Evidence) -> bool:
    return e.query.startswith("ALERTS{")


def alert_evidence(alert: Alert, now: float) -> Evidence:
    label_text = ",".join(f'{k}="{v}"' for k, v in alert.labels if k != "alertname")
    return Evidence(
        f'ALERTS{{alertname="{alert.name}"{"," + label_text if label_text else ""}}}',
        _number(alert.value),
        f"alert {alert.name} ({alert.severity}) {when(alert, now)}" + (f": {alert.summary}" if alert.summary else ""),
    )


def _about(f: Finding, alert: Alert, component: Component) -> bool:
    """Whether the finding is about what the alert names (its member, node or pod)."""
    if f.component is not component or f.id.startswith("alert."):
        return False
    labels = dict(alert.labels)
    if f.id.startswith("targets.down:"):  # TargetDown and kin name the job, not each instance
        return labels.get("job") == f.subject and alert.name == "TargetDown"
    if component is Component.ETCD and "instance" in labels:
        return labels["instance"] in (f.subject, *f.label_values("etcd_member"))
    if component is Component.NODE:
        node = labels.get("node") or labels.get("instance")
        return node is not None and any(same_node(node, n) for n in (f.subject, *f.label_values("node")))
    if component is Component.WORKLOAD and "pod" in labels:
        return f"{labels.get('namespace', '')}/{labels['pod']}" in f.label_values("pod")
    return False


def attach_alerts(snap: ClusterSnapshot, findings: list[Finding]) -> list[Finding]:
    """Add the server's alerts: as evidence on the finding about the same subject, raising it to
    the alert's severity, or as findings of their own."""
    if snap.alerts is None:
        return findings
    out = list(findings)
    for alert in snap.alerts.alerts:
        # k8stop's built-in rules duplicate its own findings; only the server's rules add news.
        if alert.source != "prometheus" or alert.severity.lower() in _SILENT_SEVERITIES:
            continue
        component, severity = component_of(alert), severity_of(alert)
        evidence = alert_evidence(alert, snap.taken_at)
        target = next((i for i, f in enumerate(out) if _about(f, alert, component)), None)
        if target is not None:
            f = out[target]
            out[target] = replace(f, evidence=(*f.evidence, evidence), severity=max(f.severity, severity))
            continue
        subject = _subject(alert)
        out.append(
            Finding(
                id=f"alert.{alert.name}:{subject}",
                component=component,
                subject=subject,
                severity=severity,
                title=f"Prometheus alert {alert.name} {alert.state} ({alert.severity}): {alert.summary}".rstrip(": "),
                evidence=(evidence,),
                recommendation=(
                    "Follow the alert's runbook (its runbook_url annotation; the mixins' alerts are described at "
                    f"{sources.RUNBOOKS}); k8stop's own findings above may already name its cause."
                ),
                labels=tuple(alert.labels),
            )
        )
    return out
