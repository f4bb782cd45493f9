"""The table of faults the suite injects; tests/tools/fault_table.py turns results into the README's fault table.

Each case names the panels it should break (the others must keep working) and a fragment
the broken panel's status must contain, so the user learns what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faulty_proxy import Fault as PromFault
from faulty_proxy import Misbehaviour as M
from kubeapi import Fault as KubeFault

ETCD_QUERIES = r"etcd_(disk|mvcc|server|debugging|network)"
REFRESH = 0.5
QUERY_TIMEOUT = 1.0
PROM_PANELS = ("apiserver", "etcd")  # from Prometheus in the fault scenario
KUBE_PANELS = ("nodes", "restarts")  # no node-exporter / kube-state-metrics: from the kube API
SECRETS = "/api/v1/namespaces/kube-system/secrets"
# Small caps so a gzip bomb or an endless line trips them quickly on a shared CI machine
CAPS = {"max_response_mib": 16.0, "max_watch_line_mib": 4.0}


@dataclass(frozen=True)
class FaultCase:
    id: str
    title: str  # the README table's wording
    affected: tuple[str, ...]  # panels that must say what is wrong
    expect: str  # substring of the affected panels' status (reason or warning)
    prom: PromFault | None = None
    kube: tuple[KubeFault, ...] = field(default_factory=tuple)
    stale: bool = True  # the affected panel turns STALE (else it stays ok and shows `expect` as a warning)
    settings: dict[str, Any] = field(default_factory=dict)  # Settings changes for this case


def etcd_fault(
    id_: str,
    title: str,
    expect: str,
    how: M,
    *,
    stale: bool | None = None,
    settings: dict[str, Any] | None = None,
    **fault: Any,
) -> FaultCase:
    """A Prometheus fault on the etcd queries only: the etcd panel says what is wrong, the rest keep working.
    With nothing to expect in the status the panel must stay ok (not STALE) unless told otherwise."""
    return FaultCase(
        id_,
        title,
        ("etcd",),
        expect,
        prom=PromFault(how, ETCD_QUERIES, **fault),
        stale=bool(expect) if stale is None else stale,
        settings=settings or {},
    )


WARNED = "results truncated by the proxy"
PROMETHEUS_FAULTS: tuple[FaultCase, ...] = (
    FaultCase(
        "prom-dies",
        "Prometheus dies mid-session and comes back",
        PROM_PANELS,
        "connection refused",
        prom=PromFault(M.DOWN),
    ),
    etcd_fault("prom-503", "Prometheus plain-text 503 (starting/stopping)", "HTTP 503", M.PLAIN_503),
    etcd_fault("prom-422", "Prometheus 422 execution error", "execution", M.EXECUTION_422),
    etcd_fault("prom-400", "Prometheus 400 bad_data", "bad_data", M.BAD_DATA_400),
    etcd_fault("prom-timeout", "Prometheus query timeout", "did not answer within", M.HANG, delay=QUERY_TIMEOUT * 3),
    etcd_fault("prom-slow", "Prometheus answers slower than the refresh", "", M.SLOW, delay=REFRESH * 1.5),
    etcd_fault("prom-malformed", "Prometheus malformed JSON", "malformed response", M.MALFORMED_JSON),
    etcd_fault("prom-truncated", "Prometheus truncated JSON", "malformed response", M.TRUNCATED_JSON),
    etcd_fault("prom-huge", "Prometheus huge response (20k extra series)", "", M.HUGE),
    etcd_fault("prom-nonfinite", "Prometheus NaN / +Inf / -Inf values", "", M.NON_FINITE),
    etcd_fault("prom-warnings", "Prometheus `warnings` in the envelope", WARNED, M.WARNINGS, stale=False),
    etcd_fault(
        "prom-redirect",
        "Prometheus redirects (302) to another host",
        "redirect (HTTP 302, Location host 127.0.0.2): not followed",
        M.REDIRECT,
        location="http://127.0.0.2:9/api/v1/query",
    ),
    etcd_fault(
        "prom-gzip-bomb",
        "Prometheus gzip bomb (2 MB inflating to 2 GiB)",
        "larger than the 16 MiB cap",
        M.GZIP_BOMB,
        settings=CAPS,
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
    FaultCase(
        "kube-410-loop",
        "kube-API answers every watch with 410 Gone",
        ("restarts",),
        "410 Gone",
        kube=(KubeFault(r"^/api/v1/pods", watch_error=410, verbs=frozenset({"watch"})),),
    ),
    FaultCase(
        "kube-retry-after-0",
        "kube-API 429 with Retry-After: 0",
        ("restarts",),
        "429",
        kube=(KubeFault(r"^/api/v1/pods", status=429, retry_after=0),),
    ),
    FaultCase(
        "kube-redirect",
        "kube-API redirects (302) to the secrets path",
        ("restarts",),
        f"Location path {SECRETS}): not followed",
        kube=(KubeFault(r"^/api/v1/pods", status=302, headers={"Location": SECRETS}, body=b""),),
    ),
    FaultCase(
        "kube-gzip-bomb",
        "kube-API gzip bomb (2 MB inflating to 2 GiB)",
        ("restarts",),
        "MiB cap",
        kube=(KubeFault(r"^/api/v1/pods", gzip_bomb=2 * 1024**3),),
        settings=CAPS,
    ),
    FaultCase(
        "kube-endless-line",
        "kube-API watch line that never ends",
        ("restarts",),
        "max_watch_line_mib",
        kube=(KubeFault(r"^/api/v1/pods", endless_line=True, verbs=frozenset({"watch"})),),
        settings=CAPS,
    ),
)
