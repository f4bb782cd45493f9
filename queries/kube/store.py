"""The kube feed's in-memory stores of slim records, with the indexes drill-downs need.

Every index is kept up to date on each upsert/remove so no query walks all pods (a
cluster may hold 150,000); summaries that need sorting are cached until the next change.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.facts import EventRecord, NodeRecord, PodRecord, PodUsage
from k8stop.queries.model.node_addresses import NodeAddresses

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
OwnerKey = tuple[str, str, str]  # (namespace, kind, name)
K = TypeVar("K")
V = TypeVar("V")

# Waiting reasons that are just a container starting, not a problem
BENIGN_WAITING = frozenset({"ContainerCreating", "PodInitializing"})


def troubled(pod: PodRecord) -> bool:
    return any(c.restarts or (c.waiting_reason and c.waiting_reason not in BENIGN_WAITING) for c in pod.containers)


def _owner_key(pod: PodRecord) -> OwnerKey | None:
    if pod.owner_kind is None or pod.owner_name is None:
        return None
    return (pod.namespace, pod.owner_kind, pod.owner_name)


def _deployment_of(owner: OwnerKey) -> OwnerKey | None:
    """A Deployment names its ReplicaSets "<deployment>-<pod-template-hash>": the prefix lets a
    Deployment drill-down work without listing ReplicaSets."""
    namespace, kind, name = owner
    if kind == "ReplicaSet" and "-" in name:
        return (namespace, "Deployment", name.rsplit("-", 1)[0])
    return None


def _by_name(pods: Iterable[PodRecord]) -> tuple[PodRecord, ...]:
    return tuple(sorted(pods, key=lambda p: (p.namespace, p.name)))


class PodStore:
    """Pods by namespace and name, with per-node and per-owner indexes.

    Memory per pod is what 150,000 pods cost (bench/RESULTS.md): the records sit in one
    dict per namespace (no (namespace, name) tuple per pod), and the node and owner indexes
    are lists of the records themselves (a list slot is 8 bytes, a set slot ~30), searched by
    identity on removal: a node holds ~100 pods, an owner its replicas. A Deployment's pods
    are found through its ReplicaSets, one small set per Deployment, not a second entry per pod.
    """

    def __init__(self) -> None:
        self._pods: dict[str, dict[str, PodRecord]] = {}
        self._count = 0
        self._by_node: dict[str, list[PodRecord]] = {}
        self._by_owner: dict[OwnerKey, list[PodRecord]] = {}
        self._replicasets: defaultdict[OwnerKey, set[OwnerKey]] = defaultdict(set)  # Deployment -> its RSs
        self._phases: Counter[str] = Counter()
        self._troubled: dict[Key, PodRecord] = {}
        self._top: dict[int, tuple[PodRecord, ...]] = {}

    def __len__(self) -> int:
        return self._count

    def keys(self) -> set[Key]:
        return {(namespace, name) for namespace, pods in self._pods.items() for name in pods}

    def get(self, namespace: str, name: str) -> PodRecord | None:
        pods = self._pods.get(namespace)
        return pods.get(name) if pods is not None else None

    def upsert(self, pod: PodRecord) -> PodRecord | None:
        """Store `pod`; returns the record it replaced."""
        pods = self._pods.get(pod.namespace)
        if pods is None:
            pods = self._pods[pod.namespace] = {}
        old = pods.get(pod.name)
        if old is not None:
            self._unindex(old)
        else:
            self._count += 1
        pods[pod.name] = pod
        self._index(pod)
        return old

    def remove(self, key: Key) -> PodRecord | None:
        pods = self._pods.get(key[0])
        old = pods.pop(key[1], None) if pods is not None else None
        if old is not None:
            self._count -= 1
            self._unindex(old)
            if not pods:
                del self._pods[key[0]]
        return old

    def _index(self, pod: PodRecord) -> None:
        if pod.node:
            self._by_node.setdefault(pod.node, []).append(pod)
        owner = _owner_key(pod)
        if owner is not None:
            self._by_owner.setdefault(owner, []).append(pod)
            deployment = _deployment_of(owner)
            if deployment is not None:
                self._replicasets[deployment].add(owner)
        self._phases[pod.phase] += 1
        if troubled(pod):
            self._troubled[(pod.namespace, pod.name)] = pod
            self._top.clear()

    def _unindex(self, pod: PodRecord) -> None:
        if pod.node:
            _drop(self._by_node, pod.node, pod)
        owner = _owner_key(pod)
        if owner is not None and not _drop(self._by_owner, owner, pod):
            deployment = _deployment_of(owner)
            if deployment is not None:
                _discard(self._replicasets, deployment, owner)
        self._phases[pod.phase] -= 1
        if self._phases[pod.phase] <= 0:
            del self._phases[pod.phase]
        if self._troubled.pop((pod.namespace, pod.name), None) is not None:
            self._top.clear()

    def on_node(self, node: str) -> tuple[PodRecord, ...]:
        return _by_name(self._by_node.get(node, ()))

    def of_owner(self, namespace: str, kind: str, name: str) -> tuple[PodRecord, ...]:
        owner = (namespace, kind, name)
        pods = list(self._by_owner.get(owner, ()))
        for replicaset in self._replicasets.get(owner, ()):
            pods += self._by_owner.get(replicaset, ())
        return _by_name(pods)

    def phases(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(self._phases.items(), key=lambda item: (-item[1], item[0])))

    def all(self) -> Iterable[PodRecord]:
        """Every pod, in no order (a generator: iterate before the store changes)."""
        return (pod for pods in self._pods.values() for pod in pods.values())

    def troubled(self) -> Iterable[PodRecord]:
        """Pods with restarts or a container waiting for a bad reason; usually few."""
        return self._troubled.values()

    def top_restarts(self, count: int) -> tuple[PodRecord, ...]:
        cached = self._top.get(count)
        if cached is None:
            candidates = (p for p in self._troubled.values() if p.restarts)
            cached = tuple(heapq.nsmallest(count, candidates, key=lambda p: (-p.restarts, p.namespace, p.name)))
            self._top[count] = cached
        return cached


class NodeStore:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeRecord] = {}
        self._not_ready: set[str] = set()
        # Every Prometheus refresh names thousands of series through these; nodes change rarely
        self._sorted: tuple[NodeRecord, ...] | None = None
        self._addresses: NodeAddresses | None = None

    def __len__(self) -> int:
        return len(self._nodes)

    def keys(self) -> set[Key]:
        return {("", name) for name in self._nodes}

    def get(self, name: str) -> NodeRecord | None:
        return self._nodes.get(name)

    def upsert(self, node: NodeRecord) -> NodeRecord | None:
        old = self._nodes.get(node.name)
        self._nodes[node.name] = node
        self._sorted = None
        if old is None or old.addresses != node.addresses:  # a status heartbeat keeps the book
            self._addresses = None
        # Unknown readiness (no Ready condition yet) counts as not ready, as kubectl shows it
        if node.ready:
            self._not_ready.discard(node.name)
        else:
            self._not_ready.add(node.name)
        return old

    def remove(self, key: Key) -> NodeRecord | None:
        self._not_ready.discard(key[1])
        self._sorted = self._addresses = None
        return self._nodes.pop(key[1], None)

    def all(self) -> tuple[NodeRecord, ...]:
        if self._sorted is None:
            self._sorted = tuple(self._nodes[name] for name in sorted(self._nodes))
        return self._sorted

    def addresses(self) -> NodeAddresses:
        """Address -> node name, for naming scrape targets by their host: InternalIP wins
        over Hostname, as the kubelet and its scrapers use it."""
        if self._addresses is None:
            self._addresses = NodeAddresses(
                (address, node.name)
                for kind in NAMING_ADDRESSES[::-1]
                for node in self.all()
                for address_type, address in node.addresses
                if address_type == kind
            )
        return self._addresses

    def not_ready(self) -> tuple[str, ...]:
        return tuple(sorted(self._not_ready))


def seen_at(event: EventRecord) -> float:
    if not event.last_seen:
        return 0.0
    try:
        return datetime.fromisoformat(event.last_seen).timestamp()
    except ValueError:
        return 0.0


class EventStore:
    """Warning events keyed by the Event object's own (namespace, name)."""

    def __init__(self) -> None:
        self._events: dict[Key, EventRecord] = {}
        self._by_object: defaultdict[OwnerKey, set[Key]] = defaultdict(set)
        self._recent: dict[int, tuple[EventRecord, ...]] = {}

    def __len__(self) -> int:
        return len(self._events)

    def keys(self) -> set[Key]:
        return set(self._events)

    def upsert(self, key: Key, event: EventRecord) -> EventRecord | None:
        old = self.remove(key)
        self._events[key] = event
        self._by_object[(event.kind, event.namespace, event.name)].add(key)
        self._recent.clear()
        return old

    def remove(self, key: Key) -> EventRecord | None:
        old = self._events.pop(key, None)
        if old is not None:
            _discard(self._by_object, (old.kind, old.namespace, old.name), key)
            self._recent.clear()
        return old

    def recent(self, count: int) -> tuple[EventRecord, ...]:
        cached = self._recent.get(count)
        if cached is None:
            cached = tuple(heapq.nlargest(count, self._events.values(), key=seen_at))
            self._recent[count] = cached
        return cached

    def for_object(self, kind: str, namespace: str, name: str) -> tuple[EventRecord, ...]:
        keys = self._by_object.get((kind, namespace, name), ())
        return tuple(sorted((self._events[k] for k in keys), key=seen_at, reverse=True))


def _discard(index: dict[K, set[V]], at: K, member: V) -> None:
    members = index.get(at)
    if members is not None:
        members.discard(member)
        if not members:
            del index[at]


def _drop(index: dict[K, list[PodRecord]], at: K, pod: PodRecord) -> bool:
    """Remove `pod` itself (by identity: records compare by value, slowly) from index[at];
    False when that emptied the entry, which is then removed too."""
    members = index.get(at)
    if members is None:
        return True
    for i, member in enumerate(members):
        if member is pod:
            del members[i]
            break
    if members:
        return True
    del index[at]
    return False


NAMING_ADDRESSES = ("InternalIP", "Hostname")  # preferred first


class KubeReads:
    """The reads drill-downs make, over the three stores; shared by the live feed and a replay."""

    _nodes: NodeStore
    _pods: PodStore
    _events: EventStore

    def nodes(self) -> tuple[NodeRecord, ...]:
        return self._nodes.all()

    def node(self, name: str) -> NodeRecord | None:
        return self._nodes.get(name)

    def node_addresses(self) -> NodeAddresses:
        return self._nodes.addresses()

    def pod(self, namespace: str, name: str) -> PodRecord | None:
        return self._pods.get(namespace, name)

    def pods_on_node(self, name: str) -> tuple[PodRecord, ...]:
        return self._pods.on_node(name)

    def all_pods(self) -> tuple[PodRecord, ...]:
        """Every synced pod (the pod list reads them once per refresh)."""
        return tuple(self._pods.all())

    def pods_of_owner(self, namespace: str, kind: str, name: str) -> tuple[PodRecord, ...]:
        """Pods whose controller is kind/name; kind "Deployment" matches through the
        ReplicaSets it names "<deployment>-<hash>"."""
        return self._pods.of_owner(namespace, kind, name)

    def events_for(self, kind: str, namespace: str, name: str) -> tuple[EventRecord, ...]:
        """Warning events about one object, newest first; namespace "" for nodes."""
        return self._events.for_object(kind, namespace, name)

    def recent_warnings(self, count: int) -> tuple[EventRecord, ...]:
        """The `count` Warning events seen last, cluster-wide, newest first."""
        return self._events.recent(count)

    async def pod_usage(self) -> tuple[PodUsage, ...]:
        """Pod CPU and memory now (metrics-server); only a live feed can ask."""
        raise NotExposed("pod usage is not recorded")
