"""Label conventions: how a scrape config names jobs, instances and nodes.

"kube-prometheus" follows the kube-prometheus / mixin defaults (node-exporter's instance
relabelled to the node name); "generic" is a hand-written scrape config (classic
`kubernetes-*` jobs, an external `cluster` label, node names only in a `node` label).
Four more differ only in how node-exporter targets name their node (issue 21):
"prometheus-stack" (kube-prometheus-stack's default: instance IP:9100, the name only in
node_uname_info; kubelets only IP:10250), "node-info" (IP:9100, uname collector off: only kube-state-metrics'
kube_node_info{internal_ip} knows, from two replicas), "kubernetes-node" (IP:9100 and a `kubernetes_node`
label, with a uname hostname that is *not* the node name) and "bare-ip" (IP:9100, no uname,
no kube_node_info: only the kube API's node addresses can name it); "uname-hostname" (IP:9100,
a uname hostname that is not the node name: the kube API's addresses must correct it). k8stop
must read them all the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

ConventionName = Literal["kube-prometheus", "generic", "prometheus-stack", "node-info", "kubernetes-node", "bare-ip"]
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Convention:
    name: ConventionName
    style: Literal["kube-prometheus", "generic"]  # jobs, ports and instances of the other components
    apiserver_job: str
    etcd_job: str
    node_job: str
    ksm_job: str
    scheduler_job: str
    controller_manager_job: str
    kubelet_job: str
    external: Labels  # added to every series, as external_labels / relabelling would
    node_instance: Literal["name", "ip"] = "name"  # node-exporter's instance: the node name or IP:9100
    node_label: str = ""  # a label carrying the node name on node-exporter series, if any
    uname: Literal["name", "hostname", "none"] = "name"  # node_uname_info{nodename}: the node name,
    # a hostname kubectl does not know, or no series (collector off)
    kube_node_info: bool = True  # kube-state-metrics exports kube_node_info{internal_ip}
    kubelet_node_label: bool = True  # kube-prometheus style kubelets carry `node`; else only IP:10250
    node_info_twice: bool = False  # kube_node_info from two kube-state-metrics replicas (HA)
    uname_twice: bool = False  # two node_uname_info series per node (a kernel upgrade inside the lookback)

    def apiserver(self, ip: str) -> Labels:
        port = "6443" if self.style == "kube-prometheus" else "443"
        return (("job", self.apiserver_job), ("instance", f"{ip}:{port}"))

    def etcd(self, member: str, ip: str) -> Labels:
        if self.style == "kube-prometheus":
            return (("job", self.etcd_job), ("instance", f"{ip}:2379"))
        return (("job", self.etcd_job), ("instance", f"{member}:2379"))

    def node_exporter(self, node: str, ip: str) -> Labels:
        instance = node if self.node_instance == "name" else f"{ip}:9100"
        labels: Labels = (("job", self.node_job), ("instance", instance))
        return labels + ((self.node_label, node),) if self.node_label else labels

    def uname_nodename(self, node: str, ip: str) -> str | None:
        if self.uname == "none":
            return None
        return node if self.uname == "name" else "host-" + ip.replace(".", "-")

    def kubelet(self, node: str, ip: str) -> Labels:
        if self.style == "kube-prometheus":
            named = (("node", node),) if self.kubelet_node_label else ()
            return (("job", self.kubelet_job), ("instance", f"{ip}:10250"), *named, ("metrics_path", "/metrics"))
        # Classic `kubernetes-nodes` job: scraped through the API server proxy.
        return (("job", self.kubelet_job), ("instance", node))

    def cadvisor(self, node: str, ip: str) -> Labels:
        """cAdvisor through the kubelet: kube-prometheus scrapes /metrics/cadvisor on the kubelet's
        target (with `node` when relabelled), classic configs a `kubernetes-cadvisor` job by node name."""
        if self.style == "kube-prometheus":
            named = (("node", node),) if self.kubelet_node_label else ()
            return (
                ("job", self.kubelet_job),
                ("instance", f"{ip}:10250"),
                *named,
                ("metrics_path", "/metrics/cadvisor"),
            )
        return (("job", "kubernetes-cadvisor"), ("instance", node))

    def ksm(self) -> Labels:
        if self.style == "kube-prometheus":
            return (("job", self.ksm_job), ("instance", "10.244.0.12:8443"))
        return (("job", self.ksm_job), ("instance", "10.244.3.7:8080"))

    def ksm_replica(self) -> Labels:
        """A second kube-state-metrics replica's target (kube_node_info only)."""
        return (("job", self.ksm_job), ("instance", "10.244.1.12:8443"))

    def scheduler(self, ip: str) -> Labels:
        port = "10259" if self.style == "kube-prometheus" else "10251"
        return (("job", self.scheduler_job), ("instance", f"{ip}:{port}"))

    def coredns(self, pod_ip: str) -> Labels:
        job = "coredns" if self.style == "kube-prometheus" else "kube-dns"
        return (("job", job), ("instance", f"{pod_ip}:9153"))

    def kube_proxy(self, node: str, ip: str) -> Labels:
        if self.style == "kube-prometheus":
            return (("job", "kube-proxy"), ("instance", f"{ip}:10249"))
        return (("job", "kubernetes-kube-proxy"), ("instance", f"{ip}:10249"), ("node", node))

    def controller_manager(self, ip: str) -> Labels:
        port = "10257" if self.style == "kube-prometheus" else "10252"
        return (("job", self.controller_manager_job), ("instance", f"{ip}:{port}"))


KUBE_PROMETHEUS = Convention(
    name="kube-prometheus",
    style="kube-prometheus",
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
    style="generic",
    apiserver_job="apiserver",
    etcd_job="etcd-members",
    node_job="node-exporter",
    ksm_job="ksm",
    scheduler_job="scheduler",
    controller_manager_job="controller-manager",
    kubelet_job="kubernetes-nodes",
    external=(("cluster", "synthetic"),),
    node_instance="ip",
    node_label="node",
)

# kube-prometheus-stack's node-exporter monitor: instance IP:9100, names only in uname.
PROMETHEUS_STACK = replace(
    KUBE_PROMETHEUS, name="prometheus-stack", node_instance="ip", uname_twice=True, kubelet_node_label=False
)
NODE_INFO = replace(PROMETHEUS_STACK, name="node-info", uname="none", uname_twice=False, node_info_twice=True)
KUBERNETES_NODE = replace(GENERIC, name="kubernetes-node", node_label="kubernetes_node", uname="hostname", external=())
BARE_IP = replace(NODE_INFO, name="bare-ip", kube_node_info=False, node_info_twice=False)
# IP:9100 and a uname hostname that is not the node's name: Prometheus alone names it wrong.
UNAME_HOSTNAME = replace(PROMETHEUS_STACK, name="uname-hostname", uname="hostname", uname_twice=False)

CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (KUBE_PROMETHEUS, GENERIC, PROMETHEUS_STACK, NODE_INFO, KUBERNETES_NODE, BARE_IP, UNAME_HOSTNAME)
}
# The conventions that differ in how node-exporter names nodes (tests/test_node_naming.py).
NODE_NAMING = tuple(CONVENTIONS)
