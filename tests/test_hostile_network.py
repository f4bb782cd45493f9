"""Hostile servers (issue 20, items 3-7 and 9): a kube API and a Prometheus that redirect,
inflate gzip bombs, stream endless lines, loop on 410 Gone, hand out the same continue token
forever, answer Retry-After: 0, carry malformed pods, or host a tenant's look-alike
Prometheus. k8stop stays up, bounded in requests and memory, sends no credential anywhere
it was not pointed at, and says what is wrong.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from faulty_proxy import Fault as PromFault
from faulty_proxy import FaultyProxy
from faulty_proxy import Misbehaviour as M
from k8stop.queries.config import PrometheusAuth, Settings, load_config_file
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.sources import open_sources
from k8stop.queries.http_limits import MIB, HttpLimits
from k8stop.queries.kube.connection import connect
from k8stop.queries.kube.errors import KubeApiError
from k8stop.queries.kube.feed import KubeFeed
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.status import FeedState
from k8stop.queries.prom.client import PromClient
from k8stop.tui.app import K8sTopApp
from k8stop.tui.cli import build_parser, settings_from_args
from kubeapi import Fault, ThreadedKubeApiServer
from kubeapi.scenario import WORKERS
from screen import screen_text, wait_for

SECRETS = "/api/v1/namespaces/kube-system/secrets"
USER_AGENT = f"k8stop/{version('k8stop')}"
PODS = 32  # Cluster.small()
RSS_LIMIT_MIB = 300  # the process without any body held is ~100 MiB; the bombs expand to 2 GiB


# --- helpers ---------------------------------------------------------------------------------


class Recorder:
    """A server on another loopback address (127.0.0.2: another host to the client) that
    logs every request it gets; a redirect target that must see nothing."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        return web.Response(text="stolen", content_type="application/json")


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.2", 0)
    await site.start()
    rec.url = f"http://127.0.0.2:{runner.addresses[0][1]}"
    yield rec
    await runner.cleanup()


@pytest.fixture
def proxy(prometheus: Any) -> Any:
    with FaultyProxy(prometheus.url) as running:
        yield running


def k8stop_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "K8STOP_PROMETHEUS_URL")}
    env["HOME"] = str(home)
    return env


def run_measured(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 90) -> tuple[int, str, str, float]:
    """Run a child to the end; its exit code, stdout, stderr and peak RSS in MiB (wait4 gives
    the rusage of that one child, not of every child this test process ever had)."""
    out, err = cwd / "child.out", cwd / "child.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out.read_text(), err.read_text(), usage.ru_maxrss / 1024


def write_config(path: Path, **values: float) -> Path:
    path.write_text("".join(f"{key}: {value}\n" for key, value in values.items()))
    return path


async def new_feed(kubeconfig: Path, **options: Any) -> KubeFeed:
    connection = await connect(str(kubeconfig), environ={})
    feed = KubeFeed(connection, **options)
    feed.start()
    return feed


async def close_feed(feed: KubeFeed) -> None:
    await feed.stop()
    await feed.connection.close()


async def eventually(check: Any, what: str, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


# --- redirects and User-Agent ------------------------------------------------------------------


async def test_prometheus_redirect_to_another_host_is_not_followed(
    proxy: FaultyProxy, recorder: Recorder, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("canary-bearer-7f3a")
    auth = PrometheusAuth(bearer_token_file=str(token), headers=(("X-Scope-OrgID", "tenant-canary"),))
    proxy.set(PromFault(M.REDIRECT, location=f"{recorder.url}/api/v1/query?query=up"))
    async with PromClient(proxy.url, auth) as client:
        with pytest.raises(FeedError) as caught:
            await client.query("up")
        message = str(caught.value)
        assert "redirect (HTTP 302, Location host 127.0.0.2)" in message and "not followed" in message
        assert "canary" not in message
        assert recorder.seen == []  # neither the token nor the tenant header went to the other host
        sent = proxy.seen_headers[-1]  # they did go where k8stop was pointed
        assert sent["Authorization"] == "Bearer canary-bearer-7f3a" and sent["X-Scope-OrgID"] == "tenant-canary"
        assert sent["User-Agent"] == USER_AGENT
        # A same-host redirect is not followed either: exactly one request per query
        proxy.set(PromFault(M.REDIRECT, location="/api/v1/query?query=up"))
        before = proxy.requests
        with pytest.raises(FeedError, match=r"Location path /api/v1/query\b"):
            await client.query("up")
        assert proxy.requests == before + 1
        proxy.clear()
        vector = await client.query("vector(7)")
        assert vector.samples[0][1].number == 7.0


async def test_service_proxy_redirect_to_secrets_is_not_followed(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, proxy: FaultyProxy
) -> None:
    """Discovered Prometheus behind the API server's service proxy answers 302 to the secrets
    path: k8stop must not GET it with the user's token."""
    kube_api.register_service_backend("monitoring", "prometheus-k8s", proxy.url)
    sources = await open_sources(Settings(kubeconfig=str(kubeconfig_path)))
    try:
        assert sources.prom_client is not None, sources.prometheus_error
        vector = await sources.prom_client.query("vector(3)")  # the path works without the fault
        assert vector.samples[0][1].number == 3.0
        proxy.set(PromFault(M.REDIRECT, location=SECRETS))
        with pytest.raises(FeedError, match=rf"redirect \(HTTP 302, Location path {SECRETS}\): not followed"):
            await sources.prom_client.query("up")
    finally:
        await sources.close()
    assert not [r for r in kube_api.requests if "secrets" in r.path]
    assert {r.user_agent for r in kube_api.requests} == {USER_AGENT}


async def test_kube_redirects_are_not_followed(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, recorder: Recorder
) -> None:
    connection = await connect(str(kubeconfig_path), environ={})
    try:
        kube_api.inject(Fault(r"^/api/v1/nodes$", status=302, headers={"Location": SECRETS}, body=b""))
        with pytest.raises(KubeApiError, match=rf"redirect \(HTTP 302, Location path {SECRETS}\)"):
            await connection.get_json("/api/v1/nodes", what="list nodes")
        kube_api.clear_faults()
        kube_api.inject(Fault(r"^/api/v1/pods$", status=307, headers={"Location": f"{recorder.url}/x"}, body=b""))
        with pytest.raises(KubeApiError, match=r"Location host 127\.0\.0\.2"):
            await connection.get_json("/api/v1/pods", what="list pods")
    finally:
        await connection.close()
    assert not [r for r in kube_api.requests if "secrets" in r.path]
    assert recorder.seen == []
    assert {r.user_agent for r in kube_api.requests} == {USER_AGENT}


# --- retry storms --------------------------------------------------------------------------------


async def test_a_410_loop_backs_off_and_the_panels_do_not_say_live(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path
) -> None:
    """Every watch answered with a 410 ERROR event for 20 s: a few dozen requests, not thousands,
    and the kube panels say STALE with the reason while it lasts."""
    kube_api.inject(Fault(r"^/api/v1/", watch_error=410, verbs=frozenset({"watch"})))
    settings = Settings(kubeconfig=str(kubeconfig_path), use_prometheus=False, refresh=0.5)
    app = K8sTopApp(settings, LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        start = time.monotonic()
        panels = app.dashboard.panels()
        await wait_for(
            pilot,
            lambda: all("410 Gone" in panels[f].status.reason for f in ("nodes", "restarts")),
            what="the loop shown",
        )
        while time.monotonic() - start < 20:
            await pilot.pause(0.5)
            for feed in ("nodes", "restarts"):
                assert panels[feed].status.state is not FeedState.OK, f"{feed} said live while looping"
        assert app.is_running
        text = screen_text(app)
        assert "STALE" in text and "410 Gone" in text
        assert "Traceback" not in text
    cycles = [r for r in kube_api.requests if r.verb in ("list", "watch")]
    # Three resources, each backing off 1, 2, 4, 8 s (jittered down by up to a quarter): about 6 cycles of
    # list + watch each in 20 s. The issue measured ~14,000 requests in 20 s before.
    assert len(cycles) <= 60, f"{len(cycles)} list/watch requests in 20 s"
    print(f"410 loop: {len(cycles)} list/watch requests in 20 s")
    assert len([r for r in cycles if r.verb == "watch"]) >= 6  # it kept trying, slowly


async def test_retry_after_zero_is_clamped(kube_api: ThreadedKubeApiServer, kubeconfig_path: Path) -> None:
    kube_api.inject(Fault(r"^/api/v1/pods$", status=429, retry_after=0, verbs=frozenset({"list"})))
    feed = await new_feed(kubeconfig_path)
    try:
        await asyncio.sleep(5)
        lists = [r for r in kube_api.requests if r.verb == "list" and r.resource == "pods"]
        # At least 1 s apart (then growing): at most 5 in 5 s, not a tight loop
        assert 2 <= len(lists) <= 5, len(lists)
        assert "throttled" in feed.statuses()["pods"].reason
    finally:
        await close_feed(feed)


async def test_a_server_ending_every_watch_at_once_is_not_hammered(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path
) -> None:
    kube_api.inject(Fault(r"^/api/v1/pods$", status=200, body=b"", verbs=frozenset({"watch"})))
    feed = await new_feed(kubeconfig_path)
    try:
        await asyncio.sleep(6)
        watches = [r for r in kube_api.requests if r.verb == "watch" and r.resource == "pods"]
        assert 2 <= len(watches) <= 6, len(watches)  # backoff 1, 2, 4 s (jittered), not a tight loop
        status = feed.statuses()["pods"]
        assert status.state is FeedState.STALE
        assert status.reason.startswith("the server ends every watch at once (")
        assert status.reason.endswith(" in a row): retrying with backoff")
        assert feed.summary().pod_count == PODS  # the listed data stays
        kube_api.clear_faults()
        await eventually(lambda: feed.statuses()["pods"].state is FeedState.OK, "live again", limit=30)
    finally:
        await close_feed(feed)


async def test_an_endless_continue_token_stops_paging(kube_api: ThreadedKubeApiServer, kubeconfig_path: Path) -> None:
    kube_api.inject(Fault(r"^/api/v1/pods$", endless_continue=True, verbs=frozenset({"list"})))
    feed = await new_feed(kubeconfig_path, page_size=5)
    try:
        await eventually(lambda: feed.statuses()["pods"].state is FeedState.ERROR, "pods in error")
        reason = feed.statuses()["pods"].reason
        assert "the same continue token twice: stopped paging" in reason
        await asyncio.sleep(3)
        lists = [r for r in kube_api.requests if r.verb == "list" and r.resource == "pods"]
        assert len(lists) <= 8, len(lists)  # two pages per attempt, attempts 1 s, 2 s apart
        assert feed.statuses()["nodes"].state is FeedState.OK  # the other resources are unaffected
    finally:
        await close_feed(feed)


# --- unbounded memory ------------------------------------------------------------------------------


FEED_SCRIPT = """
import asyncio, sys
from pathlib import Path
import orjson
from k8stop.queries.config import load_config_file
from k8stop.queries.http_limits import limits_from
from k8stop.queries.kube.connection import connect
from k8stop.queries.kube.feed import KubeFeed

async def main():
    limits = limits_from(load_config_file(Path(sys.argv[2])))
    connection = await connect(sys.argv[1], environ={}, limits=limits)
    feed = KubeFeed(connection)
    feed.start()
    try:
        for _ in range(1200):
            status = feed.statuses()["pods"]
            # the nodes list runs beside the pods watch: wait for both, not whichever lands first
            if "cap" in status.reason and feed.nodes():
                break
            await asyncio.sleep(0.05)
        print(orjson.dumps({"state": status.state, "reason": status.reason, "nodes": len(feed.nodes())}).decode())
    finally:
        await feed.stop()
        await connection.close()

asyncio.run(main())
"""


@pytest.mark.parametrize("fault", ["gzip-bomb-list", "endless-watch-line"])
def test_kube_memory_stays_bounded(
    fault: str, kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, tmp_path: Path
) -> None:
    if fault == "gzip-bomb-list":
        kube_api.inject(Fault(r"^/api/v1/pods$", gzip_bomb=2 * 1024**3, verbs=frozenset({"list"})))
        expect = "larger than the 16 MiB cap: not read (raise max_response_mib in the config file"
    else:
        kube_api.inject(Fault(r"^/api/v1/pods$", endless_line=True, verbs=frozenset({"watch"})))
        expect = "event line is larger than the 4 MiB cap: not read (raise max_watch_line_mib in the config file"
    config = write_config(tmp_path / "config.yaml", max_response_mib=16, max_watch_line_mib=4)
    script = tmp_path / "feed.py"
    script.write_text(FEED_SCRIPT)
    code, out, err, rss = run_measured(
        [sys.executable, str(script), str(kubeconfig_path), str(config)], k8stop_env(tmp_path), tmp_path
    )
    assert code == 0, err
    result = orjson.loads(out)
    assert expect in result["reason"], result
    assert result["nodes"] == len(WORKERS) + 3  # nodes kept working: the cap hit only pods
    assert rss < RSS_LIMIT_MIB, f"peak RSS {rss:.0f} MiB"
    print(f"{fault}: peak RSS {rss:.0f} MiB")


def test_prometheus_gzip_bomb_is_capped(proxy: FaultyProxy, tmp_path: Path) -> None:
    proxy.set(PromFault(M.GZIP_BOMB))
    config = write_config(tmp_path / "config.yaml", max_response_mib=16)
    args = [sys.executable, "-m", "k8stop.tui.cli", "report", "--format", "json", "--no-kube"]
    args += ["--prometheus-url", proxy.url, "--config", str(config)]
    code, out, err, rss = run_measured(args, k8stop_env(tmp_path), tmp_path)
    assert code == 3, err  # nothing usable came back: the report says why
    detail = orjson.loads(out)["sources"]["prometheus"]["detail"]
    assert "larger than the 16 MiB cap: not read (raise max_response_mib in the config file" in detail
    assert proxy.faulted >= 1
    assert rss < RSS_LIMIT_MIB, f"peak RSS {rss:.0f} MiB"
    print(f"prometheus gzip bomb: peak RSS {rss:.0f} MiB")


def test_caps_are_configurable(tmp_path: Path) -> None:
    settings = load_config_file(write_config(tmp_path / "c.yaml", max_response_mib=64, max_watch_line_mib=2))
    from k8stop.queries.http_limits import limits_from

    assert limits_from(settings) == HttpLimits(64 * MIB, 2 * MIB)
    assert limits_from(Settings()) == HttpLimits(256 * MIB, 16 * MIB)


async def test_an_oversized_cached_list_falls_back_to_paging(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path
) -> None:
    """A resourceVersion=0 list served whole (older servers ignore limit there) that passes the
    cap is asked again page by page from etcd, at once: big clusters keep working under the cap."""
    kube_api.inject(Fault(r"^/api/v1/pods$", gzip_bomb=64 * MIB, times=1, verbs=frozenset({"list"})))
    connection = await connect(str(kubeconfig_path), environ={}, limits=HttpLimits(8 * MIB, 4 * MIB))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    feed = KubeFeed(connection, page_size=5, sleep=sleep)
    feed.start()
    try:
        await asyncio.wait_for(feed.wait_settled(), 10)
        assert feed.summary().pod_count == PODS
        assert feed.statuses()["pods"].state is FeedState.OK
        lists = [r.query for r in kube_api.requests if r.verb == "list" and r.resource == "pods"]
        assert lists[0]["resourceVersion"] == "0"
        assert "resourceVersion" not in lists[1] and "continue" not in lists[1]  # a consistent list, paged
        assert len(lists) == 1 + -(-PODS // 5)
        assert sleeps == []
    finally:
        await close_feed(feed)


# --- malformed objects ----------------------------------------------------------------------------


@pytest.fixture
def hostile_pods(kube_api: ThreadedKubeApiServer) -> list[dict[str, Any]]:
    """The pod list with three pods that do not parse added: restartCount "lots",
    containerStatuses "x", and one with no metadata."""
    pods = [obj for _, obj in kube_api.cluster.stores["pods"].scan(_everything())]
    lots = orjson.loads(orjson.dumps(pods[0]))
    lots["metadata"]["name"] = "hostile-lots"
    lots["status"]["containerStatuses"] = [{"name": "app", "restartCount": "lots"}]
    x = orjson.loads(orjson.dumps(pods[1]))
    x["metadata"]["name"] = "hostile-x"
    x["status"]["containerStatuses"] = "x"
    nameless = {"kind": "Pod", "spec": {}, "status": {}}
    body = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": str(kube_api.cluster.resource_version)},
        "items": [*pods, lots, x, nameless],
    }
    kube_api.inject(Fault(r"^/api/v1/pods$", status=200, body=body, verbs=frozenset({"list"})))
    return pods


def _everything() -> Any:
    from kubeapi.selectors import Selector

    return Selector()


async def test_malformed_pods_are_skipped_and_counted(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, hostile_pods: list[dict[str, Any]]
) -> None:
    feed = await new_feed(kubeconfig_path)
    try:
        await asyncio.wait_for(feed.wait_settled(), 10)
        assert feed.summary().pod_count == PODS
        status = feed.status()
        assert status.state is FeedState.OK
        assert "pods: 3 malformed objects skipped (not shown or counted)" in status.warnings
        assert feed.pod("shop", "hostile-lots") is None
        # A watch MODIFIED that turns a good pod bad drops it and counts it; a fix restores it
        name = hostile_pods[2]["metadata"]["name"]
        namespace = hostile_pods[2]["metadata"]["namespace"]
        bad = orjson.loads(orjson.dumps(hostile_pods[2]))
        bad["status"]["containerStatuses"] = [{"name": "app", "restartCount": {"no": 1}}]
        kube_api.cluster.replace("pods", bad)
        await eventually(lambda: feed.pod(namespace, name) is None, "the bad update dropped")
        assert "pods: 4 malformed objects skipped (not shown or counted)" in feed.status().warnings
        kube_api.cluster.replace("pods", hostile_pods[2])
        await eventually(lambda: feed.pod(namespace, name) is not None, "the fixed pod back")
        assert "pods: 3 malformed objects skipped (not shown or counted)" in feed.status().warnings
    finally:
        await close_feed(feed)


def test_malformed_pods_leave_the_report_exit_code_alone(
    kubeconfig_path: Path, hostile_pods: list[dict[str, Any]], tmp_path: Path
) -> None:
    args = [sys.executable, "-m", "k8stop.tui.cli", "report", "--format", "json", "--no-prometheus"]
    done = subprocess.run(
        [*args, "--kubeconfig", str(kubeconfig_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=k8stop_env(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    doc = orjson.loads(done.stdout)
    assert doc["sources"]["kube"]["status"] == "ok"


# --- secrets on the command line -------------------------------------------------------------------


def test_secret_looking_flags_warn_and_the_file_form_does_not(tmp_path: Path) -> None:
    secret = tmp_path / "api-key"
    secret.write_text("file-canary-91")
    args = [sys.executable, "-m", "k8stop.tui.cli", "report", "--no-kube", "--format", "json"]
    args += ["--prometheus-url", "http://user:pw-canary@127.0.0.1:1/?access_token=q-canary"]
    args += ["--prometheus-header", "X-Api-Key: hdr-canary", "--prometheus-header", "X-Scope-OrgID: tenant1"]
    args += ["--prometheus-header", f"X-Auth-Token: @{secret}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=k8stop_env(tmp_path), cwd=tmp_path)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("k8stop: warning:")]
    assert len(warnings) == 3, done.stderr
    assert "--prometheus-header X-Api-Key puts a secret on the command line" in warnings[0]
    assert "use 'X-Api-Key: @FILE' or prometheus.headers in the config file" in warnings[0]
    assert "--prometheus-url carries a password" in warnings[1]
    assert "--prometheus-url carries a token in its query" in warnings[2]
    assert "canary" not in done.stderr and "canary" not in done.stdout
    assert "X-Scope-OrgID" not in done.stderr and "X-Auth-Token" not in done.stderr
    missing = subprocess.run(
        [*args[:7], "--prometheus-url", "http://127.0.0.1:1", "--prometheus-header", "X-Token: @/nonexistent/k"],
        capture_output=True,
        text=True,
        timeout=60,
        env=k8stop_env(tmp_path),
        cwd=tmp_path,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == "k8stop: --prometheus-header X-Token: @/nonexistent/k: no such file"


async def test_header_value_from_a_file_is_read_on_every_request(proxy: FaultyProxy, tmp_path: Path) -> None:
    """'Name: @FILE' from the config file (the same works as a flag): read on every request."""
    secret = tmp_path / "org"
    secret.write_text("tenant-one\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"prometheus:\n  headers: {{X-Scope-OrgID: '@{secret}'}}\n")
    args = build_parser(None).parse_args(["--config", str(config), "--prometheus-url", proxy.url])
    settings = settings_from_args(args)
    assert settings.prometheus.headers == (("X-Scope-OrgID", f"@{secret}"),)
    async with PromClient.from_settings(settings) as client:
        await client.query("vector(1)")
        assert proxy.seen_headers[-1]["X-Scope-OrgID"] == "tenant-one"
        secret.write_text("tenant-two\n")  # rotated: no restart needed
        await client.query("vector(1)")
        assert proxy.seen_headers[-1]["X-Scope-OrgID"] == "tenant-two"
        secret.unlink()
        with pytest.raises(FeedError, match=r"cannot read --prometheus-header X-Scope-OrgID .*org"):
            await client.query("vector(1)")
        assert "tenant" not in str(client)


# --- discovery hijack -----------------------------------------------------------------------------


def tenant_lookalike(kube_api: ThreadedKubeApiServer) -> None:
    """A tenant's Service with the best-ranked name, next to the real Prometheus in monitoring."""
    real = kube_api.cluster.get("services", "monitoring", "prometheus-k8s")
    assert real is not None
    fake = orjson.loads(orjson.dumps(real))
    fake["metadata"] = {"namespace": "tenant-a", "name": "prometheus-operated", "uid": "tenant-a-fake"}
    kube_api.cluster.add("services", fake)


async def test_a_tenant_lookalike_does_not_hijack_discovery(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, proxy: FaultyProxy, recorder: Recorder
) -> None:
    tenant_lookalike(kube_api)
    kube_api.register_service_backend("monitoring", "prometheus-k8s", proxy.url)
    kube_api.register_service_backend("tenant-a", "prometheus-operated", recorder.url)
    sources = await open_sources(Settings(kubeconfig=str(kubeconfig_path)))
    try:
        assert sources.prom_client is not None, sources.prometheus_error
        await sources.prom_client.query("vector(1)")
        assert "/namespaces/monitoring/services/prometheus-k8s:" in sources.prom_client.url
        assert sources.prometheus_description == (
            "prometheus-k8s.monitoring via the API server's service proxy; chosen over "
            "prometheus-operated.tenant-a (monitoring namespaces first, then Service name) (discovered)"
        )
        assert sources.prometheus_label == "prometheus-k8s.monitoring via kube proxy (1 of 2)"
    finally:
        await sources.close()
    assert recorder.seen == []  # the tenant's service was never asked anything


async def test_the_header_names_the_chosen_prometheus(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, proxy: FaultyProxy
) -> None:
    tenant_lookalike(kube_api)
    kube_api.register_service_backend("monitoring", "prometheus-k8s", proxy.url)
    app = K8sTopApp(Settings(kubeconfig=str(kubeconfig_path), refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "prom prometheus-k8s.moni" in screen_text(app).splitlines()[0], what="header")
        assert "tenant" not in screen_text(app)
        # Wide enough for the whole label: it says a choice was made among two candidates
        await pilot.resize_terminal(160, 24)
        await wait_for(
            pilot,
            lambda: "prom prometheus-k8s.monitoring via kube proxy (1 of 2)" in screen_text(app).splitlines()[0],
            what="the whole label",
        )


async def test_a_prometheus_found_only_in_a_tenant_namespace_is_flagged_in_the_header(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path, proxy: FaultyProxy
) -> None:
    tenant_lookalike(kube_api)
    kube_api.cluster.delete("services", "monitoring", "prometheus-k8s")
    kube_api.register_service_backend("tenant-a", "prometheus-operated", proxy.url)
    app = K8sTopApp(Settings(kubeconfig=str(kubeconfig_path), refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "prom NOT-MONITORING-NS" in screen_text(app).splitlines()[0], what="flag")
        assert app.is_running
