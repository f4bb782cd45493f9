"""The kube-API restart estimate and the stores' incremental indexes, on records built here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from k8stop.queries.kube.parse import node_record
from k8stop.queries.kube.restarts import HOUR, RestartTracker
from k8stop.queries.kube.store import EventStore, NodeStore, PodStore
from k8stop.queries.model.facts import ContainerRecord, EventRecord, PodRecord
from k8stop.queries.prom.discovery import pick

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC).timestamp()


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pod(
    name: str,
    restarts: int,
    *,
    created: float = T0 - 10 * HOUR,
    finished: float | None = None,
    waiting: str | None = None,
    node: str = "n1",
    owner: str = "web-5f7c9",
) -> PodRecord:
    container = ContainerRecord(
        "app",
        restarts == 0,
        restarts,
        waiting,
        "OOMKilled" if restarts else None,
        137 if restarts else None,
        _iso(finished) if finished else None,
    )
    return PodRecord("shop", name, node, "Running", "ReplicaSet", owner, (container,), 0, 0, 0, 0, _iso(created))


def test_restarts_seen_by_the_watch_are_counted_exactly() -> None:
    tracker = RestartTracker(started=T0)
    pod = _pod("a", 0)
    tracker.observe(None, pod, T0)
    for n in range(1, 4):
        newer = _pod("a", n, finished=T0 + n * 60)
        tracker.observe(pod, newer, T0 + n * 60)
        pod = newer
    now = T0 + 200
    facts = tracker.facts([pod], now, top=5)
    assert facts.source == "kube-api"
    assert [(r.pod, r.restarts_1h, r.restarts_15m) for r in facts.top] == [("a", 3.0, 3.0)]
    # 70 minutes on: only the restarts after the hour's start remain
    assert tracker.in_window(pod, pod.containers[0], T0 + 60 * 60 + 90, HOUR) == 2


def test_restarts_before_start_are_a_lower_bound() -> None:
    tracker = RestartTracker(started=T0)
    # Found with 40 restarts, the last one 5 minutes before k8stop started
    pod = _pod("old", 40, finished=T0 - 300)
    tracker.observe(None, pod, T0)
    row = tracker.facts([pod], T0 + 60, top=5).top[0]
    assert (row.restarts_1h, row.restarts_15m) == (1.0, 1.0)  # at least the last one
    # One more while watched: the observed delta, still at least 1
    newer = _pod("old", 41, finished=T0 + 120)
    tracker.observe(pod, newer, T0 + 120)
    assert tracker.facts([newer], T0 + 180, top=5).top[0].restarts_1h == 1.0


def test_pod_created_inside_the_window_counts_all_its_restarts() -> None:
    tracker = RestartTracker(started=T0)
    pod = _pod("young", 6, created=T0 - 600, finished=T0 - 30)
    tracker.observe(None, pod, T0)
    row = tracker.facts([pod], T0 + 5, top=5).top[0]
    assert row.restarts_1h == 6.0


def test_quiet_pods_and_benign_waits_are_left_out() -> None:
    tracker = RestartTracker(started=T0)
    quiet = _pod("quiet", 3, finished=T0 - 5 * HOUR)
    starting = _pod("starting", 0, waiting="ContainerCreating")
    pulling = _pod("pulling", 0, waiting="ImagePullBackOff")
    for pod in (quiet, starting, pulling):
        tracker.observe(None, pod, T0)
    rows = tracker.facts([quiet, starting, pulling], T0 + 2 * HOUR, top=5).top
    assert [(r.pod, r.restarts_1h, r.waiting_reason) for r in rows] == [("pulling", 0.0, "ImagePullBackOff")]


def test_recreated_pod_under_the_same_name_starts_over() -> None:
    tracker = RestartTracker(started=T0)
    old = _pod("db-0", 9, finished=T0 - 4 * HOUR)
    tracker.observe(None, old, T0)
    new = _pod("db-0", 1, created=T0 + 2 * HOUR, finished=T0 + 2 * HOUR + 60)
    tracker.observe(old, new, T0 + 2 * HOUR + 60)
    assert tracker.in_window(new, new.containers[0], T0 + 2 * HOUR + 90, HOUR) == 1


def test_pod_store_indexes_follow_changes() -> None:
    store = PodStore()
    store.upsert(_pod("a", 0, node="n1"))
    store.upsert(_pod("b", 5, node="n1", owner="web-5f7c9"))
    store.upsert(_pod("c", 2, node="n2", owner="api-123ab"))
    assert [p.name for p in store.on_node("n1")] == ["a", "b"]
    assert [p.name for p in store.of_owner("shop", "Deployment", "web")] == ["a", "b"]
    assert [p.name for p in store.top_restarts(5)] == ["b", "c"]
    store.upsert(_pod("b", 5, node="n2"))  # moved (a new pod of the same name)
    store.upsert(_pod("a", 7, node="n1"))
    assert [p.name for p in store.on_node("n2")] == ["b", "c"]
    assert [p.name for p in store.top_restarts(2)] == ["a", "b"]
    store.remove(("shop", "a"))
    assert store.on_node("n1") == ()
    assert [p.name for p in store.top_restarts(5)] == ["b", "c"]
    assert store.phases() == (("Running", 2),)
    assert len(store) == 2


def test_pod_store_finds_a_deployment_through_each_of_its_replicasets() -> None:
    """A rollout leaves two ReplicaSets of one Deployment; when the old one's last pod goes,
    the Deployment still finds the new one's pods, and a namesake elsewhere is not mixed in."""
    store = PodStore()
    old = [_pod(f"web-old-{i}", 0, node=f"n{i}", owner="web-5f7c9") for i in range(3)]
    new = [_pod(f"web-new-{i}", 0, node=f"n{i}", owner="web-8b2d1") for i in range(2)]
    for pod in old + new:
        store.upsert(pod)
    elsewhere = replace(_pod("web-x", 0, node="n0", owner="web-5f7c9"), namespace="other")
    store.upsert(elsewhere)
    assert [p.name for p in store.of_owner("shop", "Deployment", "web")] == sorted(p.name for p in old + new)
    assert [p.name for p in store.of_owner("shop", "ReplicaSet", "web-8b2d1")] == ["web-new-0", "web-new-1"]
    assert store.of_owner("other", "Deployment", "web") == (elsewhere,)
    for pod in old:
        assert store.remove(("shop", pod.name)) is pod
    assert store.of_owner("shop", "ReplicaSet", "web-5f7c9") == ()
    assert [p.name for p in store.of_owner("shop", "Deployment", "web")] == ["web-new-0", "web-new-1"]
    assert [p.name for p in store.on_node("n0")] == ["web-x", "web-new-0"]  # by namespace, then name
    assert store.remove(("shop", "web-old-0")) is None  # already gone: nothing changes
    assert len(store) == 3 and store.keys() == {("shop", "web-new-0"), ("shop", "web-new-1"), ("other", "web-x")}
    assert store.get("other", "web-x") is elsewhere and store.get("shop", "web-x") is None


def test_node_and_event_stores() -> None:
    nodes = NodeStore()
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    nodes.upsert(node_record({"metadata": {"name": "n1"}, **ready}))
    nodes.upsert(node_record({"metadata": {"name": "n2"}}))
    assert nodes.not_ready() == ("n2",)
    nodes.upsert(node_record({"metadata": {"name": "n2"}, **ready}))
    assert nodes.not_ready() == ()
    events = EventStore()
    events.upsert(("shop", "e1"), EventRecord("shop", "Pod", "a", "BackOff", "m", 3, "2025-01-06T08:00:00Z"))
    events.upsert(("shop", "e2"), EventRecord("shop", "Pod", "a", "Failed", "m", 1, "2025-01-06T09:00:00Z"))
    events.upsert(("default", "e3"), EventRecord("", "Node", "n1", "NodeNotReady", "m", 1, "2025-01-06T08:30:00Z"))
    assert [e.reason for e in events.recent(2)] == ["Failed", "NodeNotReady"]
    assert [e.reason for e in events.for_object("Pod", "shop", "a")] == ["Failed", "BackOff"]
    events.remove(("shop", "e2"))
    assert [e.reason for e in events.recent(5)] == ["NodeNotReady", "BackOff"]


def test_node_addresses_follow_every_node_change() -> None:
    """The address book is kept between refreshes (it names every series of a 5,000-node
    cluster); an update, a new node or a deleted one must show in the next read."""

    def node(name: str, *addresses: tuple[str, str]) -> dict:
        return {"metadata": {"name": name}, "status": {"addresses": [{"type": t, "address": a} for t, a in addresses]}}

    nodes = NodeStore()
    nodes.upsert(node_record(node("n1", ("InternalIP", "10.0.0.1"), ("Hostname", "host-1"))))
    first = nodes.addresses()
    assert first == {"10.0.0.1": "n1", "host-1": "n1"} and first.names == {"n1"}
    assert nodes.addresses() is first  # unchanged nodes: the same book, not rebuilt
    heartbeat = node("n1", ("InternalIP", "10.0.0.1"), ("Hostname", "host-1"))
    heartbeat["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    nodes.upsert(node_record(heartbeat))
    assert nodes.addresses() is first and nodes.not_ready() == ()  # a status update keeps the book
    nodes.upsert(node_record(node("n1", ("InternalIP", "10.0.0.9"))))
    nodes.upsert(node_record(node("n2", ("InternalIP", "10.0.0.2"))))
    assert nodes.addresses() == {"10.0.0.9": "n1", "10.0.0.2": "n2"}
    assert [n.name for n in nodes.all()] == ["n1", "n2"]
    nodes.remove(("", "n1"))
    assert nodes.addresses() == {"10.0.0.2": "n2"} and nodes.addresses().names == {"n2"}
    assert [n.name for n in nodes.all()] == ["n2"]


def _service(namespace: str, name: str, ports: list[dict]) -> dict:
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"ports": ports}}


def test_discovery_ranks_namespaces_then_names_and_picks_the_port() -> None:
    services = [
        _service("default", "kubernetes", [{"name": "https", "port": 443}]),
        _service("apps", "prometheus", [{"port": 9090}]),
        _service(
            "monitoring", "prometheus-k8s", [{"name": "reloader-web", "port": 8080}, {"name": "web", "port": 9090}]
        ),
        _service("kube-system", "prometheus-k8s", [{"name": "web", "port": 9090}]),
    ]
    source = pick("https://api:6443", services)
    assert source is not None
    assert source.url == "https://api:6443/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy"
    assert source.description == (
        "prometheus-k8s.monitoring via the API server's service proxy; chosen over prometheus-k8s.kube-system, "
        "prometheus.apps (monitoring namespaces first, then Service name)"
    )
    assert source.label == "prometheus-k8s.monitoring via kube proxy (1 of 3)"
    vm = pick("https://api", [_service("vm", "vmselect", [{"name": "http", "port": 8481}])])
    assert vm is not None and vm.url.endswith("/services/vmselect:http/proxy/select/0/prometheus")
    helm = pick("https://api", [_service("obs", "kps-kube-prometheus-stack-prometheus", [{"port": 9090}])])
    assert helm is not None and helm.port == "9090"
    assert helm.label == "NOT-MONITORING-NS kps-kube-prometheus-stack-prometheus.obs via kube proxy"
    assert "namespace obs is not a well-known monitoring namespace: pass --prometheus-url" in helm.description
    assert pick("https://api", [services[0]]) is None


def test_discovery_prefers_a_monitoring_namespace_over_a_better_name_in_a_tenant_namespace() -> None:
    """A tenant's `prometheus-operated` (the best name) never beats a monitoring namespace's
    plainer `prometheus-server`, and the description says what was passed over."""
    tenant = _service("tenant-a", "prometheus-operated", [{"name": "web", "port": 9090}])
    real = _service("monitoring", "prometheus-server", [{"name": "http", "port": 80}])
    for services in ([tenant, real], [real, tenant]):
        source = pick("https://api", services)
        assert source is not None
        assert (source.namespace, source.service, source.port) == ("monitoring", "prometheus-server", "http")
        assert source.description.endswith(
            "; chosen over prometheus-operated.tenant-a (monitoring namespaces first, then Service name)"
        )
        assert source.trusted
    only_tenant = pick("https://api", [tenant])
    assert only_tenant is not None and not only_tenant.trusted
    assert only_tenant.label == "NOT-MONITORING-NS prometheus-operated.tenant-a via kube proxy"
    # Malformed Services from a hostile server are passed over, not a crash
    junk = [{"metadata": "x"}, {"metadata": {"namespace": "monitoring", "name": "prometheus"}, "spec": "x"}]
    assert pick("https://api", junk) is None
