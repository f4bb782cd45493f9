"""The table of faults the suite injects; tests/tools/fault_table.py turns results into the README's fault table.

Each case names the panels it should break (the others must keep working) and a fragment
the broken panel's status must contain, so the user learns what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faulty_proxy import Fault as PromFault
from faulty_proxy import Misbehaviour as M
from kubeapi import Fault as KubeFault

ETCD_QUERIES = r"etcd_(disk|mvcc|server|debugging|network)"
REFRESH = 0.5
QUERY_TIMEOUT = 1.0
PROM_PANELS = ("apiserver", "etcd")  # from Prometheus in the fault scenario
KUBE_PANELS = ("nodes", "restarts")  # no node-exporter / kube-state-metrics: from the kube API


@dataclass(frozen=True)
class FaultCase:
    id: str
    title: str  # the README table's wording
    affected: tuple[str, ...]  # panels that must say what is wrong
    expect: str  # substring of the affected panels' status (reason or warning)
    prom: PromFault | None = None
    kube: tuple[KubeFault, ...] = field(default_factory=tuple)
    stale: bool = True  # the affected panel turns STALE (else it stays ok and shows `expect` as a warning)


PROMETHEUS_FAULTS: tuple[FaultCase, ...] = (
    FaultCase(
        "prom-dies",
        "Prometheus dies mid-session and comes back",
        PROM_PANELS,
        "connection refused",
        prom=PromFault(M.DOWN),
    ),
    FaultCase(
        "prom-503",
        "Prometheus plain-text 503 (starting/stopping)",
        ("etcd",),
        "HTTP 503",
        prom=PromFault(M.PLAIN_503, ETCD_QUERIES),
    ),
    FaultCase(
        "prom-422",
        "Prometheus 422 execution error",
        ("etcd",),
        "execution",
        prom=PromFault(M.EXECUTION_422, ETCD_QUERIES),
    ),
    FaultCase(
        "prom-400", "Prometheus 400 bad_data", ("etcd",), "bad_data", prom=PromFault(M.BAD_DATA_400, ETCD_QUERIES)
    ),
    FaultCase(
        "prom-timeout",
        "Prometheus query timeout",
        ("etcd",),
        "did not answer within",
        prom=PromFault(M.HANG, ETCD_QUERIES, delay=QUERY_TIMEOUT * 3),
    ),
    FaultCase(
        "prom-slow",
        "Prometheus answers slower than the refresh",
        ("etcd",),
        "",
        stale=False,
        prom=PromFault(M.SLOW, ETCD_QUERIES, delay=REFRESH * 1.5),
    ),
    FaultCase(
        "prom-malformed",
        "Prometheus malformed JSON",
        ("etcd",),
        "malformed response",
        prom=PromFault(M.MALFORMED_JSON, ETCD_QUERIES),
    ),
    FaultCase(
        "prom-truncated",
        "Prometheus truncated JSON",
        ("etcd",),
        "malformed response",
        prom=PromFault(M.TRUNCATED_JSON, ETCD_QUERIES),
    ),
    FaultCase(
        "prom-huge",
        "Prometheus huge response (20k extra series)",
        ("etcd",),
        "",
        stale=False,
        prom=PromFault(M.HUGE, ETCD_QUERIES),
    ),
    FaultCase(
        "prom-nonfinite",
        "Prometheus NaN / +Inf / -Inf values",
        ("etcd",),
        "",
        stale=False,
        prom=PromFault(M.NON_FINITE, ETCD_QUERIES),
    ),
    FaultCase(
        "prom-warnings",
        "Prometheus `warnings` in the envelope",
        ("etcd",),
        "results truncated by the proxy",
        stale=False,
        prom=PromFault(M.WARNINGS, ETCD_QUERIES),
    ),
)

KUBE_FAULTS: tuple[FaultCase, ...] = (
    FaultCase(
        "kube-401",
        "kube-API 401 (expired token)",
        KUBE_PANELS,
        "token expired or invalid",
        kube=(KubeFault(r"^/api", status=401),),
    ),
    FaultCase(
        "kube-403-nodes",
        "kube-API 403 on nodes (RBAC-limited user)",
        ("nodes",),
        "forbidden",
        kube=(KubeFault(r"/nodes", status=403),),
    ),
    FaultCase(
        "kube-403-namespaces",
        "kube-API 403 on other namespaces",
        ("restarts",),
        "forbidden",
        kube=(KubeFault(r"^/api/v1/pods", status=403),),
    ),
    FaultCase(
        "kube-429",
        "kube-API 429 with Retry-After",
        ("restarts",),
        "429",
        kube=(KubeFault(r"^/api/v1/pods", status=429, retry_after=1),),
    ),
    FaultCase(
        "kube-500",
        "kube-API 500",
        ("restarts",),
        "API server error 500",
        kube=(KubeFault(r"^/api/v1/pods", status=500),),
    ),
    FaultCase(
        "kube-watch-cut",
        "kube-API watch stream cut mid-event",
        ("restarts",),
        "pods",
        kube=(KubeFault(r"^/api/v1/pods", cut_watch_after_events=0, verbs=frozenset({"watch"})),),
    ),
    FaultCase(
        "kube-reset",
        "kube-API connection reset",
        ("restarts",),
        "pods",
        kube=(KubeFault(r"^/api/v1/pods", reset_connection=True),),
    ),
)
