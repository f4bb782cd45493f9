"""The kube-API side of a Prometheus `Scenario` (tests/scenario.py): one cluster, two views.

The Prometheus fixture serves a scenario's metrics; `cluster_from_scenario` builds the
objects the API server would hold for that same cluster, so a drill-down from a panel row
finds the node or pod it names. What kube shows is derived by the rules a real cluster
follows, not copied per scenario:

- nodes: the scenario's names and IPs; capacity from `cpus` and `memory_total_bytes`,
  allocatable less what kubeadm-style kubelets reserve (100m CPU, 1 GiB memory);
  MemoryPressure True from 95 % memory used and DiskPressure True from 90 % of the root
  filesystem (kubelet evicts at roughly those levels), each with its NoSchedule taint;
  Ready stays True (pressure alone does not make a kubelet NotReady). A node is
  control-plane when its name says so (cp-*, control-plane*, master*) or it carries an
  API server or etcd member IP.
- pods: same namespace, name, node, IP and owner; a ReplicaSet owner named
  "<deployment>-<pod-template-hash>" gets that label, as the Deployment controller does.
  restartCount is the kube-state-metrics counter at `at`; a container waits in its
  `waiting_reason` (so is not ready) and its last termination carries
  `last_terminated_reason` with the exit code the runtime reports (137 for OOMKilled).
- Warning events: kubelet's BackOff for each crash-looping container and the kernel
  monitor's OOMKilling on the node of each OOM-killed container.
- namespaces of every pod plus the system ones, and the `monitoring/prometheus-k8s` service.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import objects as o
from .cluster import Cluster

if TYPE_CHECKING:
    from scenario import Container, Node, Pod, Scenario

MEMORY_PRESSURE = 0.95  # share of memory used
DISK_PRESSURE = 0.90  # share of the root filesystem used
RESERVED_CPU_MILLIS = 100
RESERVED_MEMORY_KI = 1024 * 1024  # 1 GiB
CONTROL_PLANE_PREFIXES = ("cp-", "control-plane", "master")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "monitoring")
PROMETHEUS_SERVICE = ("monitoring", "prometheus-k8s", 9090)
# Exit codes the container runtime reports for a last termination reason.
EXIT_CODES = {"OOMKilled": 137, "Error": 1, "Completed": 0, "ContainerCannotRun": 128}
# Seconds before the moment the cluster is built for: nodes a day old, pods an hour, the
# last crash a minute ago, so ages read like a running cluster.
NODE_AGE = 86400.0
POD_AGE = 3600.0
LAST_CRASH_AGE = 60.0
EVENTS_SPAN = 1800.0


def restart_count(scenario: Scenario, pod: Pod, container: Container, at: float = 0.0) -> int:
    """The kube_pod_container_status_restarts_total value `at` seconds after the anchor, as
    series_writer integrates it: the base at the start of the history plus each phase's rate."""
    start = -scenario.history
    rate = container.restarts_per_hour / 3600.0
    if scenario.incident_start is None or scenario.before is None:
        return math.floor(container.restarts_base + rate * (at - start))
    switch = -scenario.incident_start
    before = scenario.before.container(pod.namespace, pod.name, container.name)
    if before is None:  # the container appeared with the incident
        return math.floor(container.restarts_base + rate * max(0.0, at - switch))
    before_part = max(0.0, min(at, switch) - start)
    after_part = max(0.0, at - switch)
    return math.floor(before.restarts_base + before.restarts_per_hour / 3600.0 * before_part + rate * after_part)


def is_control_plane(scenario: Scenario, node: Node) -> bool:
    hosts = set(scenario.apiserver_ips) | {m.ip for m in scenario.etcd}
    return node.name.startswith(CONTROL_PLANE_PREFIXES) or node.ip in hosts


def node_object(scenario: Scenario, node: Node, origin: float = 0.0) -> o.Obj:
    pressure = (
        (
            "MemoryPressure",
            node.memory >= MEMORY_PRESSURE,
            "KubeletHasInsufficientMemory",
            "node.kubernetes.io/memory-pressure",
        ),
        ("DiskPressure", node.disk >= DISK_PRESSURE, "KubeletHasDiskPressure", "node.kubernetes.io/disk-pressure"),
    )
    conditions = tuple((kind, "True", reason) for kind, on, reason, _ in pressure if on)
    control_plane = is_control_plane(scenario, node)
    spec = o.NodeSpec(
        name=node.name,
        control_plane=control_plane,
        cpu=node.cpus,
        memory_gi=max(1, round(node.memory_total_bytes / 1024**3)),
        ip=node.ip,
        created=origin - NODE_AGE,
        conditions=conditions,
    )
    obj = o.make_node(spec, 0)
    # o.make_node counts whole GiB; the scenario's exact bytes are what node-exporter reports.
    memory_ki = int(node.memory_total_bytes // 1024)
    status = obj["status"]
    status["capacity"]["memory"] = f"{memory_ki}Ki"
    status["allocatable"]["memory"] = f"{max(0, memory_ki - RESERVED_MEMORY_KI)}Ki"
    status["allocatable"]["cpu"] = f"{node.cpus * 1000 - RESERVED_CPU_MILLIS}m"
    messages = {
        "MemoryPressure": "kubelet has insufficient memory available",
        "DiskPressure": "kubelet has disk pressure",
    }
    for cond in status["conditions"]:
        if cond["status"] == "True" and cond["type"] in messages:
            cond["message"] = messages[cond["type"]]
    taints = [{"key": taint, "effect": "NoSchedule"} for _, on, _, taint in pressure if on]
    if taints:
        obj["spec"]["taints"] = obj["spec"].get("taints", []) + taints
    return obj


def _workload(pod: Pod) -> tuple[str, str]:
    """(app name, pod-template-hash) from the owner, as the controllers name them."""
    if pod.owner_kind == "ReplicaSet" and "-" in pod.owner_name:
        deployment, template_hash = pod.owner_name.rsplit("-", 1)
        return deployment, template_hash
    return pod.owner_name or pod.name, ""


def _container_spec(pod: Pod, container: Container, app: str) -> o.ContainerSpec:
    image = f"registry.example.com/{pod.namespace}/{app}:1.0.0"
    if container.last_terminated_reason == "OOMKilled":
        # The limit it keeps hitting: request == limit, as tight memory settings usually are.
        return o.ContainerSpec(container.name, image, "250m", "128Mi", "500m", "128Mi", 8080)
    return o.ContainerSpec(container.name, image, "100m", "128Mi", "500m", "256Mi", 8080)


def _container_state(scenario: Scenario, pod: Pod, container: Container, at: float) -> o.ContainerState:
    reason = container.last_terminated_reason
    return o.ContainerState(
        restarts=restart_count(scenario, pod, container, at),
        ready=container.waiting_reason is None and pod.phase == "Running",
        waiting_reason=container.waiting_reason,
        last_terminated_reason=reason,
        last_exit_code=EXIT_CODES.get(reason, 1) if reason else 0,
    )


def pod_spec(scenario: Scenario, pod: Pod, at: float = 0.0, origin: float = 0.0) -> o.PodSpec:
    app, template_hash = _workload(pod)
    node_ips = {n.name: n.ip for n in scenario.nodes}
    host_ip = node_ips.get(pod.node, "")
    return o.PodSpec(
        namespace=pod.namespace,
        name=pod.name,
        node=pod.node or None,
        app=app,
        owner_kind=pod.owner_kind,
        owner_name=pod.owner_name,
        containers=tuple(_container_spec(pod, c, app) for c in pod.containers),
        states=tuple(_container_state(scenario, pod, c, at) for c in pod.containers),
        phase=pod.phase,
        pod_ip=pod.ip or host_ip,
        host_ip=host_ip,
        created=origin - POD_AGE,
        pod_template_hash=template_hash,
    )


def pod_object(scenario: Scenario, pod: Pod, at: float, origin: float) -> o.Obj:
    obj = o.make_pod(pod_spec(scenario, pod, at, origin), 0)
    # o.make_pod dates a last termination at the pod's start; a restarting one ended recently.
    crashed = o.stamp(origin - LAST_CRASH_AGE)
    for status in obj["status"].get("containerStatuses", ()):
        terminated = status["lastState"].get("terminated")
        if terminated is not None and status["restartCount"]:
            terminated["startedAt"] = terminated["finishedAt"] = crashed
    return obj


def warning_events(scenario: Scenario, at: float = 0.0, origin: float = 0.0) -> list[o.Obj]:
    events: list[o.Obj] = []
    for n, pod in enumerate(scenario.pods):
        for c in pod.containers:
            restarts = restart_count(scenario, pod, c, at)
            if c.waiting_reason == "CrashLoopBackOff":
                events.append(
                    o.make_event(
                        pod.namespace,
                        f"{pod.name}.backoff-{c.name}",
                        "Pod",
                        pod.name,
                        "BackOff",
                        f"Back-off restarting failed container {c.name} in pod {pod.name}_{pod.namespace}",
                        "Warning",
                        0,
                        count=max(1, restarts * 4),
                        first=origin - EVENTS_SPAN,
                        last=origin - LAST_CRASH_AGE + n,
                        host=pod.node,
                    )
                )
            if c.last_terminated_reason == "OOMKilled" and pod.node:
                events.append(
                    o.make_event(
                        "default",
                        f"{pod.node}.oomkilling-{pod.namespace}-{pod.name}-{c.name}",
                        "Node",
                        pod.node,
                        "OOMKilling",
                        f"Memory cgroup out of memory: Killed process of container {c.name} in pod "
                        f"{pod.namespace}/{pod.name}",
                        "Warning",
                        0,
                        count=max(1, restarts),
                        first=origin - EVENTS_SPAN,
                        last=origin - LAST_CRASH_AGE + n,
                        component="kernel-monitor",
                        host=pod.node,
                    )
                )
    for n, (namespace, pod_name, message) in enumerate(scenario.failed_scheduling):
        events.append(
            o.make_event(
                namespace,
                f"{pod_name}.failedscheduling",
                "Pod",
                pod_name,
                "FailedScheduling",
                message,
                "Warning",
                0,
                count=10,
                first=origin - EVENTS_SPAN,
                last=origin - LAST_CRASH_AGE + n,
                component="default-scheduler",
            )
        )
    return events


def scenario_objects(scenario: Scenario, at: float = 0.0, origin: float = 0.0) -> list[tuple[str, o.Obj]]:
    """`origin`: the moment built for, in seconds after objects.EPOCH (timestamps only)."""
    namespaces = dict.fromkeys(SYSTEM_NAMESPACES + tuple(p.namespace for p in scenario.pods))
    objects: list[tuple[str, o.Obj]] = [("namespaces", o.make_namespace(ns, 0, origin - NODE_AGE)) for ns in namespaces]
    objects += [("nodes", node_object(scenario, n, origin)) for n in scenario.nodes]
    objects += [("pods", pod_object(scenario, p, at, origin)) for p in scenario.pods]
    ns, name, port = PROMETHEUS_SERVICE
    objects += [
        ("services", o.make_service("default", "kubernetes", 443, 0, app="apiserver", cluster_ip="10.96.0.1")),
        ("services", o.make_service(ns, name, port, 0, app="prometheus", cluster_ip="10.96.100.10")),
    ]
    objects += [("events", e) for e in warning_events(scenario, at, origin)]
    return objects


def cluster_from_scenario(scenario: Scenario, at: float | None = None, anchor: float | None = None) -> Cluster:
    """The cluster `scenario` describes, as the API server holds it `at` seconds after the
    scenario's anchor (None: at the anchor, the moment the Prometheus history was generated).

    `anchor` (unix seconds, e.g. PrometheusHandle.anchor) dates creation, termination and
    event timestamps around that moment; without it they sit at the fixed objects.EPOCH,
    byte-identical between runs."""
    offset = 0.0 if at is None else at
    origin = 0.0 if anchor is None else anchor + offset - o.EPOCH.timestamp()
    cluster = Cluster.from_objects(scenario_objects(scenario, offset, origin))
    cluster.scenario = scenario
    for pod in scenario.pods:
        for c in pod.containers:
            if c.previous_log:
                cluster.logs[(pod.namespace, pod.name, c.name, True)] = list(c.previous_log)
    return cluster
