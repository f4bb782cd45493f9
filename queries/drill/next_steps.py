"""The commands an engineer runs next from a drill-down: exact, copyable, never run by k8stop.

Names come from the cluster (or a recording anyone may hand over), so each is sanitised
and shell-quoted; a name that is not a plausible Kubernetes name or address is left out
rather than put in a command line.
"""

from __future__ import annotations

import re
import shlex

from k8stop.queries.model.sanitize import clean

# Kubernetes object names, IPs and host:port; never a leading '-' (it would read as a flag).
_PLAUSIBLE = re.compile(r"[A-Za-z0-9\[][A-Za-z0-9._:\[\]/-]{0,252}")
# kubeadm's etcd client certificates: where they are on a kubeadm control-plane node.
ETCD_TLS = (
    "--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt "
    "--key=/etc/kubernetes/pki/etcd/server.key"
)


def plausible(name: str) -> str | None:
    """`name` when it is a name a cluster would use (and holds nothing to sanitise), else None."""
    return name if clean(name) == name and _PLAUSIBLE.fullmatch(name) else None


def arg(name: str) -> str | None:
    """`name` as one safe shell word, or None when it is no name a cluster would use."""
    text = plausible(name)
    return shlex.quote(text) if text is not None else None


def kubectl(context: str | None) -> str:
    ctx = arg(context) if context else None
    return f"kubectl --context {ctx}" if ctx else "kubectl"


def pod_commands(namespace: str, pod: str, containers: tuple[str, ...], context: str | None) -> tuple[str, ...]:
    ns, name = arg(namespace), arg(pod)
    if ns is None or name is None:
        return ()
    k = kubectl(context)
    logs = [f"{k} -n {ns} logs {name} -c {c} --previous" for c in map(arg, containers) if c is not None]
    return (
        *logs,
        f"{k} -n {ns} describe pod {name}",
        f"{k} -n {ns} get events --field-selector involvedObject.name={name} --sort-by=.lastTimestamp",
    )


def node_commands(node: str, context: str | None) -> tuple[str, ...]:
    name = arg(node)
    if name is None:
        return ()
    k = kubectl(context)
    return (
        f"{k} describe node {name}",
        f"{k} get pods -A -o wide --field-selector spec.nodeName={name}",
        f"{k} top node {name}",
        f"{k} get --raw /api/v1/nodes/{name}/proxy/metrics | grep -E '^kubelet_pleg_relist_duration'",
    )


def etcd_commands(instance: str, context: str | None) -> tuple[str, ...]:
    endpoint = arg(instance if "://" not in instance else instance.split("://", 1)[1])
    if endpoint is None:
        return ()
    etcdctl = f"ETCDCTL_API=3 etcdctl --endpoints=https://{endpoint} {ETCD_TLS}"
    return (
        f"{etcdctl} endpoint status -w table",
        f"{etcdctl} endpoint health -w table",
        f"{kubectl(context)} get --raw '/readyz/etcd?verbose'",
    )


def api_commands(verb: str, resource: str, context: str | None) -> tuple[str, ...]:
    v, r = plausible(verb), plausible(resource)
    if v is None or r is None:
        return ()
    k = kubectl(context)
    pattern = shlex.quote(f'apiserver_request_duration_seconds_count{{.*resource="{r}".*verb="{v}"')
    return (
        f"{k} get --raw /metrics | grep -E {pattern}",
        f"{k} get flowschemas,prioritylevelconfigurations",
        f"{k} get --raw '/readyz?verbose'",
    )


def control_plane_commands(context: str | None) -> tuple[str, ...]:
    k = kubectl(context)
    return (
        f"{k} get pods -A --field-selector status.phase=Pending -o wide",
        f"{k} get events -A --field-selector reason=FailedScheduling --sort-by=.lastTimestamp",
        f"{k} -n kube-system logs -l component=kube-scheduler --tail=100",
        f"{k} -n kube-system logs -l component=kube-controller-manager --tail=100",
    )
