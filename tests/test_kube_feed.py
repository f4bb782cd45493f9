"""KubeFeed and discovery against the project's kube-API test server (small cluster)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import yaml
from k8stop.queries.kube.connection import KubeConnection, connect
from k8stop.queries.kube.errors import KubeApiError
from k8stop.queries.kube.feed import PAGED, STREAMING, KubeFeed
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.status import FeedState
from k8stop.queries.model.values import ABSENT
from k8stop.queries.prom.discovery import discover_prometheus
from kubeapi.cluster import Cluster
from kubeapi.faults import Fault
from kubeapi.kubeconfig import write_kubeconfig
from kubeapi.scenario import CRASHLOOP_PODS, CRASHLOOP_RESTARTS, PENDING_POD, WORKERS
from kubeapi.server import KubeApiServer
from polling import eventually

TOKEN = "feed-test-token"
PODS, NODES = 32, 6  # what scenario.small_cluster_objects puts in
READ_ONLY = {"get", "list", "watch"}


@dataclass
class Rig:
    server: KubeApiServer
    connection: KubeConnection
    sleeps: list[float] = field(default_factory=list)
    feeds: list[KubeFeed] = field(default_factory=list)

    @property
    def cluster(self) -> Cluster:
        return self.server.cluster

    def feed(self, **options: object) -> KubeFeed:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)  # backoffs are recorded, waited only briefly
            await asyncio.sleep(min(seconds, 0.02))

        feed = KubeFeed(self.connection, sleep=sleep, **options)  # type: ignore[arg-type]
        feed.start()
        self.feeds.append(feed)
        return feed

    def requests(self, verb: str, resource: str, streaming: bool = False) -> list[dict[str, str]]:
        """Queries of `verb` on `resource`; watches are the plain ones, or with `streaming` the
        streaming-list attempts (sendInitialEvents) a feed makes first."""
        return [
            r.query
            for r in self.server.requests
            if r.verb == verb and r.resource == resource and ("sendInitialEvents" in r.query) == streaming
        ]


async def _rig(tmp_path: Path, token: str = TOKEN, **server_options: object) -> AsyncIterator[Rig]:
    server = KubeApiServer(Cluster.small(), token=TOKEN, **server_options)  # type: ignore[arg-type]
    url = await server.start()
    connection = await connect(
        kubeconfig=str(write_kubeconfig(tmp_path / "kubeconfig", url, token, namespace="shop")), environ={}
    )
    rig = Rig(server, connection)
    try:
        yield rig
    finally:
        for feed in rig.feeds:
            await feed.stop()
        await connection.close()
        await server.stop()
    # k8stop is read-only: whatever a test did, the server only saw reads
    assert server.verbs() <= READ_ONLY, server.verbs()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async for value in _rig(tmp_path, bookmark_interval=0.2):
        yield value


async def test_initial_list_pages_and_fills_the_summary(rig: Rig) -> None:
    feed = rig.feed(page_size=5)
    assert feed.summary().synced is False  # usable before the first answer
    await asyncio.wait_for(feed.wait_settled(), 10)
    summary = feed.summary()
    assert summary.synced
    assert (summary.node_count, summary.pod_count) == (NODES, PODS)
    assert dict(summary.pods_by_phase) == {"Running": PODS - 1, "Pending": 1}
    assert summary.not_ready_nodes == ()
    assert [(p.name, p.restarts) for p in summary.top_restarts[:3]] == sorted(
        zip(CRASHLOOP_PODS, CRASHLOOP_RESTARTS), key=lambda item: -item[1]
    )
    # Warning events only, newest first
    assert [e.reason for e in summary.recent_warnings] == ["FailedScheduling", "BackOff", "BackOff", "BackOff"]
    lists = rig.requests("list", "pods")
    assert all(q["limit"] == "5" for q in lists)
    assert lists[0]["resourceVersion"] == "0" and "continue" not in lists[0]
    assert len(lists) == -(-PODS // 5) and all("continue" in q and "resourceVersion" not in q for q in lists[1:])
    events = rig.requests("list", "events")
    assert events and all(q["fieldSelector"] == "type=Warning" for q in events)
    # drill-downs
    assert {p.name for p in feed.pods_of_owner("shop", "Deployment", "checkout")} == set(CRASHLOOP_PODS)
    assert {p.name for p in feed.pods_of_owner("shop", "ReplicaSet", "checkout-6d9f7b8c4")} == set(CRASHLOOP_PODS)
    assert CRASHLOOP_PODS[0] in {p.name for p in feed.pods_on_node(WORKERS[0])}
    assert [e.reason for e in feed.events_for("Pod", *PENDING_POD)] == ["FailedScheduling"]
    pod = feed.pod("shop", CRASHLOOP_PODS[1])
    assert pod is not None and pod.containers[0].waiting_reason == "CrashLoopBackOff"
    assert [n.name for n in feed.nodes()] == sorted(n.name for n in feed.nodes()) and len(feed.nodes()) == NODES
    assert feed.status().state is FeedState.OK
    assert await feed.version() == (await rig.connection.get_json("/version", what="get /version"))["gitVersion"]


async def test_watch_events_converge(rig: Rig) -> None:
    feed = rig.feed()
    await asyncio.wait_for(feed.wait_settled(), 10)
    template = rig.cluster.get("pods", "shop", CRASHLOOP_PODS[0])
    assert template is not None
    template["metadata"]["name"] = "checkout-6d9f7b8c4-new01"
    rig.cluster.add("pods", template)
    rig.cluster.delete("pods", *PENDING_POD)
    rig.cluster.bump_restarts("shop", CRASHLOOP_PODS[1])
    rig.cluster.set_node_condition("worker-2", "Ready", "Unknown", "NodeStatusUnknown")
    await eventually(lambda: feed.pod("shop", "checkout-6d9f7b8c4-new01") is not None, "added pod")
    await eventually(lambda: feed.pod(*PENDING_POD) is None, "deleted pod gone")
    await eventually(lambda: feed.summary().not_ready_nodes == ("worker-2",), "node not ready")
    await eventually(lambda: feed.summary().top_restarts[0].restarts == CRASHLOOP_RESTARTS[1] + 1, "restart seen")
    summary = feed.summary()
    assert summary.pod_count == PODS and dict(summary.pods_by_phase) == {"Running": PODS}
    # the kube-api restart fallback saw one restart happen while watching
    rows = {r.pod: r for r in feed.restarts_fallback(top=10).top}
    assert rows[CRASHLOOP_PODS[1]].restarts_1h == 1.0
    assert rows[CRASHLOOP_PODS[1]].last_terminated_reason == "OOMKilled"
    assert len(rig.requests("list", "pods")) == 1  # the watch carried it all


async def test_expired_watch_relists_and_converges(rig: Rig) -> None:
    feed = rig.feed(watch_timeout=1)
    await asyncio.wait_for(feed.wait_settled(), 10)
    # Keep the feed from watching while history moves on and is compacted
    rig.server.inject(Fault(r"^/api/v1/pods$", status=503, verbs=frozenset({"watch"})))
    watches = len(rig.requests("watch", "pods"))
    await eventually(lambda: len(rig.requests("watch", "pods")) >= watches + 2, "watch retried under the fault")
    rig.cluster.delete("pods", *PENDING_POD)
    template = rig.cluster.get("pods", "shop", CRASHLOOP_PODS[0])
    assert template is not None
    template["metadata"]["name"] = "checkout-6d9f7b8c4-after"
    rig.cluster.add("pods", template)
    rig.cluster.compact()
    assert feed.pod(*PENDING_POD) is not None  # not seen yet
    assert feed.statuses()["pods"].state is FeedState.STALE
    rig.server.clear_faults()
    await eventually(lambda: feed.pod("shop", "checkout-6d9f7b8c4-after") is not None, "relisted")
    assert feed.pod(*PENDING_POD) is None
    relists = rig.requests("list", "pods")[1:]
    assert relists and "resourceVersion" not in relists[0]  # a consistent list after 410
    await eventually(lambda: feed.statuses()["pods"].state is FeedState.OK, "pods ok again")


async def test_bookmarks_advance_the_watch_version(rig: Rig) -> None:
    feed = rig.feed(watch_timeout=1)
    await asyncio.wait_for(feed.wait_settled(), 10)
    await eventually(lambda: bool(rig.requests("watch", "pods")), "first pod watch")
    first_watch = rig.requests("watch", "pods")[0]
    # Changes elsewhere move the cluster's version; only bookmarks tell the pod watch
    rig.cluster.set_node_condition("worker-1", "MemoryPressure", "False")
    target = rig.cluster.resource_version
    assert int(first_watch["resourceVersion"]) < target

    def resumed_past_target() -> bool:
        return any(int(q["resourceVersion"]) >= target for q in rig.requests("watch", "pods"))

    await eventually(resumed_past_target, "a pod watch resumed from a bookmarked version")
    assert all(q["allowWatchBookmarks"] == "true" and q["timeoutSeconds"] == "1" for q in rig.requests("watch", "pods"))
    assert len(rig.requests("list", "pods")) == 1


async def test_forbidden_nodes_keep_pods_working(rig: Rig) -> None:
    rig.server.inject(Fault(r"^/api/v1/nodes", status=403))
    feed = rig.feed()
    await asyncio.wait_for(feed.wait_settled(), 10)
    summary = feed.summary()
    assert (summary.synced, summary.node_count, summary.pod_count) == (True, 0, PODS)
    nodes = feed.statuses()["nodes"]
    assert nodes.state is FeedState.ERROR
    assert nodes.reason.startswith("forbidden: RBAC does not allow list nodes at cluster scope")
    assert feed.statuses()["pods"].state is FeedState.OK
    overall = feed.status()
    assert overall.state is FeedState.ERROR and overall.reason.startswith("nodes: forbidden")


async def test_throttled_list_honours_retry_after(rig: Rig) -> None:
    rig.server.inject(Fault(r"^/api/v1/pods$", status=429, retry_after=7, times=1, verbs=frozenset({"list"})))
    feed = rig.feed()
    await eventually(lambda: feed.summary().pod_count == PODS, "pods listed after the 429")
    assert 7.0 in rig.sleeps
    assert feed.statuses()["pods"].state is FeedState.OK


async def test_metrics_server_fallbacks(rig: Rig) -> None:
    feed = rig.feed()
    await asyncio.wait_for(feed.wait_settled(), 10)
    node = feed.node("worker-1")
    assert node is not None
    rig.server.usage.set(
        "nodes", "", "worker-1", node.allocatable_cpu_millis // 2, node.allocatable_memory_bytes // 4096
    )
    facts = await feed.nodes_fallback(top=2)
    assert (facts.source, facts.total, len(facts.worst)) == ("metrics-server", NODES, 2)
    usage = {u.node: u for u in await feed.node_usage()}
    worker = next(s for s in (await feed.nodes_fallback(top=NODES)).worst if s.node == "worker-1")
    assert worker.cpu.number == pytest.approx(0.5, abs=1e-3)
    assert worker.memory.number == pytest.approx(0.25, abs=1e-3)
    assert worker.disk is ABSENT and worker.load1_per_cpu is ABSENT
    assert facts.naming == "node names from metrics.k8s.io"  # the kube API's own names
    # The kube API's addresses name scrape targets Prometheus cannot (issue 21).
    addresses = feed.node_addresses()
    internal = dict(node.addresses)["InternalIP"]
    assert addresses[internal] == "worker-1" and addresses["worker-1"] == "worker-1"
    assert usage["worker-1"].cpu_millis == node.allocatable_cpu_millis // 2
    rig.server.usage.set("pods", "shop", CRASHLOOP_PODS[0], 300, 2048)
    pods = {(p.namespace, p.pod): p for p in await feed.pod_usage()}
    assert (pods[("shop", CRASHLOOP_PODS[0])].cpu_millis, pods[("shop", CRASHLOOP_PODS[0])].memory_bytes) == (
        300,
        2048 * 1024,
    )
    assert PENDING_POD not in pods  # metrics-server reports running pods only


async def test_unauthorized(tmp_path: Path) -> None:
    async for rig in _rig(tmp_path, token="stale-token"):
        feed = rig.feed()
        await asyncio.wait_for(feed.wait_settled(), 10)
        statuses = feed.statuses()
        assert {s.state for s in statuses.values()} == {FeedState.ERROR}
        assert statuses["pods"].reason.startswith("token expired or invalid: refresh your credentials")
        with pytest.raises(KubeApiError) as caught:
            await rig.connection.get_json("/api/v1/namespaces/shop/pods", what="list pods in namespace shop")
        assert caught.value.status == 401


async def test_discovery_finds_the_service_and_queries_through_the_proxy(rig: Rig, prometheus: object) -> None:
    source = await discover_prometheus(rig.connection)
    assert source.url == f"{rig.server.url}/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy"
    assert source.description == "prometheus-k8s.monitoring via the API server's service proxy"
    assert rig.requests("list", "services")
    rig.server.register_service_backend("monitoring", "prometheus-k8s", prometheus.url)  # type: ignore[attr-defined]
    headers, ssl_context = await rig.connection.aiohttp_auth()
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{source.url}/api/v1/query", params={"query": "vector(42)"}, headers=headers, ssl=ssl_context
        ) as response,
    ):
        body = await response.json()
    assert body["status"] == "success" and body["data"]["result"][0]["value"][1] == "42"


async def test_discovery_without_list_rights_gets_known_names(rig: Rig) -> None:
    rig.server.inject(Fault(r"^/api/v1/services$", status=403))
    source = await discover_prometheus(rig.connection)
    assert (source.namespace, source.service, source.port) == ("monitoring", "prometheus-k8s", "web")
    assert rig.requests("get", "services")
    rig.cluster.delete("services", "monitoring", "prometheus-k8s")
    with pytest.raises(FeedError, match="no Prometheus found .*pass --prometheus-url") as failed:
        await discover_prometheus(rig.connection)
    # How to get one: the exact port-forward command and the flag to pass after it
    assert "`kubectl -n monitoring port-forward svc/prometheus-k8s 9090`" in str(failed.value)
    assert "--prometheus-url http://localhost:9090" in str(failed.value)


async def test_exec_plugin_token_is_refreshed_when_expired(rig: Rig, tmp_path: Path) -> None:
    """The client's exec-plugin support with our refresh hook: an expired credential is
    fetched again before the next request, so a rotated token is picked up."""
    token_file, runs = tmp_path / "token", tmp_path / "runs"
    token_file.write_text("rotated-away")
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(
        "#!/bin/sh\n"
        f"echo run >> {runs}\n"
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
        '"status":{"token":"%s","expirationTimestamp":"2000-01-01T00:00:00Z"}}\' '
        f'"$(cat {token_file})"\n'
    )
    plugin.chmod(0o755)
    path = write_kubeconfig(tmp_path / "exec-kubeconfig", rig.server.url, None)
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "interactiveMode": "Never"}
    }
    path.write_text(yaml.safe_dump(config))
    async with await connect(kubeconfig=str(path), environ={}) as connection:
        with pytest.raises(KubeApiError) as caught:
            await connection.get_json("/api/v1/nodes", what="list nodes")
        assert caught.value.status == 401
        token_file.write_text(TOKEN)
        nodes = await connection.get_json("/api/v1/nodes", what="list nodes")
        assert len(nodes["items"]) == NODES
    assert len(runs.read_text().split()) >= 3  # at load, then before each request


async def test_first_sync_reports_its_progress(rig: Rig) -> None:
    """Pages, objects and the remainingItemCount estimate while the first pod list runs;
    nothing once it has listed."""
    rig.server.inject(Fault(r"^/api/v1/pods$", verbs=frozenset({"list"}), delay=0.3))
    feed = rig.feed(page_size=5)
    seen = []
    while not feed.summary().synced:
        progress = feed.sync_progress()
        if progress is not None and progress.pages:
            seen.append(progress)
        await asyncio.sleep(0.05)
    assert feed.sync_progress() is None
    assert seen and seen[0].pages >= 1
    assert [p.objects for p in seen] == sorted(p.objects for p in seen)
    assert {p.expected for p in seen} == {PODS}  # objects so far + what the server says is left
    assert seen[0].line() == f"syncing pods: {seen[0].objects:,} / ~{PODS:,}"
    assert feed.idle_for() == 0.0


@pytest.fixture
async def served(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    """A rig whose server handles streaming lists as `request.param` says (on/reject/ignore)."""
    async for value in _rig(tmp_path, bookmark_interval=0.2, watch_list=request.param):
        yield value


async def _synced_pods(rig: Rig) -> KubeFeed:
    feed = rig.feed()
    await asyncio.wait_for(feed.wait_settled(), 10)
    summary = feed.summary()
    assert (summary.node_count, summary.pod_count) == (NODES, PODS)
    assert dict(summary.pods_by_phase) == {"Running": PODS - 1, "Pending": 1}
    assert feed.status().state is FeedState.OK
    return feed


@pytest.mark.parametrize("served", ["on"], indirect=True)
async def test_streaming_list_where_the_server_supports_it(served: Rig) -> None:
    """KEP-3157: one watch sends the state, the annotated bookmark ends it, no LIST is made,
    and the same watch then carries changes."""
    rig = served
    feed = await _synced_pods(rig)
    assert feed.list_paths() == dict.fromkeys(("nodes", "pods", "events"), STREAMING)
    assert feed.summary().list_path == STREAMING
    assert rig.requests("list", "pods") == []
    (stream,) = rig.requests("watch", "pods", streaming=True)
    assert stream["sendInitialEvents"] == "true" and stream["resourceVersionMatch"] == "NotOlderThan"
    assert stream["allowWatchBookmarks"] == "true" and "resourceVersion" not in stream
    rig.cluster.set_pod_phase("shop", CRASHLOOP_PODS[0], "Failed")
    await eventually(lambda: dict(feed.summary().pods_by_phase).get("Failed") == 1, "a change after the state")
    assert len(rig.requests("watch", "pods", streaming=True)) == 1  # the same stream carried it
    assert rig.requests("watch", "pods") == []


@pytest.mark.parametrize("served", ["reject", "ignore"], indirect=True)
async def test_streaming_list_falls_back_to_paged_lists(served: Rig) -> None:
    """A server that answers 422, or serves a plain watch and bookmarks without the
    initial-events-end annotation, gets paged LISTs: detected, not assumed."""
    rig = served
    feed = await _synced_pods(rig)
    assert feed.list_paths() == dict.fromkeys(("nodes", "pods", "events"), PAGED)
    assert feed.summary().list_path == PAGED
    assert len(rig.requests("watch", "pods", streaming=True)) == 1  # tried once, then never again
    assert rig.requests("list", "pods")
    rig.cluster.set_pod_phase("shop", CRASHLOOP_PODS[0], "Failed")
    await eventually(lambda: dict(feed.summary().pods_by_phase).get("Failed") == 1, "a change after the list")
    assert len(rig.requests("watch", "pods", streaming=True)) == 1


@pytest.mark.parametrize("served", ["on"], indirect=True)
async def test_expired_watch_relists_by_streaming(served: Rig) -> None:
    """After a 410 the feed lists again the way that worked: a fresh streaming list, no LIST."""
    rig = served
    rig.server.inject(Fault(r"^/api/v1/pods$", verbs=frozenset({"watch"}), watch_error=410, times=2))
    feed = rig.feed(watch_timeout=1)
    # The first streaming list meets the 410 too (the fault takes any pod watch): it is a
    # failure, not a refusal, so streaming is tried again and is not given up for LISTs
    await eventually(lambda: len(rig.requests("watch", "pods", streaming=True)) >= 3, "relisted by streaming")
    await eventually(lambda: feed.summary().pod_count == PODS, "pods synced")
    assert feed.list_paths()["pods"] == STREAMING
    assert rig.requests("list", "pods") == []
