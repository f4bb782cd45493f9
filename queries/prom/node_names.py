"""One node identity per refresh: the name `kubectl get nodes` shows, whatever the scrape config.

Node-exporter targets are named on the server, inside the queries that read them: every
per-node expression is aggregated by `instance` and joined with
`* on (instance) group_left (k8stop_node, k8stop_naming)` to the name map of catalog entry
node.names, which takes, per target, the first of
  1. a node-name label already on the series (selectors.node_labels: node, nodename,
     kubernetes_node by default), as kube-prometheus or hand-written relabelling put it;
  2. node_uname_info{nodename} (node-exporter's own uname collector);
  3. kube-state-metrics' kube_node_info{node} whose internal_ip is the target's host;
then the instance as is. The name map is a few series per node and travels inside the query
that needs it, so naming adds no query, and no query per node. When the kube feed is there, a
target whose name the kube API does not know (its instance, or a uname hostname that is not
the node's name) is looked up here in the kube API's node addresses (InternalIP, Hostname).
`k8stop_naming` says which rule named each target, so the drill-down and the report can show
it and a wrong join is visible.
"""

from __future__ import annotations

import re

from k8stop.queries.prom.catalog import promql_string
from k8stop.queries.prom.client import LabelMap
from k8stop.queries.prom.context import PromContext

NODE = "k8stop_node"
NAMING = "k8stop_naming"
BY_INSTANCE = "instance"
BY_KUBE_API = "kube API node addresses"
BY_HOST = "its host's address"  # another job's target (kubelet), named through its host
_HOST = re.compile(r"\[?(.+?)\]?(?::[0-9]+)?")  # catalog.HOST_REGEX, in Python


def host_of(instance: str) -> str:
    """The host of a scrape target: "10.0.1.11:9100" -> "10.0.1.11", "node-1" -> "node-1"."""
    found = _HOST.fullmatch(instance)
    return found.group(1) if found else instance


def known_names(ctx: PromContext) -> str:
    """Name per node-exporter target where some label or info series tells it."""
    branches = "".join(
        ctx.catalog.render("node.names_by_label", label=label) + " or on (instance) "
        for label in ctx.settings.selectors.node_labels
    )
    return ctx.catalog.render("node.names", label_names=branches)


def every_name(ctx: PromContext) -> str:
    """Name per node-exporter target, the instance itself where nothing else names it."""
    return ctx.catalog.render("node.names_or_instance", names=known_names(ctx))


def named(ctx: PromContext, expr: str) -> str:
    """`expr` (one series per instance, or several told apart by other labels) with the
    node's name and naming rule added as k8stop_node and k8stop_naming."""
    return f"({expr}) * on (instance) group_left ({NODE}, {NAMING}) ({every_name(ctx)})"


def names_by_host(ctx: PromContext) -> str:
    """Name per host, for series of other jobs on the node (etcd, kubelet) keyed by instance."""
    return ctx.catalog.render("node.names_by_host", names=known_names(ctx))


def kube_name(ctx: PromContext, instance: str, said: str = "") -> str | None:
    """The kube API's name for the node whose address is the instance's host, unless what
    Prometheus `said` is already a node the kube API knows; None without the kube feed."""
    if ctx.kube_nodes is None:
        return None
    addresses = ctx.kube_nodes()
    if said and said in addresses.names:
        return None
    return addresses.get(host_of(instance))


def identity(ctx: PromContext, labels: LabelMap) -> tuple[str, str]:
    """(node name, how it was found) of one series from a `named` query. With the kube feed,
    a name the kube API does not know (an IP, a uname hostname that is not the node name) gives
    way to the kube API's name for the instance's host, when it has one."""
    instance = labels.get("instance", "")
    name, how = labels.get(NODE) or instance, labels.get(NAMING) or BY_INSTANCE
    found = kube_name(ctx, instance, name)
    return (found, BY_KUBE_API) if found is not None else (name, how)


def target_naming(instance: str, how: str) -> str:
    """One target's naming in words, for the node drill-down."""
    if how == BY_INSTANCE:
        return f"named by its instance {instance}"
    return f"node name from {how} (instance {instance})"


def _wanted(node: str) -> str:
    """A one-series vector {k8stop_node="<node>"}, to filter a name map with `and on`."""
    return f'label_replace(vector(1), "{NODE}", "{promql_string(node.replace("$", "$$"))}", "", "")'


def _naming(expr: str, how: str) -> str:
    return f'label_replace({expr}, "{NAMING}", "{promql_string(how)}", "", "")'


def _on_kube_addresses(ctx: PromContext, entry_id: str, node: str) -> str:
    """`entry_id`'s targets on the node's kube API addresses, or "" without the kube feed."""
    if ctx.kube_nodes is None:
        return ""
    addresses = sorted(address for address, name in ctx.kube_nodes().items() if name == node)
    if not addresses:
        return ""
    hosts = promql_string(r"\[?(" + "|".join(re.escape(a) for a in addresses) + r")\]?(:[0-9]+)?")
    return _naming(ctx.catalog.render(entry_id, extra_matchers=f'instance=~"{hosts}"'), BY_KUBE_API)


def targets_of(ctx: PromContext, node: str) -> str:
    """The node-exporter targets named `node` (instance, k8stop_naming), for a drill-down:
    filtered on the server, plus the targets on the node's kube API addresses."""
    branches = [f"({every_name(ctx)}) and on ({NODE}) {_wanted(node)}", _on_kube_addresses(ctx, "node.targets", node)]
    return " or on (instance) ".join(b for b in branches if b)


def kubelet_targets_of(ctx: PromContext, node: str) -> str:
    """The kubelet targets of `node` (instance, k8stop_naming): those with a node-name label
    saying so, else those whose host the name map or the kube API gives to the node."""
    escaped = promql_string(node)
    branches = [
        _naming(ctx.catalog.render("kubelet.targets", extra_matchers=f'{label}="{escaped}"'), f"label {label}")
        for label in ctx.settings.selectors.node_labels
    ]
    on_host = ctx.catalog.render("kubelet.targets_on_node", by_host=names_by_host(ctx), wanted=_wanted(node))
    branches += [_naming(on_host, BY_HOST), _on_kube_addresses(ctx, "kubelet.targets", node)]
    return " or on (instance) ".join(b for b in branches if b)
