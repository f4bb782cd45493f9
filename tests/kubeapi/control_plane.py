"""A kubeadm-style control plane on top of any cluster: static pods with flags, kubeadm-config
and kube-proxy ConfigMaps, and control-plane nodes of a chosen size.

`kubeadm_objects` returns the objects to `Cluster.load`; the flags are arguments so a test
states the settings it then asserts on. Shapes follow what kubeadm v1.29 writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from . import objects as o

COMPONENT_IMAGES = {
    "kube-apiserver": "registry.k8s.io/kube-apiserver:v1.29.3",
    "kube-controller-manager": "registry.k8s.io/kube-controller-manager:v1.29.3",
    "kube-scheduler": "registry.k8s.io/kube-scheduler:v1.29.3",
    "etcd": "registry.k8s.io/etcd:3.5.12-0",
}


def static_pod_spec(component: str, node: str, ip: str, cpu: str = "250m", memory: str | None = None) -> o.PodSpec:
    """The spec of a kubeadm static pod: host network address, owned by its node, node-critical."""
    return o.PodSpec(
        namespace="kube-system",
        name=f"{component}-{node}",
        node=node,
        app=component,
        owner_kind="Node",
        owner_name=node,
        containers=(o.ContainerSpec(component, COMPONENT_IMAGES[component], cpu, memory, None, None, None),),
        pod_ip=ip,
        host_ip=ip,
        priority_class="system-node-critical",
        extra_labels=(("component", component), ("tier", "control-plane")),
    )


def static_pod(component: str, node: str, ip: str, flags: Mapping[str, str]) -> o.Obj:
    """A mirror pod as the kubelet posts it for /etc/kubernetes/manifests/<component>.yaml."""
    spec = static_pod_spec(component, node, ip)
    pod = o.make_pod(spec, 0)
    pod["metadata"]["annotations"]["kubernetes.io/config.mirror"] = o.uid_for("mirror", node, component)
    pod["metadata"]["annotations"]["kubernetes.io/config.source"] = "file"
    pod["spec"]["hostNetwork"] = True
    pod["spec"]["containers"][0]["command"] = [component, *(f"--{k}={v}" for k, v in flags.items())]
    return pod


def configmap(namespace: str, name: str, data: Mapping[str, str]) -> o.Obj:
    return {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": o.uid_for("configmap", namespace, name),
            "resourceVersion": "0",
            "creationTimestamp": o.stamp(0),
        },
        "data": dict(data),
    }


def kube_proxy_configmap(config: Mapping[str, object]) -> o.Obj:
    body = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration", **config}
    return configmap("kube-system", "kube-proxy", {"config.conf": yaml.safe_dump(body), "kubeconfig.conf": "..."})


def kubeadm_config(extra_args: Mapping[str, Mapping[str, str]]) -> o.Obj:
    """kubeadm-config with ClusterConfiguration v1beta3 (extraArgs as maps)."""
    config: o.Obj = {
        "apiVersion": "kubeadm.k8s.io/v1beta3",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": "v1.29.3",
    }
    keys = {
        "kube-apiserver": "apiServer",
        "kube-controller-manager": "controllerManager",
        "kube-scheduler": "scheduler",
    }
    for component, args in extra_args.items():
        if component == "etcd":
            config["etcd"] = {"local": {"dataDir": "/var/lib/etcd", "extraArgs": dict(args)}}
        else:
            config[keys[component]] = {"extraArgs": dict(args)}
    return configmap("kube-system", "kubeadm-config", {"ClusterConfiguration": yaml.safe_dump(config)})


def kubeadm_objects(
    control_plane: Sequence[o.NodeSpec],
    flags: Mapping[str, Mapping[str, str]],
    etcd_nodes: int,
    proxy: Mapping[str, object] | None,
) -> list[tuple[str, o.Obj]]:
    """Control-plane nodes (replacing any of the same name), their static pods and the ConfigMaps.

    etcd runs on the first `etcd_nodes` control-plane nodes; `--initial-cluster` names them.
    """
    objects: list[tuple[str, o.Obj]] = [("nodes", o.make_node(n, 0)) for n in control_plane]
    etcd_hosts = control_plane[:etcd_nodes]
    initial = ",".join(f"{n.name}=https://{n.ip}:2380" for n in etcd_hosts)
    for n in control_plane:
        for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
            if component == "etcd" and n not in etcd_hosts:
                continue
            args = dict(flags.get(component, {}))
            if component == "etcd":
                args["initial-cluster"] = initial
            objects.append(("pods", static_pod(component, n.name, n.ip, args)))
    objects.append(("configmaps", kubeadm_config(flags)))
    if proxy is not None:
        objects.append(("configmaps", kube_proxy_configmap(proxy)))
    return objects
