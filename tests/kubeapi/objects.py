"""Builders for realistic core/v1 object JSON (as dicts), shared by small and generated clusters.

Shapes follow what a v1.29 API server returns, managedFields included, so clients are
exercised against objects of a realistic size (a pod renders to several KB).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]

# A fixed origin keeps generated objects byte-identical between runs for the same seed.
EPOCH = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)


def stamp(seconds_after_epoch: float) -> str:
    return (EPOCH + timedelta(seconds=seconds_after_epoch)).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=8192)  # owners (ReplicaSets, nodes) repeat across many pods
def uid_for(*parts: str) -> str:
    return str(uuid.UUID(bytes=hashlib.md5("/".join(parts).encode()).digest(), version=4))


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    name: str
    image: str
    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str | None = "500m"
    memory_limit: str | None = "256Mi"
    port: int | None = 8080


@dataclass(frozen=True, slots=True)
class ContainerState:
    """What the kubelet reports for one container."""

    restarts: int = 0
    ready: bool = True
    waiting_reason: str | None = None  # e.g. CrashLoopBackOff, ImagePullBackOff
    last_terminated_reason: str | None = None  # e.g. OOMKilled, Error
    last_exit_code: int = 0


@dataclass(frozen=True, slots=True)
class PodSpec:
    namespace: str
    name: str
    node: str | None  # None: not scheduled (Pending)
    app: str
    owner_kind: str = "ReplicaSet"  # ReplicaSet | StatefulSet | DaemonSet | Node (static pods)
    owner_name: str = ""
    containers: tuple[ContainerSpec, ...] = ()
    states: tuple[ContainerState, ...] = ()  # one per container; missing ones are healthy
    phase: str = "Running"
    pod_ip: str = "10.244.0.10"
    host_ip: str = "10.0.0.10"
    created: float = 0.0  # seconds after EPOCH
    pod_template_hash: str = ""
    extra_labels: tuple[tuple[str, str], ...] = ()
    priority_class: str | None = None
    unschedulable_message: str | None = None


def _managed_pod_fields(spec: PodSpec, created: str) -> list[Obj]:
    container_fields = {
        f'k:{{"name":"{c.name}"}}': {
            ".": {},
            "f:image": {},
            "f:imagePullPolicy": {},
            "f:name": {},
            "f:ports": {".": {}, f'k:{{"containerPort":{c.port},"protocol":"TCP"}}': {}} if c.port else {},
            "f:resources": {".": {}, "f:limits": {}, "f:requests": {}},
            "f:terminationMessagePath": {},
            "f:terminationMessagePolicy": {},
        }
        for c in spec.containers
    }
    manager = "kubelet" if spec.owner_kind == "Node" else "kube-controller-manager"
    return [
        {
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "time": created,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:generateName": {},
                    "f:labels": {".": {}, **{f"f:{k}": {} for k in _pod_labels(spec)}},
                    "f:ownerReferences": {".": {}, f'k:{{"uid":"{_owner_uid(spec)}"}}': {}},
                },
                "f:spec": {
                    "f:containers": container_fields,
                    "f:dnsPolicy": {},
                    "f:enableServiceLinks": {},
                    "f:restartPolicy": {},
                    "f:schedulerName": {},
                    "f:securityContext": {},
                    "f:terminationGracePeriodSeconds": {},
                },
            },
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "time": created,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:status": {
                    "f:conditions": {
                        f'k:{{"type":"{t}"}}': {
                            ".": {},
                            "f:lastProbeTime": {},
                            "f:lastTransitionTime": {},
                            "f:status": {},
                            "f:type": {},
                        }
                        for t in ("ContainersReady", "Initialized", "PodReadyToStartContainers", "Ready")
                    },
                    "f:containerStatuses": {},
                    "f:hostIP": {},
                    "f:hostIPs": {},
                    "f:phase": {},
                    "f:podIP": {},
                    "f:podIPs": {".": {}, f'k:{{"ip":"{spec.pod_ip}"}}': {".": {}, "f:ip": {}}},
                    "f:startTime": {},
                }
            },
            "subresource": "status",
        },
    ]


def _pod_labels(spec: PodSpec) -> dict[str, str]:
    labels = {"app": spec.app, "app.kubernetes.io/name": spec.app}
    if spec.pod_template_hash:
        labels["pod-template-hash"] = spec.pod_template_hash
    if spec.owner_kind == "StatefulSet":
        labels["statefulset.kubernetes.io/pod-name"] = spec.name
    labels.update(spec.extra_labels)
    return labels


def _owner_uid(spec: PodSpec) -> str:
    return uid_for(spec.owner_kind, spec.namespace, spec.owner_name)


def _container_status(c: ContainerSpec, st: ContainerState, spec: PodSpec, started: str) -> Obj:
    status: Obj = {
        "name": c.name,
        "image": c.image,
        "imageID": f"{c.image.split(':')[0]}@sha256:{hashlib.sha256(c.image.encode()).hexdigest()}",
        "containerID": "containerd://"
        + hashlib.sha256(f"{spec.namespace}/{spec.name}/{c.name}/{st.restarts}".encode()).hexdigest(),
        "ready": st.ready,
        "restartCount": st.restarts,
        "started": st.waiting_reason is None,
        "lastState": {},
        "state": {"running": {"startedAt": started}},
    }
    if st.waiting_reason:
        message = f"back-off 5m0s restarting failed container={c.name} pod={spec.name}_{spec.namespace}({uid_for('pod', spec.namespace, spec.name)})"
        status["state"] = {"waiting": {"reason": st.waiting_reason, "message": message}}
    if st.last_terminated_reason:
        status["lastState"] = {
            "terminated": {
                "exitCode": st.last_exit_code,
                "reason": st.last_terminated_reason,
                "startedAt": started,
                "finishedAt": started,
                "containerID": status["containerID"],
            }
        }
    return status


def make_pod(spec: PodSpec, resource_version: int) -> Obj:
    created = stamp(spec.created)
    started = stamp(spec.created + 4)
    states = spec.states + (ContainerState(),) * (len(spec.containers) - len(spec.states))
    scheduled = spec.node is not None
    all_ready = scheduled and spec.phase == "Running" and all(s.ready for s in states)
    pod_uid = uid_for("pod", spec.namespace, spec.name)
    generate_name = spec.name.rsplit("-", 1)[0] + "-"
    metadata: Obj = {
        "name": spec.name,
        "generateName": generate_name,
        "namespace": spec.namespace,
        "uid": pod_uid,
        "resourceVersion": str(resource_version),
        "creationTimestamp": created,
        "labels": _pod_labels(spec),
        "annotations": {
            "kubectl.kubernetes.io/default-container": spec.containers[0].name if spec.containers else "",
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(spec.containers[0].port or 8080) if spec.containers else "8080",
        },
        "ownerReferences": [
            {
                "apiVersion": "v1" if spec.owner_kind == "Node" else "apps/v1",
                "kind": spec.owner_kind,
                "name": spec.owner_name,
                "uid": _owner_uid(spec),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        "managedFields": _managed_pod_fields(spec, created),
    }
    pod_spec: Obj = {
        "volumes": [
            {
                "name": "kube-api-access",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "namespace",
                                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    }
                                ]
                            }
                        },
                    ],
                    "defaultMode": 420,
                },
            },
            {"name": "config", "configMap": {"name": f"{spec.app}-config", "defaultMode": 420}},
        ],
        "containers": [
            {
                "name": c.name,
                "image": c.image,
                "ports": [{"name": "http", "containerPort": c.port, "protocol": "TCP"}] if c.port else [],
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                    {"name": "LOG_LEVEL", "value": "info"},
                ],
                "resources": {
                    "limits": {k: v for k, v in (("cpu", c.cpu_limit), ("memory", c.memory_limit)) if v},
                    "requests": {"cpu": c.cpu_request, "memory": c.memory_request},
                },
                "volumeMounts": [
                    {
                        "name": "kube-api-access",
                        "readOnly": True,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    },
                    {"name": "config", "mountPath": "/etc/config"},
                ],
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": c.port or 8080, "scheme": "HTTP"},
                    "initialDelaySeconds": 10,
                    "timeoutSeconds": 1,
                    "periodSeconds": 10,
                    "successThreshold": 1,
                    "failureThreshold": 3,
                },
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            }
            for c in spec.containers
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if spec.node is not None:
        pod_spec["nodeName"] = spec.node
    if spec.priority_class:
        pod_spec["priorityClassName"] = spec.priority_class
        pod_spec["priority"] = 2000001000 if spec.priority_class == "system-node-critical" else 2000000000
    status: Obj
    if scheduled:
        ready = "True" if all_ready else "False"
        status = {
            "phase": spec.phase,
            "conditions": [
                {
                    "type": "PodReadyToStartContainers",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": started,
                },
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": created},
                {
                    "type": "Ready",
                    "status": ready,
                    "lastProbeTime": None,
                    "lastTransitionTime": started,
                    **(
                        {}
                        if all_ready
                        else {
                            "reason": "ContainersNotReady",
                            "message": "containers with unready status: ["
                            + " ".join(c.name for c, s in zip(spec.containers, states) if not s.ready)
                            + "]",
                        }
                    ),
                },
                {"type": "ContainersReady", "status": ready, "lastProbeTime": None, "lastTransitionTime": started},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": created},
            ],
            "hostIP": spec.host_ip,
            "hostIPs": [{"ip": spec.host_ip}],
            "podIP": spec.pod_ip,
            "podIPs": [{"ip": spec.pod_ip}],
            "startTime": created,
            "containerStatuses": [_container_status(c, s, spec, started) for c, s in zip(spec.containers, states)],
            "qosClass": "Burstable",
        }
    else:
        status = {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": created,
                    "reason": "Unschedulable",
                    "message": spec.unschedulable_message
                    or "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/6 nodes are available: 3 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.",
                }
            ],
            "qosClass": "Burstable",
        }
    return {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": pod_spec, "status": status}


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    control_plane: bool = False
    cpu: int = 8
    memory_gi: int = 32
    ip: str = "10.0.0.10"
    created: float = 0.0
    zone: str = "zone-a"
    # condition type -> (status, reason); Ready defaults to True, pressures to False
    conditions: tuple[tuple[str, str, str], ...] = ()
    extra_labels: tuple[tuple[str, str], ...] = field(default=())


_NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def node_condition(type_: str, status: str, reason: str, message: str, when: str) -> Obj:
    return {
        "type": type_,
        "status": status,
        "lastHeartbeatTime": when,
        "lastTransitionTime": when,
        "reason": reason,
        "message": message,
    }


def make_node(spec: NodeSpec, resource_version: int) -> Obj:
    created = stamp(spec.created)
    overrides = {t: (s, r) for t, s, r in spec.conditions}
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": spec.zone,
        "node.kubernetes.io/instance-type": f"m5.{'2xlarge' if spec.cpu <= 8 else '4xlarge'}",
    }
    if spec.control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    labels.update(spec.extra_labels)
    conditions = [node_condition(t, *overrides.get(t, (s, r)), m, created) for t, s, r, m in _NODE_CONDITIONS]
    pods = min(110, 10 * spec.cpu)
    capacity = {
        "cpu": str(spec.cpu),
        "ephemeral-storage": "101430960Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{spec.memory_gi * 1024 * 1024}Ki",
        "pods": str(pods),
    }
    allocatable = dict(capacity, cpu=f"{spec.cpu * 1000 - 100}m", memory=f"{spec.memory_gi * 1024 * 1024 - 1048576}Ki")
    node: Obj = {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": spec.name,
            "uid": uid_for("node", spec.name),
            "resourceVersion": str(resource_version),
            "creationTimestamp": created,
            "labels": labels,
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": spec.ip}, {"type": "Hostname", "address": spec.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": uid_for("machine", spec.name).replace("-", ""),
                "systemUUID": uid_for("system", spec.name),
                "bootID": uid_for("boot", spec.name),
                "kernelVersion": "6.1.0-18-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.13",
                "kubeletVersion": "v1.29.3",
                "kubeProxyVersion": "v1.29.3",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }
    if spec.control_plane:
        node["spec"]["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    return node


def make_namespace(name: str, resource_version: int, created: float = 0.0) -> Obj:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": uid_for("namespace", name),
            "resourceVersion": str(resource_version),
            "creationTimestamp": stamp(created),
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def make_service(
    namespace: str,
    name: str,
    port: int,
    resource_version: int,
    app: str | None = None,
    cluster_ip: str = "10.96.0.10",
    created: float = 0.0,
) -> Obj:
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for("service", namespace, name),
            "resourceVersion": str(resource_version),
            "creationTimestamp": stamp(created),
            "labels": {"app": app or name},
        },
        "spec": {
            "ports": [{"name": "web", "protocol": "TCP", "port": port, "targetPort": port}],
            "selector": {"app": app or name},
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    }


def make_event(
    namespace: str,
    name: str,
    involved_kind: str,
    involved_name: str,
    reason: str,
    message: str,
    type_: str,
    resource_version: int,
    count: int = 1,
    first: float = 0.0,
    last: float = 0.0,
    component: str = "kubelet",
    host: str | None = None,
) -> Obj:
    involved: Obj = {
        "kind": involved_kind,
        "name": involved_name,
        "uid": uid_for(involved_kind.lower(), namespace if involved_kind != "Node" else "", involved_name)
        if involved_kind != "Pod"
        else uid_for("pod", namespace, involved_name),
        "apiVersion": "v1",
    }
    if involved_kind != "Node":
        involved["namespace"] = namespace
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid_for("event", namespace, name),
            "resourceVersion": str(resource_version),
            "creationTimestamp": stamp(first),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp(first),
        "lastTimestamp": stamp(last or first),
        "count": count,
        "type": type_,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
