"""Live nodes, pods and Warning events from the kube API: list once, then watch.

Each resource runs its own loop the way client-go's reflector does: a paginated list
(resourceVersion=0 first, served from the API server's watch cache), then a watch from
the list's resourceVersion with bookmarks, a server-side timeout and a client read
timeout; 410 Gone means list again; other failures back off exponentially, honouring
Retry-After. Only GET requests are ever made.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from k8stop.queries.kube.connection import KubeConnection
from k8stop.queries.kube.errors import KubeApiError, ResourceGone
from k8stop.queries.kube.gc_pause import paused_gc
from k8stop.queries.kube.parse import event_record, node_record, node_usage, pod_record, pod_usage
from k8stop.queries.kube.restarts import RestartTracker
from k8stop.queries.kube.store import EventStore, Key, KubeReads, NodeStore, PodStore
from k8stop.queries.model.errors import NotExposed, describe
from k8stop.queries.model.facts import (
    KubeSummary,
    NodeSaturation,
    NodesFacts,
    NodeUsage,
    PodUsage,
    RestartsFacts,
)
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.queries.model.values import ABSENT, Value

MAX_BACKOFF = 30.0
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Resource:
    name: str  # "pods", also the key of its status
    path: str
    what: str  # kubectl words for error messages: "list pods in namespace shop"
    field_selector: str | None = None


class _Track:
    """Mutable bookkeeping behind one resource's FeedStatus."""

    def __init__(self) -> None:
        self.state = FeedState.WAITING
        self.reason = ""
        self.since: float | None = None
        self.updated_at: float | None = None
        self.listed = False  # has completed a list at least once
        self.settled = False  # the first attempt ended: listed, or failed (the state says why)

    def status(self) -> FeedStatus:
        return FeedStatus(self.state, self.reason, self.since, self.updated_at)


def backoff(failures: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** max(0, failures - 1))


class KubeFeed(KubeReads):
    """Holds slim records of the cluster, kept current by list+watch in the background.

    `namespace` limits pods and events to one namespace (nodes are always cluster-wide).
    """

    def __init__(
        self,
        connection: KubeConnection,
        namespace: str | None = None,
        *,
        page_size: int = 500,
        watch_timeout: int = 300,
        top: int = 10,
        recent_events: int = 20,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.connection = connection
        self.namespace = namespace
        self._page_size = page_size
        self._watch_timeout = watch_timeout
        self._top = top
        self._recent_events = recent_events
        self._clock = clock
        self._sleep = sleep
        self._pods = PodStore()
        self._nodes = NodeStore()
        self._events = EventStore()
        self._restarts = RestartTracker(started=clock())
        scope = f"/api/v1/namespaces/{namespace}" if namespace else "/api/v1"
        where = f" in namespace {namespace}" if namespace else " at cluster scope"
        self._resources = (
            _Resource("nodes", "/api/v1/nodes", "list nodes at cluster scope"),
            _Resource("pods", f"{scope}/pods", f"list pods{where}"),
            _Resource("events", f"{scope}/events", f"list events{where}", "type=Warning"),
        )
        self._tracks = {r.name: _Track() for r in self._resources}
        self._settled = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.requests: Counter[str] = Counter()  # what k8stop itself asked of the API server

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Begin the background list+watch loops; returns at once."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._run(r), name=f"kube-feed-{r.name}") for r in self._resources]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def wait_settled(self) -> None:
        """Until every resource's first attempt ended: listed, or failed (see statuses)."""
        await self._settled.wait()

    # --- reads (cheap; safe before the initial sync finished) -----------------------------

    def summary(self) -> KubeSummary:
        return KubeSummary(
            synced=self._settled.is_set(),
            node_count=len(self._nodes),
            pod_count=len(self._pods),
            not_ready_nodes=self._nodes.not_ready(),
            pods_by_phase=self._pods.phases(),
            top_restarts=self._pods.top_restarts(self._top),
            recent_warnings=self._events.recent(self._recent_events),
        )

    def statuses(self) -> dict[str, FeedStatus]:
        return {name: track.status() for name, track in self._tracks.items()}

    def status(self) -> FeedStatus:
        """The feed as one status: the worst resource's state, the others as warnings."""
        order = (FeedState.ERROR, FeedState.STALE, FeedState.WAITING, FeedState.OK)
        statuses = self.statuses()
        worst_name = min(statuses, key=lambda n: order.index(statuses[n].state))
        worst = statuses[worst_name]
        warnings = tuple(f"{name}: {s.reason}" for name, s in statuses.items() if s.reason and name != worst_name)
        reason = f"{worst_name}: {worst.reason}" if worst.reason else ""
        updated = [s.updated_at for s in statuses.values() if s.updated_at is not None]
        return FeedStatus(worst.state, reason, worst.since, min(updated, default=None), warnings)

    def restarts_fallback(self, top: int = 10) -> RestartsFacts:
        """Restarts per container without kube-state-metrics. The API has no history,
        so counts within the hour are estimates (lower bounds until k8stop has watched
        for an hour): see kube_restarts.RestartTracker."""
        return self._restarts.facts(self._pods.troubled(), self._clock(), top)

    # --- one-shot GETs ----------------------------------------------------------------------

    async def version(self) -> str:
        self.requests["get version"] += 1
        return await self.connection.version()

    async def node_usage(self) -> tuple[NodeUsage, ...]:
        data = await self._metrics("/apis/metrics.k8s.io/v1beta1/nodes", "nodes")
        return tuple(node_usage(item) for item in data.get("items") or ())

    async def pod_usage(self) -> tuple[PodUsage, ...]:
        scope = f"/namespaces/{self.namespace}" if self.namespace else ""
        data = await self._metrics(f"/apis/metrics.k8s.io/v1beta1{scope}/pods", "pods")
        return tuple(pod_usage(item) for item in data.get("items") or ())

    async def _metrics(self, path: str, kind: str) -> Json:
        self.requests[f"list {kind}.metrics.k8s.io"] += 1
        try:
            data = await self.connection.get_json(path, what=f"list {kind}.metrics.k8s.io")
        except KubeApiError as exc:
            if exc.status in (404, 503):
                raise NotExposed(
                    "metrics.k8s.io is not served (no metrics-server): "
                    "node CPU/memory need node-exporter or metrics-server"
                ) from None
            raise
        return data if isinstance(data, dict) else {}

    async def nodes_fallback(self, top: int) -> NodesFacts:
        """Node saturation as `kubectl top node` computes it: metrics.k8s.io usage over
        allocatable. Disk and load are not in that API: ABSENT."""
        rows = []
        for usage in await self.node_usage():
            node = self._nodes.get(usage.node)
            rows.append(
                NodeSaturation(
                    node=usage.node,
                    cpu=_ratio(usage.cpu_millis, node.allocatable_cpu_millis if node else 0),
                    memory=_ratio(usage.memory_bytes, node.allocatable_memory_bytes if node else 0),
                    disk=ABSENT,
                    load1_per_cpu=ABSENT,
                    named_by="metrics.k8s.io",  # the kube API's own node names
                )
            )
        rows.sort(key=lambda s: (-s.worst, s.node))
        return NodesFacts(source="metrics-server", worst=tuple(rows[:top]), total=len(rows))

    # --- list + watch -----------------------------------------------------------------------

    async def _run(self, resource: _Resource) -> None:
        failures = 0
        list_rv = "0"  # the first list may come from the watch cache: cheap for the server
        watch_rv: str | None = None
        while True:
            try:
                if watch_rv is None:
                    watch_rv = await self._list(resource, list_rv)
                watch_rv = await self._watch(resource, watch_rv)
                failures = 0
            except ResourceGone:
                # The cache no longer holds our version: list again, consistently from etcd
                watch_rv, list_rv = None, ""
            except KubeApiError as exc:
                failures += 1
                self._failed(resource, str(exc))
                await self._sleep(exc.retry_after if exc.retry_after is not None else backoff(failures))
            except Exception as exc:  # a malformed answer must not end the loop for good
                failures += 1
                self._failed(resource, describe(exc))
                await self._sleep(backoff(failures))

    def _ok(self, resource: _Resource) -> None:
        track = self._tracks[resource.name]
        track.state, track.reason, track.since = FeedState.OK, "", None
        track.updated_at = self._clock()

    def _failed(self, resource: _Resource, reason: str) -> None:
        track = self._tracks[resource.name]
        state = FeedState.STALE if track.listed else FeedState.ERROR
        if track.state is not state:
            track.since = self._clock()
        track.state, track.reason = state, reason
        self._settle(track)

    def _settle(self, track: _Track) -> None:
        track.settled = True
        if all(t.settled for t in self._tracks.values()):
            self._settled.set()

    def _base_params(self, resource: _Resource) -> list[tuple[str, str | int | bool]]:
        return [("fieldSelector", resource.field_selector)] if resource.field_selector else []

    async def _list(self, resource: _Resource, resource_version: str) -> str:
        """Page through the list; returns the resourceVersion to watch from.

        The next page is requested before this one's items become records, so the
        server renders page n+1 while k8stop digests page n."""
        seen: set[Key] = set()
        page = await self._page(resource, "", resource_version)
        while True:
            metadata = page.get("metadata") or {}
            token = metadata.get("continue") or ""
            ahead = asyncio.create_task(self._page(resource, token, "")) if token else None
            try:
                now = self._clock()
                with paused_gc():
                    for item in page.get("items") or ():
                        seen.add(self._apply(resource.name, "ADDED", item, now))
            except BaseException:
                if ahead is not None:
                    ahead.cancel()
                raise
            if ahead is None:
                break
            page = await ahead
        for key in self._keys(resource.name) - seen:
            self._delete(resource.name, key)
        track = self._tracks[resource.name]
        track.listed = True
        self._ok(resource)
        self._settle(track)
        return str(metadata.get("resourceVersion") or "")

    async def _page(self, resource: _Resource, token: str, resource_version: str) -> Json:
        params = self._base_params(resource) + [("limit", self._page_size)]
        if token:
            params.append(("continue", token))  # the token pins the version already
        elif resource_version:
            params.append(("resourceVersion", resource_version))
        self.requests[f"list {resource.name}"] += 1
        page: Json = await self.connection.get_json(resource.path, params, what=resource.what, timeout=60.0)
        return page

    async def _watch(self, resource: _Resource, resource_version: str) -> str:
        """Follow changes until the server ends the watch; returns the latest version."""
        params = self._base_params(resource) + [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", self._watch_timeout),
            ("resourceVersion", resource_version),
        ]
        what = resource.what.replace("list ", "watch ", 1)
        self.requests[f"watch {resource.name}"] += 1
        # Bookmarks arrive about once a minute; silence well past the server's own
        # timeout means the connection is dead
        read_timeout = self._watch_timeout + 30.0
        async with self.connection.stream(resource.path, params, what=what, read_timeout=read_timeout) as response:
            self._ok(resource)
            buffer = bytearray()
            try:
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    while (end := buffer.find(b"\n")) >= 0:
                        line = bytes(buffer[:end])
                        del buffer[: end + 1]
                        resource_version = self._on_event(resource, line, resource_version)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                detail = str(exc).strip() or type(exc).__name__
                raise KubeApiError(f"{what} interrupted: {detail}") from None
            if buffer.strip():
                resource_version = self._on_event(resource, bytes(buffer), resource_version)
        return resource_version

    def _on_event(self, resource: _Resource, line: bytes, resource_version: str) -> str:
        if not line.strip():
            return resource_version
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise KubeApiError(f"{resource.what}: undecodable watch event") from None
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise ResourceGone(f"watch {resource.name}: {obj.get('message', 'expired')}", 410)
            raise KubeApiError(f"watch {resource.name}: {obj.get('message', 'error')}", int(code or 0))
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind == "DELETED":
            self._delete(resource.name, _key(obj))
        elif kind in ("ADDED", "MODIFIED"):
            self._apply(resource.name, kind, obj, self._clock())
        self._tracks[resource.name].updated_at = self._clock()
        return str(version) if version else resource_version

    def _apply(self, name: str, kind: str, obj: Json, now: float) -> Key:
        if name == "pods":
            pod = pod_record(obj)
            old = self._pods.upsert(pod)
            self._restarts.observe(old, pod, now)
            return (pod.namespace, pod.name)
        if name == "nodes":
            self._nodes.upsert(node_record(obj))
            return _key(obj)
        key = _key(obj)
        self._events.upsert(key, event_record(obj))
        return key

    def _delete(self, name: str, key: Key) -> None:
        if name == "pods":
            pod = self._pods.remove(key)
            if pod is not None:
                self._restarts.forget(pod)
        elif name == "nodes":
            self._nodes.remove(key)
        else:
            self._events.remove(key)

    def _keys(self, name: str) -> set[Key]:
        if name == "pods":
            return self._pods.keys()
        if name == "nodes":
            return self._nodes.keys()
        return self._events.keys()


def _key(obj: Json) -> Key:
    metadata = obj.get("metadata") or {}
    return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _ratio(used: int, total: int) -> Value:
    return Value.of(used / total) if total > 0 else ABSENT
