"""The whole app against a real Prometheus (behind a fault-injecting proxy) and the kube-API
test server, one fault at a time: no crash, the broken panel says why and keeps its last
data with its age, the other panels keep working, and the app recovers by itself.

Set K8STOP_FAULT_RESULTS=FILE to collect one JSON line per fault (tests/tools/fault_table.py).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from fault_cases import (
    KUBE_FAULTS,
    KUBE_PANELS,
    PROMETHEUS_FAULTS,
    QUERY_TIMEOUT,
    REFRESH,
    FaultCase,
)
from faulty_proxy import Fault as PromFault
from faulty_proxy import FaultyProxy
from faulty_proxy import Misbehaviour as M
from k8stop.queries.config import PrometheusAuth, Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.kube.feed import KubeFeed
from k8stop.queries.model.status import FeedState
from k8stop.tui.app import K8sTopApp
from kubeapi import Cluster, Fault, ThreadedKubeApiServer, write_kubeconfig
from kubeapi.tls import serving_cert
from scenario import Scenario
from screen import screen_text, wait_for

PANELS = ("apiserver", "etcd", "nodes", "restarts")
READ_VERBS = {"get", "list", "watch"}
# After the fault ends: a poll in flight may take one query timeout, Prometheus pollers retry
# at the refresh interval, and the kube list/watch backs off (1 s doubling) while failing, so
# its next attempt may be a few refreshes away for a fault held ~2 s. A generous bound keeps
# a loaded CI machine green; the measured times go to the README's fault table.
RECOVERY_LIMIT = 6.0


def record(case_id: str, title: str, survived: bool, recovery: float | None, note: str = "") -> None:
    target = os.environ.get("K8STOP_FAULT_RESULTS")
    if not target:
        return
    row = {"id": case_id, "title": title, "survived": survived, "recovery": recovery, "note": note}
    with open(target, "ab") as handle:
        handle.write(orjson.dumps(row) + b"\n")


# --- shared servers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fault_prometheus(prometheus_for: Any) -> Any:
    """apiserver/etcd from Prometheus; nodes/restarts fall back to the kube API (no exporters)."""
    return prometheus_for(Scenario.healthy(node_exporter_exposed=False, ksm_exposed=False))


@pytest.fixture(scope="module")
def proxy(fault_prometheus: Any) -> Iterator[FaultyProxy]:
    with FaultyProxy(fault_prometheus.url) as running:
        yield running


@pytest.fixture(scope="module")
def cluster_api() -> Iterator[ThreadedKubeApiServer]:
    """One server for the module so its request log covers every whole-app run."""
    with ThreadedKubeApiServer(Cluster.small(), token="test-token", bookmark_interval=0.5, churn=2.0) as server:
        yield server
        verbs = {r.verb for r in server.requests}
        assert verbs <= READ_VERBS, f"k8stop sent non-read requests: {verbs - READ_VERBS}"


@pytest.fixture(scope="module")
def cluster_kubeconfig(cluster_api: ThreadedKubeApiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", cluster_api.url, cluster_api.token)


@pytest.fixture
def clean(proxy: FaultyProxy, cluster_api: ThreadedKubeApiServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # API servers end watches on their own (min-request-timeout); a short timeout makes the
    # next watch meet an injected fault within seconds instead of minutes.
    monkeypatch.setattr(KubeFeed, "__init__", functools.partialmethod(KubeFeed.__init__, watch_timeout=2))
    proxy.clear()
    cluster_api.clear_faults()
    yield
    proxy.clear()
    cluster_api.clear_faults()


def make_app(url: str, kubeconfig: Path | None, **changes: Any) -> K8sTopApp:
    settings = Settings(
        prometheus_url=url,
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        use_kube=kubeconfig is not None,
        refresh=REFRESH,
        query_timeout=QUERY_TIMEOUT,
        # Prometheus faults must show on its panels, not be covered by the API server's /metrics
        # (that fallback has its own tests in test_direct_metrics.py).
        direct_metrics=False,
    )
    return K8sTopApp(replace(settings, **changes), LiveSource)


# --- helpers ---------------------------------------------------------------------------------


def panel(app: K8sTopApp, feed: str) -> Any:
    return app.dashboard.panels()[feed]


def fresh(app: K8sTopApp, feed: str, since: float) -> bool:
    """OK with facts fetched after `since`."""
    status = panel(app, feed).status
    return status.state is FeedState.OK and status.updated_at is not None and status.updated_at >= since


def working(app: K8sTopApp, feeds: tuple[str, ...]) -> bool:
    now = time.time()
    return all(panel(app, f).facts is not None and fresh(app, f, now - 4 * REFRESH - QUERY_TIMEOUT) for f in feeds)


def crash_free(app: K8sTopApp) -> None:
    assert app.is_running, "the app ended"
    errors = [str(n.message) for n in app._notifications if n.severity == "error"]
    assert not errors, f"worker errors: {errors}"
    assert "Traceback" not in screen_text(app)


def shows_fault(app: K8sTopApp, case: FaultCase) -> bool:
    for feed in case.affected:
        status = panel(app, feed).status
        if case.stale:
            if status.state is not FeedState.STALE or case.expect not in status.reason:
                return False
        elif case.expect and not any(case.expect in w for w in status.warnings):
            return False
    return True


async def recover(pilot: Any, app: K8sTopApp, feeds: tuple[str, ...]) -> float:
    cleared = time.time()
    await wait_for(pilot, lambda: all(fresh(app, f, cleared) for f in feeds), timeout=40, what="recovery")
    return time.time() - cleared


async def exercise(pilot: Any, app: K8sTopApp, case: FaultCase, inject: Any, clear: Any) -> float:
    """Inject, check the broken and the working panels, clear, measure the recovery."""
    await wait_for(pilot, lambda: working(app, PANELS), what="every panel with data")
    inject()
    if case.stale:
        await wait_for(pilot, lambda: shows_fault(app, case), timeout=10, what=f"{case.id} shown")
        kept = {feed: panel(app, feed).facts for feed in case.affected}
        await pilot.pause(3 * REFRESH)  # the fault persists over several refreshes
        assert shows_fault(app, case)
    else:
        await pilot.pause(4 * REFRESH + QUERY_TIMEOUT)
        await wait_for(pilot, lambda: shows_fault(app, case), what=f"{case.id} shown")
    crash_free(app)
    text = screen_text(app)
    for feed in case.affected:
        shown = panel(app, feed)
        assert shown.facts is not None, f"{feed} dropped its last good data"
        if case.stale:
            assert kept[feed] is shown.facts, f"{feed} replaced its data while failing"
            problem = shown.render().plain.splitlines()[1]
            assert problem.startswith("◐ STALE data ") and " old: " in problem, problem
            assert problem[:20] in text
    others = tuple(f for f in PANELS if f not in case.affected)
    assert working(app, others), f"unaffected panels stopped: {[panel(app, f).status for f in others]}"
    assert not any("STALE" in panel(app, f).render().plain for f in others)
    clear()
    elapsed = await recover(pilot, app, PANELS)
    crash_free(app)
    assert "STALE" not in screen_text(app)
    return elapsed


async def run_case(case: FaultCase, app: K8sTopApp, inject: Any, clear: Any) -> None:
    survived, elapsed, note = False, None, ""
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            elapsed = await exercise(pilot, app, case, inject, clear)
            survived = True
            assert elapsed <= RECOVERY_LIMIT, f"recovered in {elapsed:.1f} s, limit {RECOVERY_LIMIT:.1f} s"
    except AssertionError as exc:
        note = str(exc).splitlines()[0][:120]
        raise
    finally:
        record(case.id, case.title, survived, elapsed, note)


# --- Prometheus faults -----------------------------------------------------------------------


@pytest.mark.parametrize("case", PROMETHEUS_FAULTS, ids=lambda c: c.id)
async def test_prometheus_fault(case: FaultCase, proxy: FaultyProxy, cluster_kubeconfig: Path, clean: None) -> None:
    assert case.prom is not None
    fault = case.prom
    app = make_app(proxy.url, cluster_kubeconfig, **case.settings)
    await run_case(case, app, lambda: proxy.set(fault), proxy.clear)
    if fault.query_regex is not None:
        assert proxy.faulted > 0


async def test_prometheus_down_at_start(proxy: FaultyProxy, cluster_kubeconfig: Path, clean: None) -> None:
    title = "Prometheus down at start, then comes up"
    proxy.set(PromFault(M.DOWN))
    app = make_app(proxy.url, cluster_kubeconfig)
    survived, elapsed = False, None
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(
                pilot,
                lambda: all(panel(app, f).status.state is FeedState.ERROR for f in ("apiserver", "etcd")),
                what="error status",
            )
            await pilot.pause(3 * REFRESH)
            crash_free(app)
            assert "connection refused" in screen_text(app)
            assert working(app, KUBE_PANELS)  # the kube API keeps its panels alive
            proxy.clear()
            elapsed = await recover(pilot, app, PANELS)
            crash_free(app)
            survived = True
            assert elapsed <= RECOVERY_LIMIT, f"recovered in {elapsed:.1f} s, limit {RECOVERY_LIMIT:.1f} s"
    finally:
        record("prom-down-at-start", title, survived, elapsed)


async def test_prometheus_dns_failure(cluster_kubeconfig: Path) -> None:
    app = make_app("http://prometheus.nonexistent.invalid:9090", cluster_kubeconfig)
    survived = False
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: panel(app, "etcd").status.state is FeedState.ERROR, what="error")
            await wait_for(pilot, lambda: working(app, KUBE_PANELS), what="kube panels")
            crash_free(app)
            reason = panel(app, "etcd").status.reason
            assert "host name not found (DNS)" in reason and "--prometheus-url" in reason
            assert "DNS" in screen_text(app)
            survived = True
    finally:
        record("prom-dns", "Prometheus host name does not resolve (DNS)", survived, None, "fix --prometheus-url")


@pytest.fixture(scope="module")
def tls_proxy(fault_prometheus: Any) -> Iterator[FaultyProxy]:
    with FaultyProxy(fault_prometheus.url, tls_context=serving_cert().server_context()) as running:
        yield running


async def test_prometheus_self_signed_certificate(tls_proxy: FaultyProxy) -> None:
    app = make_app(tls_proxy.url, None)
    survived = False
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: panel(app, "etcd").status.state is FeedState.ERROR, what="TLS error")
            crash_free(app)
            reason = panel(app, "etcd").status.reason
            assert "--prometheus-ca-file" in reason and "--insecure-skip-tls-verify" in reason
            assert "TLS-UNVERIFIED" not in screen_text(app).splitlines()[0]
            survived = True
    finally:
        record(
            "prom-self-signed",
            "Prometheus self-signed certificate",
            survived,
            None,
            "message names --prometheus-ca-file and --insecure-skip-tls-verify",
        )


@pytest.mark.parametrize("how", ["ca-file", "insecure"])
async def test_self_signed_certificate_accepted_when_told(tls_proxy: FaultyProxy, how: str) -> None:
    """The CA file verifies; skipping verification works too, and the header says so."""
    if how == "ca-file":
        auth = PrometheusAuth(ca_file=str(serving_cert().cert_file))
    else:
        auth = PrometheusAuth(insecure_skip_tls_verify=True)
    app = make_app(tls_proxy.url, None, prometheus=auth)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: working(app, ("apiserver", "etcd")), what="data over TLS")
        header = screen_text(app).splitlines()[0]
        assert ("TLS-UNVERIFIED" in header) is (how == "insecure")


# --- kube-API faults -------------------------------------------------------------------------


@pytest.mark.parametrize("case", KUBE_FAULTS, ids=lambda c: c.id)
async def test_kube_fault(
    case: FaultCase, proxy: FaultyProxy, cluster_api: ThreadedKubeApiServer, cluster_kubeconfig: Path, clean: None
) -> None:
    app = make_app(proxy.url, cluster_kubeconfig, **case.settings)

    def inject() -> None:
        for fault in case.kube:
            cluster_api.inject(fault)

    await run_case(case, app, inject, cluster_api.clear_faults)


async def test_kube_410_gone_relists(
    proxy: FaultyProxy, cluster_api: ThreadedKubeApiServer, cluster_kubeconfig: Path, clean: None
) -> None:
    """A watch answered with 410 Gone makes the feed list again from etcd; no panel breaks."""
    app = make_app(proxy.url, cluster_kubeconfig)
    survived = False
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: working(app, PANELS), what="data")
            seen = len(cluster_api.requests)
            cluster_api.inject(Fault(r"^/api/v1/pods", status=410, times=1, verbs=frozenset({"watch"})))

            def relisted() -> bool:
                later = cluster_api.requests[seen:]
                gone = [i for i, r in enumerate(later) if r.verb == "watch" and r.resource == "pods"]
                return bool(gone) and any(
                    r.verb == "list" and r.resource == "pods" and r.query.get("resourceVersion", "") == ""
                    for r in later[gone[0] :]
                )

            await wait_for(pilot, relisted, what="a consistent relist after 410")
            await pilot.pause(2 * REFRESH)
            crash_free(app)
            assert working(app, PANELS)
            survived = True
    finally:
        record(
            "kube-410",
            "kube-API 410 Gone (watch expired)",
            survived,
            0.0 if survived else None,
            "relists; no panel goes stale",
        )


async def test_prometheus_dies_while_kube_also_fails(
    proxy: FaultyProxy, cluster_api: ThreadedKubeApiServer, cluster_kubeconfig: Path, clean: None
) -> None:
    """Both sources down at once: every panel STALE with its own reason; both come back."""
    app = make_app(proxy.url, cluster_kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: working(app, PANELS), what="data")
        proxy.set(PromFault(M.DOWN))
        cluster_api.inject(Fault(r"^/api", status=500))
        await wait_for(
            pilot,
            lambda: (
                all(panel(app, f).status.state is FeedState.STALE for f in PANELS)
                and "refused" in panel(app, "etcd").status.reason
            ),
            what="all stale",
        )
        crash_free(app)
        assert "500" in panel(app, "restarts").status.reason
        proxy.clear()
        cluster_api.clear_faults()
        await recover(pilot, app, PANELS)
        crash_free(app)


async def test_proxy_passes_through(proxy: FaultyProxy, fault_prometheus: Any, clean: None) -> None:
    """Without a fault the proxy answers exactly what Prometheus answers."""
    import aiohttp

    query = {"query": "count(up)"}
    async with aiohttp.ClientSession() as session:
        async with session.get(proxy.url + "/api/v1/query", params=query) as via_proxy:
            proxied = orjson.loads(await via_proxy.read())
        async with session.get(fault_prometheus.url + "/api/v1/query", params=query) as direct:
            original = orjson.loads(await direct.read())
    assert proxied["data"]["result"][0]["value"][1] == original["data"]["result"][0]["value"][1]


async def test_resize_while_a_panel_is_stale(proxy: FaultyProxy, cluster_kubeconfig: Path, clean: None) -> None:
    """Down to 40x12 and back with a failing feed: no crash, every line fits, the staleness stays visible."""
    app = make_app(proxy.url, cluster_kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: working(app, PANELS), what="data")
        proxy.set(PromFault(M.PLAIN_503, r"etcd_(disk|mvcc|server|debugging|network)"))
        await wait_for(pilot, lambda: panel(app, "etcd").status.state is FeedState.STALE, what="stale etcd")
        for size in ((40, 12), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.3)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1] and all(len(line) <= size[0] for line in lines)
            crash_free(app)
        assert "◐ STALE data " in panel(app, "etcd").render().plain
        assert "STALE" in screen_text(app)
