"""The kube-API test server against real kubectl and a raw HTTP client.

Expected values come from kubeapi/scenario.py (the small cluster) and from what each test
mutates; the subprocess timeouts only stop a broken server from hanging the run.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from kubeapi import Cluster, Fault, ThreadedKubeApiServer
from kubeapi.scenario import CONTROL_PLANE, CRASHLOOP_PODS, CRASHLOOP_RESTARTS, PENDING_POD, WORKERS
from kubeapi.selectors import Selector
from kubeapi.tls import serving_cert

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
REPO = Path(__file__).resolve().parent.parent


def kubectl(kubeconfig: Path, *args: str) -> str:
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def all_pods(cluster: Cluster) -> list[dict]:
    return [obj for _, obj in cluster.stores["pods"].scan(Selector())]


def client(server: ThreadedKubeApiServer, token: str | None = None) -> aiohttp.ClientSession:
    ctx = ssl.create_default_context(cadata=serving_cert().ca_pem.decode())
    return aiohttp.ClientSession(
        base_url=server.url,
        connector=aiohttp.TCPConnector(ssl=ctx),
        headers={"Authorization": f"Bearer {token or server.token}"},
    )


def wait_for(check: Callable[[], bool], what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


# --- kubectl ----------------------------------------------------------------------------


@needs_kubectl
def test_kubectl_get_nodes_lists_the_scenario_nodes(kubeconfig_path: Path) -> None:
    out = kubectl(kubeconfig_path, "get", "nodes", "--no-headers")
    assert [line.split()[0] for line in out.splitlines()] == list(CONTROL_PLANE + WORKERS)


@needs_kubectl
def test_kubectl_get_pods_all_namespaces(kube_api: ThreadedKubeApiServer, kubeconfig_path: Path) -> None:
    out = kubectl(kubeconfig_path, "get", "pods", "-A", "--no-headers")
    rows = {tuple(line.split()[:2]) for line in out.splitlines()}
    expected = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in all_pods(kube_api.cluster)}
    assert len(expected) == 32 and rows == expected
    assert ("shop", CRASHLOOP_PODS[0]) in rows and PENDING_POD in rows


@needs_kubectl
def test_kubectl_json_output_equals_the_model(kube_api: ThreadedKubeApiServer, kubeconfig_path: Path) -> None:
    served = orjson.loads(kubectl(kubeconfig_path, "get", "pods", "-A", "-o", "json", "--show-managed-fields"))["items"]
    assert served == all_pods(kube_api.cluster)
    checkout = next(p for p in served if p["metadata"]["name"] == CRASHLOOP_PODS[1])
    status = checkout["status"]["containerStatuses"][0]
    assert status["restartCount"] == CRASHLOOP_RESTARTS[1]
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"]["terminated"] == {
        **status["lastState"]["terminated"],
        "reason": "OOMKilled",
        "exitCode": 137,
    }
    assert checkout["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"


@needs_kubectl
def test_kubectl_chunked_list_pages_through_continue_tokens(
    kube_api: ThreadedKubeApiServer, kubeconfig_path: Path
) -> None:
    out = kubectl(kubeconfig_path, "get", "pods", "-A", "--chunk-size=5", "--no-headers")
    assert len(out.splitlines()) == 32
    pages = [r.query for r in kube_api.requests if r.verb == "list" and r.path == "/api/v1/pods"]
    assert [q["limit"] for q in pages] == ["5"] * 7  # 32 pods in pages of 5
    assert "continue" not in pages[0] and all("continue" in q for q in pages[1:])


@needs_kubectl
def test_kubectl_watch_sees_a_new_pod_and_a_restart(kube_api: ThreadedKubeApiServer, kubeconfig_path: Path) -> None:
    assert KUBECTL is not None
    proc = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(kubeconfig_path),
            "get",
            "pods",
            "-n",
            "shop",
            "-w",
            "-o",
            'jsonpath={.metadata.name} {.status.containerStatuses[0].restartCount}{"\\n"}',
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: f"{CRASHLOOP_PODS[2]} {CRASHLOOP_RESTARTS[2]}\n" in lines, "initial list")
        wait_for(lambda: any(r.verb == "watch" for r in kube_api.requests), "kubectl watch request")
        kube_api.cluster.bump_restarts("shop", CRASHLOOP_PODS[2])
        wait_for(lambda: f"{CRASHLOOP_PODS[2]} {CRASHLOOP_RESTARTS[2] + 1}\n" in lines, "the restart")
        pod = kube_api.cluster.get("pods", "shop", CRASHLOOP_PODS[0])
        assert pod is not None
        pod["metadata"]["name"] = "checkout-6d9f7b8c4-zzzzz"
        kube_api.cluster.add("pods", pod)
        wait_for(lambda: f"checkout-6d9f7b8c4-zzzzz {CRASHLOOP_RESTARTS[0]}\n" in lines, "the new pod")
    finally:
        proc.kill()
        proc.wait(10)
    watch = next(r for r in kube_api.requests if r.verb == "watch")
    assert watch.path == "/api/v1/namespaces/shop/pods" and watch.query["resourceVersion"] == "56"


@needs_kubectl
def test_kubectl_top_reads_metrics_api(kube_api: ThreadedKubeApiServer, kubeconfig_path: Path) -> None:
    kube_api.server.usage.set("nodes", "", "worker-2", 1500, 4 * 1024 * 1024)
    rows = {
        line.split()[0]: line.split()[1:]
        for line in kubectl(kubeconfig_path, "top", "nodes", "--no-headers").splitlines()
    }
    assert set(rows) == set(CONTROL_PLANE + WORKERS)
    assert rows["worker-2"][0] == "1500m" and rows["worker-2"][2] == "4096Mi"


@needs_kubectl
def test_standalone_server_with_generated_cluster(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kubeapi", "--nodes", "12", "--pods", "300", "--kubeconfig", str(kubeconfig)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("serving https://")
        nodes = kubectl(kubeconfig, "get", "nodes", "--no-headers").splitlines()
        assert [n.split()[0] for n in nodes] == [f"node-{i:05d}" for i in range(12)]
        assert len(kubectl(kubeconfig, "get", "pods", "-A", "--no-headers", "--chunk-size=50").splitlines()) == 300
    finally:
        proc.terminate()
        proc.wait(10)


# --- raw protocol -----------------------------------------------------------------------


async def test_wrong_token_gets_401_status(kube_api: ThreadedKubeApiServer) -> None:
    async with client(kube_api, token="stale") as http:
        resp = await http.get("/api/v1/pods")
        body = await resp.json()
    assert resp.status == 401 and body["reason"] == "Unauthorized" and body["kind"] == "Status"


async def test_selectors_filter_lists(kube_api: ThreadedKubeApiServer) -> None:
    async with client(kube_api) as http:

        async def names(path: str, **params: str) -> list[str]:
            resp = await http.get(path, params=params)
            assert resp.status == 200
            return [i["metadata"]["name"] for i in (await resp.json())["items"]]

        on_worker1 = await names("/api/v1/pods", fieldSelector="spec.nodeName=worker-1")
        assert CRASHLOOP_PODS[0] in on_worker1 and all(
            kube_api.cluster.get("pods", p["metadata"]["namespace"], p["metadata"]["name"])["spec"]["nodeName"]
            == "worker-1"  # type: ignore[index]
            for p in all_pods(kube_api.cluster)
            if p["metadata"]["name"] in on_worker1
        )
        assert sorted(await names("/api/v1/pods", labelSelector="app=checkout")) == sorted(CRASHLOOP_PODS)
        assert await names("/api/v1/namespaces/batch/pods") == [PENDING_POD[1]]
        assert await names("/api/v1/pods", fieldSelector="status.phase=Pending") == [PENDING_POD[1]]
        warnings = await names("/api/v1/events", fieldSelector="type=Warning")
        assert len(warnings) == 4  # 3 BackOff + 1 FailedScheduling
        about = await names(
            "/api/v1/namespaces/shop/events", fieldSelector=f"involvedObject.name={CRASHLOOP_PODS[0]},type=Warning"
        )
        assert len(about) == 1 and about[0].startswith(CRASHLOOP_PODS[0])
        assert await names("/api/v1/pods", labelSelector="app in (frontend,coredns),app!=coredns") == [
            "frontend-7c9d8f6b5-a1b2c",
            "frontend-7c9d8f6b5-d3e4f",
            "frontend-7c9d8f6b5-g5h6j",
        ]
        bad = await http.get("/api/v1/pods", params={"fieldSelector": "spec.bogus=1"})
        assert bad.status == 400 and (await bad.json())["message"] == "field label not supported: spec.bogus"
        missing = await http.get("/api/v1/namespaces/shop/pods/nope")
        assert missing.status == 404 and (await missing.json())["details"] == {"name": "nope", "kind": "pods"}


async def test_expired_continue_token_is_410(kube_api: ThreadedKubeApiServer) -> None:
    async with client(kube_api) as http:
        first = await (await http.get("/api/v1/pods", params={"limit": "10"})).json()
        token = first["metadata"]["continue"]
        second = await (await http.get("/api/v1/pods", params={"limit": "10", "continue": token})).json()
        assert [i["metadata"]["name"] for i in second["items"]] == [
            p["metadata"]["name"] for p in all_pods(kube_api.cluster)[10:20]
        ]
        kube_api.cluster.bump_restarts("shop", CRASHLOOP_PODS[0])
        kube_api.cluster.compact()
        resp = await http.get("/api/v1/pods", params={"limit": "10", "continue": token})
        body = await resp.json()
    assert resp.status == 410 and body["reason"] == "Expired" and body["code"] == 410


async def watch_lines(http: aiohttp.ClientSession, path: str, count: int, **params: str) -> list[dict]:
    events: list[dict] = []
    async with http.get(path, params={"watch": "1", **params}) as resp:
        assert resp.status == 200
        async for line in resp.content:
            events.append(orjson.loads(line))
            if len(events) == count:
                break
    return events


async def test_watch_replays_history_and_streams_changes(kube_api: ThreadedKubeApiServer) -> None:
    cluster = kube_api.cluster
    start = cluster.resource_version
    cluster.bump_restarts("shop", CRASHLOOP_PODS[0])
    cluster.set_node_condition("worker-1", "DiskPressure", "True", "KubeletHasDiskPressure")  # not a pod: filtered out
    async with client(kube_api) as http:
        replay = await watch_lines(http, "/api/v1/namespaces/shop/pods", 1, resourceVersion=str(start))
        assert replay[0]["type"] == "MODIFIED"
        assert replay[0]["object"]["status"]["containerStatuses"][0]["restartCount"] == CRASHLOOP_RESTARTS[0] + 1
        assert replay[0]["object"]["metadata"]["resourceVersion"] == str(start + 1)
        nodes = await watch_lines(http, "/api/v1/nodes", 1, resourceVersion=str(start))
        pressure = next(c for c in nodes[0]["object"]["status"]["conditions"] if c["type"] == "DiskPressure")
        assert pressure["status"] == "True" and nodes[0]["object"]["metadata"]["name"] == "worker-1"
        async with http.get(
            "/api/v1/pods",
            params={"watch": "true", "resourceVersion": str(cluster.resource_version), "allowWatchBookmarks": "true"},
        ) as resp:
            cluster.delete("pods", *PENDING_POD)
            seen = [orjson.loads(await resp.content.readline()) for _ in range(2)]
    deleted = next(e for e in seen if e["type"] != "BOOKMARK")
    assert deleted["type"] == "DELETED" and deleted["object"]["metadata"]["name"] == PENDING_POD[1]
    assert cluster.get("pods", *PENDING_POD) is None


async def test_watch_sends_bookmarks_and_ends_at_timeout(kube_api: ThreadedKubeApiServer) -> None:
    rv = str(kube_api.cluster.resource_version)
    async with (
        client(kube_api) as http,
        http.get(
            "/api/v1/pods",
            params={"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "2"},
        ) as resp,
    ):
        events = [orjson.loads(line) async for line in resp.content]
    assert events and all(e["type"] == "BOOKMARK" for e in events)
    assert events[0]["object"] == {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": rv}}


async def test_watch_from_compacted_resource_version_gets_410_error_event(kube_api: ThreadedKubeApiServer) -> None:
    old = kube_api.cluster.resource_version
    kube_api.cluster.bump_restarts("shop", CRASHLOOP_PODS[1])
    kube_api.cluster.compact()
    async with client(kube_api) as http:
        async with http.get("/api/v1/pods", params={"watch": "1", "resourceVersion": str(old)}) as resp:
            assert resp.status == 200
            events = [orjson.loads(line) async for line in resp.content]
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"


async def test_watch_without_resource_version_starts_with_current_state(kube_api: ThreadedKubeApiServer) -> None:
    async with client(kube_api) as http:
        events = await watch_lines(http, "/api/v1/namespaces/shop/pods", 6, labelSelector="app")
    assert {e["type"] for e in events} == {"ADDED"}
    assert {e["object"]["metadata"]["name"] for e in events} >= set(CRASHLOOP_PODS)


async def test_injected_statuses(kube_api: ThreadedKubeApiServer) -> None:
    kube_api.inject(Fault(r"^/api/v1/nodes", status=403))
    kube_api.inject(Fault(r"^/api/v1/events", status=429, retry_after=3, times=1))
    kube_api.inject(Fault(r"^/api/v1/services", status=500, times=2))
    async with client(kube_api) as http:
        forbidden = await http.get("/api/v1/nodes")
        body = await forbidden.json()
        assert forbidden.status == 403 and body["reason"] == "Forbidden"
        assert body["message"] == (
            'nodes is forbidden: User "system:serviceaccount:monitoring:k8stop" cannot list '
            'resource "nodes" in API group "" at the cluster scope'
        )
        limited = await http.get("/api/v1/events")
        assert limited.status == 429 and limited.headers["Retry-After"] == "3"
        assert (await limited.json())["details"] == {"retryAfterSeconds": 3}
        assert (await http.get("/api/v1/events")).status == 200  # times=1 used up
        assert [(await http.get("/api/v1/services")).status for _ in range(3)] == [500, 500, 200]
        assert (await http.get("/api/v1/namespaces/shop/pods")).status == 200
        kube_api.clear_faults()
        assert (await http.get("/api/v1/nodes")).status == 200


async def test_forbid_all_namespaces_but_one(kube_api: ThreadedKubeApiServer) -> None:
    kube_api.inject(Fault(r"^/api/v1/(pods|namespaces/(?!shop/))", status=403))
    async with client(kube_api) as http:
        cluster_wide = await http.get("/api/v1/pods")
        other = await http.get("/api/v1/namespaces/default/pods")
        shop = await http.get("/api/v1/namespaces/shop/pods")
        assert cluster_wide.status == 403 and other.status == 403 and shop.status == 200
        assert 'in the namespace "default"' in (await other.json())["message"]
        assert len((await shop.json())["items"]) == 6


async def test_slow_response_and_connection_reset(kube_api: ThreadedKubeApiServer) -> None:
    kube_api.inject(Fault(r"^/api/v1/nodes$", delay=30.0, times=1))
    kube_api.inject(Fault(r"^/api/v1/pods$", reset_connection=True))  # until cleared: aiohttp retries a GET once
    async with client(kube_api) as http:
        with pytest.raises(TimeoutError):
            await http.get("/api/v1/nodes", timeout=aiohttp.ClientTimeout(total=0.3))
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get("/api/v1/pods")
        kube_api.clear_faults()
        assert (await http.get("/api/v1/pods")).status == 200


async def test_watch_cut_mid_event(kube_api: ThreadedKubeApiServer) -> None:
    kube_api.inject(Fault(r"/pods$", cut_watch_after_events=2, verbs=frozenset({"watch"})))
    async with client(kube_api) as http, http.get("/api/v1/namespaces/shop/pods", params={"watch": "1"}) as resp:
        raw = b""
        with pytest.raises(aiohttp.ClientPayloadError):
            async for chunk in resp.content.iter_any():
                raw += chunk
    lines = raw.split(b"\n")
    assert [orjson.loads(x)["type"] for x in lines[:2]] == ["ADDED", "ADDED"]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(lines[2])  # half a line, then the connection closed
    assert lines[2]


@pytest.mark.sends_writes
async def test_request_log_records_verbs_and_refuses_writes(kube_api: ThreadedKubeApiServer) -> None:
    async with client(kube_api) as http:
        await http.get("/api/v1/namespaces/shop/pods")
        await http.get(f"/api/v1/namespaces/shop/pods/{CRASHLOOP_PODS[0]}")
        created = await http.post("/api/v1/namespaces/shop/pods", data=b"{}")
        deleted = await http.delete(f"/api/v1/namespaces/shop/pods/{CRASHLOOP_PODS[0]}")
        patched = await http.patch("/api/v1/nodes/worker-1", data=b"{}")
    assert created.status == deleted.status == patched.status == 405
    assert kube_api.verbs() == {"list", "get", "create", "delete", "patch"}
    assert [(r.verb, r.resource, r.namespace) for r in kube_api.requests][-3:] == [
        ("create", "pods", "shop"),
        ("delete", "pods", "shop"),
        ("patch", "nodes", None),
    ]
    assert kube_api.cluster.get("pods", "shop", CRASHLOOP_PODS[0]) is not None


@pytest.fixture
def echo_backend() -> Iterator[str]:
    """A dummy HTTP backend that echoes what it received."""

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": (await request.read()).decode(),
            }
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(runner.setup(), loop).result(10)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    asyncio.run_coroutine_threadsafe(site.start(), loop).result(10)
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.mark.sends_writes  # a POST through the proxy is a create, as RBAC sees it
async def test_service_proxy_forwards_get_and_post(kube_api: ThreadedKubeApiServer, echo_backend: str) -> None:
    kube_api.register_service_backend("monitoring", "prometheus-k8s", echo_backend)
    base = "/api/v1/namespaces/monitoring/services"
    async with client(kube_api) as http:
        for spec in ("prometheus-k8s:9090", "http:prometheus-k8s:9090", "prometheus-k8s"):
            resp = await http.get(f"{base}/{spec}/proxy/api/v1/query", params={"query": 'up{job="x"}', "time": "1"})
            assert resp.status == 200
            assert await resp.json() == {
                "method": "GET",
                "path": "/api/v1/query",
                "query": {"query": 'up{job="x"}', "time": "1"},
                "body": "",
            }
        posted = await http.post(
            f"{base}/prometheus-k8s:9090/proxy/api/v1/query_range", data={"query": "rate(x[5m])", "step": "15"}
        )
        assert await posted.json() == {
            "method": "POST",
            "path": "/api/v1/query_range",
            "query": {},
            "body": "query=rate%28x%5B5m%5D%29&step=15",
        }
        unknown = await http.get("/api/v1/namespaces/monitoring/services/nope:9090/proxy/api/v1/query")
        no_backend = await http.get("/api/v1/namespaces/kube-system/services/kube-dns:53/proxy/")
    assert unknown.status == 404 and no_backend.status == 503
    assert [r.verb for r in kube_api.requests if "/proxy/" in r.path][:4] == ["get", "get", "get", "create"]


async def test_metrics_api(kube_api: ThreadedKubeApiServer) -> None:
    kube_api.server.usage.set("pods", "shop", CRASHLOOP_PODS[0], 250, 100 * 1024)
    async with client(kube_api) as http:
        nodes = await (await http.get("/apis/metrics.k8s.io/v1beta1/nodes")).json()
        pods = await (await http.get("/apis/metrics.k8s.io/v1beta1/pods")).json()
        one = await (await http.get(f"/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/{CRASHLOOP_PODS[0]}")).json()
        pending = await http.get(f"/apis/metrics.k8s.io/v1beta1/namespaces/{PENDING_POD[0]}/pods/{PENDING_POD[1]}")
    assert nodes["kind"] == "NodeMetricsList" and len(nodes["items"]) == 6
    assert len(pods["items"]) == 31  # the Pending pod has no metrics
    assert one["kind"] == "PodMetrics" and one["containers"] == [
        {"name": "checkout", "usage": {"cpu": "250m", "memory": "102400Ki"}}
    ]
    assert pending.status == 404


# --- generated clusters -----------------------------------------------------------------


def test_generated_cluster_is_lazy_and_consistent() -> None:
    cluster = Cluster.generate(nodes=40, pods=2000, seed=5)
    pods = all_pods(cluster)
    assert len(pods) == 2000 and cluster.overrides() < 50  # only namespaces and one service are explicit
    names = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods}
    assert len(names) == 2000
    sample = pods[1234]
    assert cluster.get("pods", sample["metadata"]["namespace"], sample["metadata"]["name"]) == sample
    node_names = {n["metadata"]["name"] for _, n in cluster.stores["nodes"].scan(Selector())}
    assert all(p["spec"].get("nodeName") in node_names for p in pods if p["status"]["phase"] == "Running")
    crashing = [
        p
        for p in pods
        if any(
            s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff"
            for s in p["status"].get("containerStatuses", [])
        )
    ]
    assert crashing and all(
        p["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 137 for p in crashing
    )
    again = Cluster.generate(nodes=40, pods=2000, seed=5)
    assert all_pods(again)[1234] == sample  # deterministic per seed
    ns, name = sample["metadata"]["namespace"], sample["metadata"]["name"]
    cluster.delete("pods", ns, name)
    assert cluster.get("pods", ns, name) is None and len(all_pods(cluster)) == 1999


async def test_generated_cluster_paginates_and_churns() -> None:
    with ThreadedKubeApiServer(Cluster.generate(nodes=20, pods=700, seed=2), churn=50.0) as server:
        async with client(server) as http:
            rv = (await (await http.get("/api/v1/pods", params={"limit": "1", "resourceVersion": "0"})).json())[
                "metadata"
            ]["resourceVersion"]
            events = await watch_lines(http, "/api/v1/pods", 5, resourceVersion=rv)
            seen, token = 0, ""
            while True:
                params = {"limit": "250", **({"continue": token} if token else {})}
                page = await (await http.get("/api/v1/pods", params=params)).json()
                seen += len(page["items"])
                token = page["metadata"].get("continue", "")
                if not token:
                    break
    assert {e["type"] for e in events} <= {"ADDED", "MODIFIED", "DELETED"}
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)
    assert 690 <= seen <= 710  # churn deletes and re-adds pods while we page


async def test_traffic_counts_each_clients_requests_and_bytes(kube_api: ThreadedKubeApiServer) -> None:
    """/_test/traffic (the bench's API-cost rows): requests on arrival, a list's body bytes,
    and an open watch's bytes so far, per client product, verb and resource."""

    async def traffic(http: aiohttp.ClientSession) -> dict[tuple[str, str, str], tuple[int, int]]:
        async with http.get("/_test/traffic") as resp:
            return {(c, v, r): (n, size) for c, v, r, n, size in await resp.json()}

    async with client(kube_api) as http:
        async with http.get("/api/v1/pods", headers={"User-Agent": "probe/1.0 (linux)"}) as resp:
            body = await resp.read()
        assert (await traffic(http))[("probe", "list", "pods")] == (1, len(body))
        start = str(kube_api.cluster.resource_version)
        params = {"watch": "true", "resourceVersion": start}
        async with http.get("/api/v1/pods", params=params, headers={"User-Agent": "probe/1.0"}) as resp:
            kube_api.cluster.bump_restarts("shop", CRASHLOOP_PODS[0])
            line = await resp.content.readline()
            open_watch = (await traffic(http))[("probe", "watch", "pods")]
        assert open_watch[0] == 1 and open_watch[1] >= len(line)


async def test_watch_keeps_streaming_when_events_arrive_as_a_bookmark_falls_due() -> None:
    """With events queued at the moment a bookmark is due, the watch used to wait with a zero
    timeout, cancel its read before it ran, and spin: silent for good. Frequent bookmarks and
    fast churn make that moment common; events must keep coming to the end."""
    with ThreadedKubeApiServer(Cluster.generate(nodes=3, pods=60), churn=200.0, bookmark_interval=0.02) as server:
        async with client(server) as http:
            params = {
                "watch": "true",
                "allowWatchBookmarks": "true",
                "resourceVersion": str(server.cluster.resource_version),
            }
            async with http.get("/api/v1/pods", params=params) as resp:
                started = time.monotonic()
                late = 0
                while (elapsed := time.monotonic() - started) < 4.0:
                    line = await asyncio.wait_for(resp.content.readline(), 5.0)
                    if orjson.loads(line)["type"] != "BOOKMARK" and elapsed > 3.0:
                        late += 1
    assert late > 20, f"only {late} events in the watch's last second at 200 events/s"
