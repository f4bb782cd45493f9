"""What a diagnosis rule produces: a Finding with its evidence, severity and cause link."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from k8stop.queries.model.level import Level


class Component(StrEnum):
    APISERVER = "apiserver"
    ETCD = "etcd"
    SCHEDULER = "scheduler"
    CONTROLLER_MANAGER = "controller-manager"
    KUBELET = "kubelet"
    NODE = "node"
    WORKLOAD = "workload"
    NETWORK = "network"
    OTHER = "other"  # an alert about nothing k8stop knows


@dataclass(frozen=True, slots=True)
class Evidence:
    query: str  # PromQL, or the kube API path, that measured it
    value: float | str | None  # base units; None when unknown
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # stable: "<rule>:<subject>", so the UI can track a finding across refreshes
    component: Component
    subject: str  # etcd member, node, namespace/pod, "VERB resource", queue ...
    severity: Level  # INFO, WARNING or CRITICAL
    title: str
    evidence: tuple[Evidence, ...]
    recommendation: str
    caused_by: str | None = None  # id of the finding that explains this one
    symptoms: tuple[str, ...] = ()  # ids of the findings this one explains, most important first
    # How far past its threshold (value / threshold); ranks findings of equal severity.
    magnitude: float = 1.0
    # Machine-readable context for cause linking: ("node", name), ("verb", "LIST"), ...
    labels: tuple[tuple[str, str], ...] = ()

    def label_values(self, key: str) -> tuple[str, ...]:
        return tuple(v for k, v in self.labels if k == key)
