"""The cluster model: stores per kind, one global resourceVersion, and the watch history.

Mutations are thread-safe (tests mutate from their own thread while the server runs in
another) and each one bumps the resourceVersion, as etcd's revision does, and notifies
listeners (the server's watchers).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from .objects import Obj, node_condition, now_stamp
from .store import Store

KINDS: dict[str, tuple[str, bool]] = {  # resource -> (Kind, namespaced)
    "namespaces": ("Namespace", False),
    "nodes": ("Node", False),
    "pods": ("Pod", True),
    "events": ("Event", True),
    "services": ("Service", True),
    "configmaps": ("ConfigMap", True),
}


@dataclass(frozen=True, slots=True)
class WatchEvent:
    rv: int
    resource: str
    type: str  # ADDED | MODIFIED | DELETED
    obj: Obj


class Expired(Exception):
    """The requested resourceVersion is older than the retained history (HTTP 410)."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class Cluster:
    def __init__(self, stores: Iterable[Store], resource_version: int = 1, history_limit: int = 5000) -> None:
        self.stores: dict[str, Store] = {s.kind: s for s in stores}
        for kind, (_, namespaced) in KINDS.items():
            self.stores.setdefault(kind, Store(kind, namespaced))
        self.lock = threading.RLock()
        self.scenario: Any = None  # the tests/scenario.py Scenario it was built from, if any (its /metrics)
        self._rv = resource_version
        self._history: deque[WatchEvent] = deque()
        self._history_limit = history_limit
        self._floor = resource_version  # watches from an rv below this get 410
        self._listeners: list[Callable[[WatchEvent], None]] = []
        # Container logs served at pods/NAME/log: (namespace, pod, container, previous) -> lines
        self.logs: dict[tuple[str, str, str, bool], list[str]] = {}

    # --- construction -------------------------------------------------------------------

    @classmethod
    def small(cls) -> Cluster:
        """3 control-plane + 3 worker nodes, ~30 pods incl. an OOMKilled CrashLoopBackOff deployment."""
        from .scenario import small_cluster_objects

        cluster = cls(())
        cluster.load(small_cluster_objects())
        return cluster

    @classmethod
    def generate(cls, nodes: int, pods: int, seed: int = 1, replicas: int = 10) -> Cluster:
        """A lazily rendered cluster of any size; only mutated objects take memory."""
        from .generated import generated_stores

        stores, extras, rv = generated_stores(nodes=nodes, pods=pods, seed=seed, replicas=replicas)
        cluster = cls(stores, resource_version=rv)
        cluster.load(extras)
        return cluster

    @classmethod
    def from_objects(cls, objects: Iterable[tuple[str, Obj]]) -> Cluster:
        cluster = cls(())
        cluster.load(objects)
        return cluster

    def load(self, objects: Iterable[tuple[str, Obj]]) -> None:
        """Initial state: stored with fresh resourceVersions but no watch events."""
        with self.lock:
            for resource, obj in objects:
                self._rv += 1
                obj["metadata"]["resourceVersion"] = str(self._rv)
                self.stores[resource].put(obj)
            self._floor = self._rv
            self._history.clear()

    # --- reads ---------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def oldest_resource_version(self) -> int:
        """The oldest rv a watch may start from; older ones get 410."""
        return self._floor

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        """A deep copy, safe to edit and pass back to `replace`."""
        obj = self.stores[resource].get(namespace, name)
        return None if obj is None else orjson.loads(orjson.dumps(obj))

    def events_since(self, resource: str, rv: int) -> list[WatchEvent]:
        with self.lock:
            if rv < self._floor:
                raise Expired(rv, self._floor)
            return [e for e in self._history if e.rv > rv and e.resource == resource]

    def subscribe(self, listener: Callable[[WatchEvent], None]) -> None:
        with self.lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[WatchEvent], None]) -> None:
        with self.lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # --- mutations -----------------------------------------------------------------------

    def _emit(self, resource: str, type_: str, obj: Obj) -> WatchEvent:
        with self.lock:
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            store = self.stores[resource]
            if type_ == "DELETED":
                store.remove(*store.key_of(obj))
            else:
                store.put(obj)
            event = WatchEvent(self._rv, resource, type_, obj)
            self._history.append(event)
            if len(self._history) > self._history_limit:
                self._floor = self._history.popleft().rv
            for listener in list(self._listeners):
                listener(event)
            return event

    def add(self, resource: str, obj: Obj) -> WatchEvent:
        obj["metadata"].setdefault("creationTimestamp", now_stamp())
        with self.lock:
            existing = self.stores[resource].get(*self.stores[resource].key_of(obj))
            return self._emit(resource, "MODIFIED" if existing is not None else "ADDED", obj)

    def replace(self, resource: str, obj: Obj) -> WatchEvent:
        return self.add(resource, obj)

    def update(self, resource: str, namespace: str, name: str, change: Callable[[Obj], None]) -> WatchEvent:
        with self.lock:
            obj = self.get(resource, namespace, name)
            if obj is None:
                raise KeyError(f"{resource} {namespace}/{name} not found")
            change(obj)
            return self._emit(resource, "MODIFIED", obj)

    def delete(self, resource: str, namespace: str, name: str) -> WatchEvent:
        with self.lock:
            obj = self.get(resource, namespace, name)
            if obj is None:
                raise KeyError(f"{resource} {namespace}/{name} not found")
            return self._emit(resource, "DELETED", obj)

    def bump_restarts(
        self,
        namespace: str,
        name: str,
        container: str | None = None,
        reason: str = "OOMKilled",
        exit_code: int = 137,
        waiting: str = "CrashLoopBackOff",
    ) -> WatchEvent:
        """One more restart of `container` (default: the first), leaving it waiting in `waiting`."""

        def change(pod: Obj) -> None:
            statuses = pod["status"].get("containerStatuses") or []
            target = next((s for s in statuses if container in (None, s["name"])), None)
            if target is None:
                raise KeyError(f"pod {namespace}/{name} has no container status {container or ''}")
            when = now_stamp()
            target["restartCount"] += 1
            target["ready"] = False
            target["started"] = False
            target["lastState"] = {
                "terminated": {
                    "exitCode": exit_code,
                    "reason": reason,
                    "startedAt": when,
                    "finishedAt": when,
                    "containerID": target.get("containerID", ""),
                }
            }
            target["state"] = {
                "waiting": {
                    "reason": waiting,
                    "message": f"back-off restarting failed container={target['name']} pod={name}_{namespace}",
                }
            }
            for cond in pod["status"].get("conditions", []):
                if cond["type"] in ("Ready", "ContainersReady"):
                    cond["status"] = "False"

        return self.update("pods", namespace, name, change)

    def set_pod_phase(self, namespace: str, name: str, phase: str) -> WatchEvent:
        return self.update("pods", namespace, name, lambda pod: pod["status"].__setitem__("phase", phase))

    def set_node_condition(self, node: str, type_: str, status: str, reason: str = "", message: str = "") -> WatchEvent:
        def change(obj: Obj) -> None:
            conditions = obj["status"].setdefault("conditions", [])
            new = node_condition(type_, status, reason, message, now_stamp())
            for i, cond in enumerate(conditions):
                if cond["type"] == type_:
                    conditions[i] = new
                    return
            conditions.append(new)

        return self.update("nodes", "", node, change)

    def compact(self) -> None:
        """Forget the watch history (as etcd compaction does): older rvs now get 410."""
        with self.lock:
            self._history.clear()
            self._floor = self._rv

    def overrides(self) -> int:
        return sum(s.overrides() for s in self.stores.values())
