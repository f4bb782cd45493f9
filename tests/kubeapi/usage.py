"""metrics.k8s.io NodeMetrics/PodMetrics derived from objects, deterministic unless set by a test."""

from __future__ import annotations

import threading
import zlib

from .objects import Obj, now_stamp

Usage = tuple[int, int]  # (cpu millicores, memory KiB)


def _default(name: str, cpu_cap_m: int, mem_cap_ki: int) -> Usage:
    h = zlib.crc32(name.encode())
    return 20 + h % max(1, cpu_cap_m // 2), 65536 + (h >> 8) % max(1, mem_cap_ki // 2)


def _quantity_m(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


class UsageBook:
    """Usage a test pinned with `set`; everything else comes from a hash of the name."""

    def __init__(self) -> None:
        self._pinned: dict[tuple[str, str, str], Usage] = {}
        self._lock = threading.Lock()

    def set(self, resource: str, namespace: str, name: str, cpu_m: int, memory_ki: int) -> None:
        """Pin a node's total or a pod's total (split evenly over its containers)."""
        with self._lock:
            self._pinned[(resource, namespace, name)] = (cpu_m, memory_ki)

    def node_metrics(self, node: Obj) -> Obj:
        meta = node["metadata"]
        alloc = node["status"].get("allocatable", {})
        cpu_m = _quantity_m(alloc.get("cpu", "4"))
        mem_ki = int(alloc.get("memory", "8388608Ki").removesuffix("Ki"))
        cpu, mem = self._pinned.get(("nodes", "", meta["name"])) or _default(meta["name"], cpu_m, mem_ki)
        return {
            "metadata": {"name": meta["name"], "creationTimestamp": now_stamp(), "labels": meta.get("labels", {})},
            "timestamp": now_stamp(),
            "window": "20.05s",
            "usage": {"cpu": f"{cpu}m", "memory": f"{mem}Ki"},
        }

    def pod_metrics(self, pod: Obj) -> Obj | None:
        """None for pods metrics-server would not report (not running)."""
        if pod["status"].get("phase") != "Running":
            return None
        meta = pod["metadata"]
        containers = [c["name"] for c in pod["spec"]["containers"]]
        pinned = self._pinned.get(("pods", meta["namespace"], meta["name"]))
        usage = []
        for name in containers:
            if pinned:
                cpu, mem = pinned[0] // len(containers), pinned[1] // len(containers)
            else:
                cpu, mem = _default(f"{meta['namespace']}/{meta['name']}/{name}", 400, 524288)
            usage.append({"name": name, "usage": {"cpu": f"{cpu}m", "memory": f"{mem}Ki"}})
        return {
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "creationTimestamp": now_stamp(),
                "labels": meta.get("labels", {}),
            },
            "timestamp": now_stamp(),
            "window": "18.937s",
            "containers": usage,
        }
