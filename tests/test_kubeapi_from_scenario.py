"""One cluster, two views: the kube-API test server built from a Prometheus scenario holds the
same nodes and pods as the real Prometheus serving that scenario, read through k8stop's feeds."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import aiohttp
import orjson
import pytest
from k8stop.queries.config import Settings
from k8stop.queries.kube.connection import KubeConnection, connect
from k8stop.queries.kube.feed import KubeFeed
from k8stop.queries.kube.parse import node_record
from k8stop.queries.model.facts import NodesFacts, RestartsFacts
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from kubeapi.from_scenario import cluster_from_scenario, restart_count
from kubeapi.kubeconfig import write_kubeconfig
from kubeapi.server import KubeApiServer
from prometheus_fixture import PrometheusHandle
from scenario import GiB, Node, Scenario

TOKEN = "from-scenario-token"
OOM_NODE, DISK_NODE = 3, 4


def incident() -> Scenario:
    """checkout crash-loops (OOMKilled) from 10 minutes before the anchor; node-4 has a full
    memory (OOM kills) and node-5 an almost full disk."""
    oom = Scenario.oom_node(node=OOM_NODE)
    nodes = tuple(replace(n, disk=0.93) if i == DISK_NODE else n for i, n in enumerate(oom.nodes))
    crash = Scenario.crashloop(restarts_per_hour=30.0)
    pods = tuple(c if c.owner_name.startswith("checkout") else o for o, c in zip(oom.pods, crash.pods))
    return replace(crash, name="kube-mirror", nodes=nodes, pods=pods).starting(600.0)


SCENARIO = incident()


@dataclass
class Views:
    prom: PrometheusHandle
    facts: PrometheusFacts
    kube: KubeFeed
    server: KubeApiServer
    nodes: NodesFacts
    restarts: RestartsFacts

    @property
    def scenario(self) -> Scenario:
        return self.prom.scenario

    async def counter(self, namespace: str, pod: str, container: str) -> float:
        """kube_pod_container_status_restarts_total at the anchor, straight from Prometheus."""
        selector = f'namespace="{namespace}",pod="{pod}",container="{container}"'
        params = {"query": f"kube_pod_container_status_restarts_total{{{selector}}}", "time": str(self.prom.anchor)}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.prom.url}/api/v1/query", params=params) as response,
        ):
            body = orjson.loads(await response.read())
        (sample,) = body["data"]["result"]
        return float(sample["value"][1])


@pytest.fixture
async def views(prometheus_for, tmp_path: Path) -> AsyncIterator[Views]:
    prom = prometheus_for(SCENARIO)
    # The cluster as it was at the anchor, the instant the counter query below reads.
    server = KubeApiServer(cluster_from_scenario(SCENARIO), token=TOKEN)
    url = await server.start()
    connection: KubeConnection = await connect(
        kubeconfig=str(write_kubeconfig(tmp_path / "kubeconfig", url, TOKEN)), environ={}
    )
    feed = KubeFeed(connection)
    feed.start()
    settings = Settings(prometheus_url=prom.url)
    try:
        async with PromClient.from_settings(settings) as client:
            facts = PrometheusFacts(client, settings)
            nodes, _ = await facts.nodes()
            restarts, _ = await facts.restarts(top=20)
            await asyncio.wait_for(feed.wait_settled(), 10)
            yield Views(prom, facts, feed, server, nodes, restarts)
    finally:
        await feed.stop()
        await connection.close()
        await server.stop()


async def test_both_views_name_the_same_nodes(views: Views) -> None:
    kube_names = [n.name for n in views.kube.nodes()]
    assert kube_names == sorted(n.name for n in SCENARIO.nodes)
    assert {n.node for n in views.nodes.worst} == set(kube_names) and views.nodes.total == len(kube_names)
    assert views.kube.summary().not_ready_nodes == ()


async def test_pressure_conditions_follow_the_metrics(views: Views) -> None:
    saturation = {n.node: n for n in views.nodes.worst}
    for node in SCENARIO.nodes:
        record = views.kube.node(node.name)
        assert record is not None and record.ready is True
        conditions = dict(record.conditions)
        memory, disk = saturation[node.name].memory.number, saturation[node.name].disk.number
        assert (conditions["MemoryPressure"] == "True") == (memory >= 0.95), (node.name, memory)
        assert (conditions["DiskPressure"] == "True") == (disk >= 0.90), (node.name, disk)
    # the scenario did put one of each in
    assert dict(views.kube.node(SCENARIO.nodes[OOM_NODE].name).conditions)["MemoryPressure"] == "True"
    assert dict(views.kube.node(SCENARIO.nodes[DISK_NODE].name).conditions)["DiskPressure"] == "True"


async def test_crashlooping_pods_match_the_restarts_facts(views: Views) -> None:
    looping = {(r.namespace, r.pod) for r in views.restarts.top if r.waiting_reason == "CrashLoopBackOff"}
    expected = {(p.namespace, p.name) for p in SCENARIO.pods if p.owner_name.startswith("checkout")}
    assert looping == expected
    kube_looping = {
        (p.namespace, p.name)
        for p in views.kube.summary().top_restarts
        if any(c.waiting_reason == "CrashLoopBackOff" for c in p.containers)
    }
    assert kube_looping == expected
    for row in views.restarts.top:
        pod = views.kube.pod(row.namespace, row.pod)
        assert pod is not None, row
        spec = next(p for p in SCENARIO.pods if (p.namespace, p.name) == (row.namespace, row.pod))
        assert pod.node == spec.node and (pod.owner_kind, pod.owner_name) == ("ReplicaSet", spec.owner_name)
        (container,) = [c for c in pod.containers if c.name == row.container]
        assert container.waiting_reason == row.waiting_reason
        assert container.last_terminated_reason == row.last_terminated_reason
        assert container.last_exit_code == (
            137 if row.last_terminated_reason == "OOMKilled" else (0 if row.last_terminated_reason is None else 1)
        )
        assert container.ready is (row.waiting_reason is None)
        # restartCount is the kube-state-metrics counter at the same instant
        assert container.restarts == math.floor(await views.counter(row.namespace, row.pod, row.container))


async def test_owner_chain_and_events(views: Views) -> None:
    checkout = {p.name for p in SCENARIO.pods if p.owner_name.startswith("checkout")}
    assert {p.name for p in views.kube.pods_of_owner("shop", "Deployment", "checkout")} == checkout
    for name in checkout:
        events = views.kube.events_for("Pod", "shop", name)
        assert [e.reason for e in events] == ["BackOff"]
        assert events[0].message.startswith("Back-off restarting failed container app")
    oom_node = SCENARIO.nodes[OOM_NODE].name
    killed = {p.name for p in SCENARIO.pods if p.node == oom_node or p.name in checkout}
    node_events = [e for n in SCENARIO.nodes for e in views.kube.events_for("Node", "", n.name)]
    assert {e.reason for e in node_events} == {"OOMKilling"}
    assert {e.message.split(" in pod ")[1].split("/")[1] for e in node_events} == killed
    pods_on_oom_node = {p.name for p in views.kube.pods_on_node(oom_node)}
    assert pods_on_oom_node == {p.name for p in SCENARIO.pods if p.node == oom_node}


async def test_prometheus_service_is_discoverable(views: Views) -> None:
    service = views.server.cluster.get("services", "monitoring", "prometheus-k8s")
    assert service is not None and service["spec"]["ports"][0]["port"] == 9090


def test_capacity_allocatable_and_control_plane_rule() -> None:
    nodes = (
        Node("cp-1", "10.9.0.1"),
        Node("etcd-host", SCENARIO.etcd[0].ip, cpus=8, memory_total_bytes=30 * GiB),
        Node("worker-1", "10.9.1.1", cpus=2, memory_total_bytes=7.5 * GiB),
    )
    cluster = cluster_from_scenario(replace(Scenario.healthy(), nodes=nodes, pods=()))
    for node in nodes:
        obj = cluster.get("nodes", "", node.name)
        assert obj is not None
        record = node_record(obj)
        assert record.allocatable_cpu_millis == node.cpus * 1000 - 100
        assert record.allocatable_memory_bytes == node.memory_total_bytes - GiB
        roles = "node-role.kubernetes.io/control-plane" in obj["metadata"]["labels"]
        assert roles is (node.name != "worker-1"), node.name


def test_restart_count_is_the_counter_through_the_incident() -> None:
    pod = next(p for p in SCENARIO.pods if p.owner_name.startswith("checkout"))
    (container,) = pod.containers
    before = SCENARIO.before.container(pod.namespace, pod.name, container.name)
    assert before is not None and before.restarts_per_hour == 0.0
    # healthy until 600 s before the anchor, then 30 an hour
    assert restart_count(SCENARIO, pod, container, at=-600.0) == int(before.restarts_base)
    assert restart_count(SCENARIO, pod, container, at=0.0) == int(before.restarts_base) + 5
    assert restart_count(SCENARIO, pod, container, at=600.0) == int(before.restarts_base) + 10


def test_timestamps_sit_around_the_anchor() -> None:
    anchor = 1_790_000_000.0
    pod = next(p for p in SCENARIO.pods if p.owner_name.startswith("checkout"))
    obj = cluster_from_scenario(SCENARIO, anchor=anchor).get("pods", pod.namespace, pod.name)
    assert obj is not None
    (status,) = obj["status"]["containerStatuses"]
    finished = datetime.fromisoformat(status["lastState"]["terminated"]["finishedAt"]).timestamp()
    created = datetime.fromisoformat(obj["metadata"]["creationTimestamp"]).timestamp()
    assert created < finished < anchor and anchor - finished == 60.0
