"""Find a Prometheus-compatible query endpoint inside the cluster when none was given.

The endpoint is reached through the API server's service proxy, so it works from a
laptop with only a kubeconfig; the Prometheus client sends the kubeconfig's
credentials (`KubeConnection.aiohttp_auth`) with each request.

Namespace ranks before Service name: any tenant can create a Service called
`prometheus-operated` in its own namespace, and the admin running k8stop must not end up
reading (and trusting) that tenant's numbers. Well-known monitoring namespaces come first;
a choice among several candidates, or of one outside those namespaces, is said in the
source description.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from k8stop.queries.kube.connection import KubeConnection
from k8stop.queries.kube.errors import KubeApiError
from k8stop.queries.model.errors import FeedError

# Best first. Operator-managed Prometheus before generic names; query frontends for
# Thanos and VictoriaMetrics after Prometheus itself
SERVICE_NAMES = (
    "prometheus-operated",
    "prometheus-k8s",
    "kube-prometheus-stack-prometheus",
    "prometheus-kube-prometheus-prometheus",
    "prometheus-server",
    "prometheus",
    "thanos-query",
    "thanos-querier",
    "thanos-query-frontend",
    "vmselect",
    "vmsingle",
    "victoria-metrics",
    "victoria-metrics-single-server",
)
# How to point k8stop at a Prometheus it could not find: said wherever discovery gives up.
POINT_AT_PROMETHEUS = (
    "pass --prometheus-url URL, or port-forward yours, e.g. "
    "`kubectl -n monitoring port-forward svc/prometheus-k8s 9090` "
    "then --prometheus-url http://localhost:9090 (or --no-prometheus)"
)
# Helm release names prefix the chart's service: "<release>-kube-prometheus-stack-prometheus"
SERVICE_SUFFIXES = (
    "-kube-prometheus-stack-prometheus",
    "-kube-prometheus-prometheus",
    "-prometheus-server",
    "-victoria-metrics-single-server",
)
# Where operators and charts install the cluster's own monitoring; creating Services in
# them takes rights a tenant does not have. Anything else ("default" included) is tenant space.
NAMESPACES = (
    "monitoring",
    "prometheus",
    "observability",
    "kube-prometheus-stack",
    "kube-prometheus",
    "prometheus-operator",
    "openshift-monitoring",
    "cattle-monitoring-system",
    "victoria-metrics",
    "thanos",
    "kube-system",
)
PORT_NAMES = ("web", "http-web", "http", "http-query", "query", "prometheus")
PORT_NUMBERS = (9090, 10902, 8481, 8428, 80)
_UNRANKED = len(SERVICE_NAMES)


@dataclass(frozen=True, slots=True)
class PrometheusSource:
    url: str  # base URL: append /api/v1/query etc.
    namespace: str
    service: str
    port: str  # the port as it appears in the proxy path (name or number)
    description: str  # "prometheus-k8s.monitoring via the API server's service proxy[; why]"
    candidates: int = 1  # Prometheus-like services found, this one included

    @property
    def trusted(self) -> bool:
        """In a well-known monitoring namespace (not one a tenant may create Services in)."""
        return self.namespace in NAMESPACES

    @property
    def label(self) -> str:
        """For the header: an untrusted namespace is flagged first (a narrow terminal cuts the
        end of the line), a choice among several last."""
        flag = "" if self.trusted else "NOT-MONITORING-NS "
        among = f" (1 of {self.candidates})" if self.candidates > 1 else ""
        return f"{flag}{self.service}.{self.namespace} via kube proxy{among}"


def _name_rank(name: str) -> int | None:
    if name in SERVICE_NAMES:
        return SERVICE_NAMES.index(name)
    if name.endswith(SERVICE_SUFFIXES):
        return _UNRANKED
    return None


def _namespace_rank(namespace: str) -> int:
    return NAMESPACES.index(namespace) if namespace in NAMESPACES else len(NAMESPACES)


def _port(service: dict[str, Any]) -> str | None:
    spec = service.get("spec")
    listed = spec.get("ports") if isinstance(spec, dict) else None
    ports = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
    for wanted in PORT_NAMES:
        for port in ports:
            if port.get("name") == wanted:
                return str(wanted)
    for wanted_number in PORT_NUMBERS:
        for port in ports:
            if port.get("port") == wanted_number:
                return str(port.get("name") or wanted_number)
    if ports:
        first = ports[0]
        return str(first.get("name") or first.get("port"))
    return None


def _name(service: dict[str, Any]) -> tuple[str, str]:
    metadata = service.get("metadata")
    if not isinstance(metadata, dict):
        return "", ""
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def _source(server: str, service: dict[str, Any], why: str, candidates: int) -> PrometheusSource | None:
    namespace, name = _name(service)
    port = _port(service)
    if port is None:
        return None
    url = f"{server}/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy"
    if name == "vmselect" or name.endswith("-vmselect"):
        url += "/select/0/prometheus"  # cluster VictoriaMetrics serves tenant 0 here
    return PrometheusSource(
        url=url,
        namespace=namespace,
        service=name,
        port=port,
        description=f"{name}.{namespace} via the API server's service proxy{why}",
        candidates=candidates,
    )


def _why(chosen: tuple[str, str], others: list[tuple[str, str]]) -> str:
    """Why this candidate, when the choice was not the only obvious one."""
    namespace = chosen[0]
    trusted = namespace in NAMESPACES
    notes = []
    if not trusted:
        notes.append(
            f"namespace {namespace} is not a well-known monitoring namespace: pass --prometheus-url to be sure"
        )
    if others:
        shown = ", ".join(f"{name}.{ns}" for ns, name in others[:3]) + (", ..." if len(others) > 3 else "")
        rule = "monitoring namespaces first, then Service name" if trusted else "none in a monitoring namespace"
        notes.append(f"chosen over {shown} ({rule})")
    return f"; {'; '.join(notes)}" if notes else ""


def pick(server: str, services: list[dict[str, Any]]) -> PrometheusSource | None:
    """The best-ranked Prometheus-like service among `services`, as a proxy source:
    monitoring namespaces first, then the Service name."""
    ranked = []
    for service in services:
        namespace, name = _name(service)
        rank = _name_rank(name)
        if rank is not None and _port(service) is not None:
            ranked.append((_namespace_rank(namespace), rank, service))
    ranked.sort(key=lambda item: item[:2])
    if not ranked:
        return None
    chosen = _name(ranked[0][2])
    others = [_name(service) for _, _, service in ranked[1:]]
    return _source(server, ranked[0][2], _why(chosen, others), len(ranked))


async def _list_all(connection: KubeConnection) -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = []
    token = ""
    tokens: set[str] = set()
    while True:
        params: list[tuple[str, str | int | bool]] = [("limit", 500)]
        params.append(("continue", token) if token else ("resourceVersion", "0"))
        page = await connection.get_json("/api/v1/services", params, what="list services at cluster scope")
        if not isinstance(page, dict):
            raise FeedError("list services at cluster scope: the answer is not a list object")
        services.extend(item for item in page.get("items") or () if isinstance(item, dict))
        token = str((page.get("metadata") or {}).get("continue") or "")
        if not token:
            return services
        if token in tokens:
            raise FeedError(
                "list services at cluster scope: the server returned the same continue token twice: stopped paging"
            )
        tokens.add(token)


async def _get_each(connection: KubeConnection, concurrency: int = 4) -> list[dict[str, Any]]:
    """Without cluster-wide list rights: GET each well-known name in each namespace."""
    gate = asyncio.Semaphore(concurrency)

    async def get(namespace: str, name: str) -> dict[str, Any] | None:
        async with gate:
            try:
                found = await connection.get_json(
                    f"/api/v1/namespaces/{namespace}/services/{name}",
                    what=f"get service {name} in namespace {namespace}",
                    timeout=10.0,
                )
            except KubeApiError as exc:
                if exc.status in (403, 404):
                    return None
                raise
            return found if isinstance(found, dict) else None

    found = await asyncio.gather(*(get(ns, name) for ns in NAMESPACES for name in SERVICE_NAMES))
    return [service for service in found if service is not None]


async def discover_prometheus(connection: KubeConnection) -> PrometheusSource:
    """One cluster-wide list of services if RBAC allows it, else per-namespace GETs.

    Raises FeedError saying what was searched and how to point k8stop at Prometheus.
    """
    try:
        services = await _list_all(connection)
        how = "listed services"
    except KubeApiError as exc:
        if exc.status != 403:
            raise
        services = await _get_each(connection)
        how = "looked up well-known service names"
    source = pick(connection.server, services)
    if source is None:
        raise FeedError(
            f"no Prometheus found in the cluster ({how}; tried {', '.join(SERVICE_NAMES[:6])}, ... "
            f"in {', '.join(NAMESPACES[:5])}, ...): {POINT_AT_PROMETHEUS}"
        )
    return source
