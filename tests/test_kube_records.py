"""Raw kube-API JSON -> slim records: quantities, containers, requests, owners, events."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from k8stop.queries.kube.parse import (
    event_record,
    millicores,
    node_record,
    node_usage,
    parse_quantity,
    pod_record,
    pod_usage,
    quantity_bytes,
)


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("100m", 100),
        ("1", 1000),
        ("1.5", 1500),
        ("0.1m", 1),
        ("250000n", 1),
        ("2e-3", 2),
        ("1e3", 1_000_000),
        ("500u", 1),
        ("3", 3000),
        (2, 2000),
        (None, 0),
    ],
)
def test_cpu_quantities_in_millicores(text: str | int | None, millis: int) -> None:
    assert millicores(text) == millis


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("128Mi", 128 * 2**20),
        ("1Gi", 2**30),
        ("1.5Gi", 3 * 2**29),
        ("500k", 500_000),
        ("1M", 1_000_000),
        ("1e3", 1000),
        ("1E", 10**18),
        ("1Ki", 1024),
        ("7", 7),
        ("100m", 1),
        ("2Ti", 2 * 2**40),
        ("1E3", 1000),
    ],
)
def test_memory_quantities_in_bytes(text: str, size: int) -> None:
    assert quantity_bytes(text) == size


def test_quantity_is_exact() -> None:
    assert parse_quantity("0.1") + parse_quantity("0.2") == Decimal("0.3")


@pytest.mark.parametrize("text", ["", "abc", "Mi", "1X", "1.2.3", "-", "1e", "1 Gi"])
def test_malformed_quantities_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def _pod(**overrides: object) -> dict:
    pod = {
        "metadata": {
            "namespace": "shop",
            "name": "web-7d4-abcde",
            "creationTimestamp": "2025-01-06T08:00:00Z",
            "ownerReferences": [
                {"kind": "Deployment", "name": "not-controller", "controller": False},
                {"kind": "ReplicaSet", "name": "web-7d4", "controller": True},
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "app",
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "128Mi"},
                        "limits": {"cpu": "1", "memory": "256Mi"},
                    },
                },
                {"name": "proxy", "resources": {"requests": {"cpu": "0.1", "memory": "64Mi"}}},
            ],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "proxy", "ready": True, "restartCount": 0, "state": {"running": {}}},
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 7,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {
                        "terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2025-01-06T09:00:00Z"}
                    },
                },
            ],
        },
    }
    pod.update(overrides)
    return pod


def test_pod_record_from_json_bytes() -> None:
    record = pod_record(orjson.loads(orjson.dumps(_pod())))
    assert (record.namespace, record.name, record.node, record.phase) == ("shop", "web-7d4-abcde", "node-1", "Running")
    assert (record.owner_kind, record.owner_name) == ("ReplicaSet", "web-7d4")
    assert [c.name for c in record.containers] == ["app", "proxy"]  # spec order
    app = record.containers[0]
    assert (app.ready, app.restarts, app.waiting_reason) == (False, 7, "CrashLoopBackOff")
    assert (app.last_terminated_reason, app.last_exit_code, app.last_finished_at) == (
        "OOMKilled",
        137,
        "2025-01-06T09:00:00Z",
    )
    assert record.restarts == 7
    assert record.cpu_request_millis == 350
    assert record.memory_request_bytes == 192 * 2**20
    assert record.cpu_limit_millis == 1000
    assert record.memory_limit_bytes == 256 * 2**20
    assert record.created == "2025-01-06T08:00:00Z"


def test_pending_pod_without_statuses_or_owner() -> None:
    pod = _pod(status={"phase": "Pending"})
    pod["spec"] = {"containers": [{"name": "app"}]}
    pod["metadata"] = {"namespace": "a", "name": "b"}
    record = pod_record(pod)
    assert record.node is None
    assert (record.owner_kind, record.owner_name) == (None, None)
    assert len(record.containers) == 1
    assert (record.containers[0].ready, record.containers[0].restarts) == (False, 0)
    assert record.cpu_request_millis == 0


def test_init_containers_count_like_the_scheduler() -> None:
    """max(sum of containers + sidecars, largest init step) plus overhead."""
    pod = _pod()
    pod["spec"]["initContainers"] = [
        {"name": "migrate", "resources": {"requests": {"cpu": "2", "memory": "64Mi"}}},
        {"name": "mesh", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}}},
    ]
    pod["spec"]["overhead"] = {"cpu": "10m", "memory": "1Mi"}
    record = pod_record(pod)
    assert record.cpu_request_millis == 2000 + 10  # the init step dominates cpu
    assert record.memory_request_bytes == (128 + 64 + 32 + 1) * 2**20  # containers dominate memory


def test_init_containers_in_trouble_are_listed_done_ones_are_not() -> None:
    pod = _pod()
    pod["status"]["initContainerStatuses"] = [
        {"name": "done", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "stuck", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
    ]
    names = [c.name for c in pod_record(pod).containers]
    assert names == ["app", "proxy", "stuck"]


def test_terminated_pod_without_last_state_reports_its_termination() -> None:
    pod = _pod()
    pod["status"]["containerStatuses"] = [
        {"name": "app", "restartCount": 0, "state": {"terminated": {"reason": "Error", "exitCode": 2}}}
    ]
    app = pod_record(pod).containers[0]
    assert (app.last_terminated_reason, app.last_exit_code) == ("Error", 2)


def test_malformed_quantity_counts_as_zero_not_a_crash() -> None:
    pod = _pod()
    pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "lots"
    assert pod_record(pod).cpu_request_millis == 100


def test_node_record() -> None:
    node = node_record(
        {
            "metadata": {"name": "node-1"},
            "spec": {"unschedulable": True},
            "status": {
                "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110"},
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "Unknown"}],
                "nodeInfo": {"kubeletVersion": "v1.29.4"},
            },
        }
    )
    assert node.name == "node-1" and node.unschedulable
    assert (node.allocatable_cpu_millis, node.allocatable_memory_bytes, node.allocatable_pods) == (
        3920,
        15 * 2**30,
        110,
    )
    assert node.ready is False
    assert node.kubelet_version == "v1.29.4"
    assert node_record({"metadata": {"name": "bare"}}).ready is None


def test_event_records_old_and_new_style() -> None:
    old = event_record(
        {
            "metadata": {"namespace": "default", "name": "node-1.17a"},
            "involvedObject": {"kind": "Node", "name": "node-1"},
            "reason": "NodeNotReady",
            "message": "Node is not ready\n",
            "count": 3,
            "lastTimestamp": "2025-01-06T09:10:00Z",
            "type": "Warning",
        }
    )
    assert (old.namespace, old.kind, old.name, old.count, old.last_seen) == (
        "",
        "Node",
        "node-1",
        3,
        "2025-01-06T09:10:00Z",
    )
    assert old.message == "Node is not ready"
    new = event_record(
        {
            "metadata": {"namespace": "shop", "name": "web.1"},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web"},
            "reason": "BackOff",
            "eventTime": "2025-01-06T09:00:00.000000Z",
            "series": {"count": 9, "lastObservedTime": "2025-01-06T09:20:00.000000Z"},
        }
    )
    assert (new.namespace, new.count, new.last_seen) == ("shop", 9, "2025-01-06T09:20:00.000000Z")


def test_metrics_api_usage() -> None:
    node = node_usage({"metadata": {"name": "n1"}, "usage": {"cpu": "123456789n", "memory": "2048Ki"}})
    assert (node.node, node.cpu_millis, node.memory_bytes) == ("n1", 124, 2 * 2**20)
    pod = pod_usage(
        {
            "metadata": {"namespace": "a", "name": "p"},
            "containers": [
                {"name": "x", "usage": {"cpu": "5m", "memory": "1Mi"}},
                {"name": "y", "usage": {"cpu": "1500000n", "memory": "1Mi"}},
            ],
        }
    )
    assert (pod.namespace, pod.pod, pod.cpu_millis, pod.memory_bytes) == ("a", "p", 7, 2 * 2**20)
