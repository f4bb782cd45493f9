"""Label conventions: how a scrape config names jobs, instances and nodes.

"kube-prometheus" follows the kube-prometheus / mixin defaults; "generic" is a
hand-written scrape config (classic `kubernetes-*` jobs, an external `cluster` label,
node names only in a `node` label). k8stop must read both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConventionName = Literal["kube-prometheus", "generic"]
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Convention:
    name: ConventionName
    apiserver_job: str
    etcd_job: str
    node_job: str
    ksm_job: str
    scheduler_job: str
    controller_manager_job: str
    kubelet_job: str
    external: Labels  # added to every series, as external_labels / relabelling would

    def apiserver(self, ip: str) -> Labels:
        port = "6443" if self.name == "kube-prometheus" else "443"
        return (("job", self.apiserver_job), ("instance", f"{ip}:{port}"))

    def etcd(self, member: str, ip: str) -> Labels:
        if self.name == "kube-prometheus":
            return (("job", self.etcd_job), ("instance", f"{ip}:2379"))
        return (("job", self.etcd_job), ("instance", f"{member}:2379"))

    def node_exporter(self, node: str, ip: str) -> Labels:
        if self.name == "kube-prometheus":
            return (("job", self.node_job), ("instance", node))
        return (("job", self.node_job), ("instance", f"{ip}:9100"), ("node", node))

    def kubelet(self, node: str, ip: str) -> Labels:
        if self.name == "kube-prometheus":
            return (
                ("job", self.kubelet_job),
                ("instance", f"{ip}:10250"),
                ("node", node),
                ("metrics_path", "/metrics"),
            )
        # Classic `kubernetes-nodes` job: scraped through the API server proxy.
        return (("job", self.kubelet_job), ("instance", node))

    def ksm(self) -> Labels:
        if self.name == "kube-prometheus":
            return (("job", self.ksm_job), ("instance", "10.244.0.12:8443"))
        return (("job", self.ksm_job), ("instance", "10.244.3.7:8080"))

    def scheduler(self, ip: str) -> Labels:
        port = "10259" if self.name == "kube-prometheus" else "10251"
        return (("job", self.scheduler_job), ("instance", f"{ip}:{port}"))

    def controller_manager(self, ip: str) -> Labels:
        port = "10257" if self.name == "kube-prometheus" else "10252"
        return (("job", self.controller_manager_job), ("instance", f"{ip}:{port}"))


KUBE_PROMETHEUS = Convention(
    name="kube-prometheus",
    apiserver_job="kube-apiserver",
    etcd_job="etcd",
    node_job="node",
    ksm_job="kube-state-metrics",
    scheduler_job="kube-scheduler",
    controller_manager_job="kube-controller-manager",
    kubelet_job="kubelet",
    external=(),
)

GENERIC = Convention(
    name="generic",
    apiserver_job="apiserver",
    etcd_job="etcd-members",
    node_job="node-exporter",
    ksm_job="ksm",
    scheduler_job="scheduler",
    controller_manager_job="controller-manager",
    kubelet_job="kubernetes-nodes",
    external=(("cluster", "synthetic"),),
)

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (KUBE_PROMETHEUS, GENERIC)}
