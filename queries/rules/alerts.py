"""Prometheus alerts as findings: the cluster's own rules may know things k8stop does not."""

from __future__ import annotations

from k8stop.queries.model.facts import Alert
from k8stop.queries.model.finding import Component, Evidence, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot

# Alerts that fire by design (dead man's switch, inhibition helpers) say nothing about health.
_SILENT_SEVERITIES = frozenset({"none", ""})

_PREFIXES = (
    ("etcd", Component.ETCD),
    ("KubeAPI", Component.APISERVER),
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
)

_SUBJECT_LABELS = ("instance", "node", "pod", "namespace", "job")


def _component(name: str) -> Component:
    for prefix, component in _PREFIXES:
        if name.startswith(prefix):
            return component
    return Component.WORKLOAD


def _subject(alert: Alert) -> str:
    labels = dict(alert.labels)
    if "namespace" in labels and "pod" in labels:
        return f"{labels['namespace']}/{labels['pod']}"
    for key in _SUBJECT_LABELS:
        if labels.get(key):
            return labels[key]
    return alert.name


def alert_findings(snap: ClusterSnapshot) -> list[Finding]:
    if snap.alerts is None:
        return []
    out = []
    for alert in snap.alerts.alerts:
        # k8stop's built-in rules duplicate its own findings; only the server's rules add news.
        if alert.source != "prometheus" or alert.severity.lower() in _SILENT_SEVERITIES:
            continue
        firing = alert.state == "firing"
        serious = alert.severity.lower() in ("critical", "warning", "error", "page")
        subject = _subject(alert)
        label_text = ",".join(f'{k}="{v}"' for k, v in alert.labels if k != "alertname")
        out.append(
            Finding(
                id=f"alert.{alert.name}:{subject}",
                component=_component(alert.name),
                subject=subject,
                severity=Level.WARNING if firing and serious else Level.INFO,
                title=f"Prometheus alert {alert.name} {alert.state} ({alert.severity}): {alert.summary}".rstrip(": "),
                evidence=(
                    Evidence(
                        f'ALERTS{{alertname="{alert.name}"{"," + label_text if label_text else ""}}}',
                        alert.value,
                        f"{alert.state} since {alert.active_at}" if alert.active_at else alert.state,
                    ),
                ),
                recommendation="Follow the alert's runbook; k8stop's own findings above may already name its cause.",
            )
        )
    return out
