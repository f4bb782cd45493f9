"""Live nodes, pods and Warning events from the kube API: list once, then watch.

Each resource runs its own loop the way client-go's reflector does: a paginated list
(resourceVersion=0 first, served from the API server's watch cache), then a watch from
the list's resourceVersion with bookmarks, a server-side timeout and a client read
timeout; 410 Gone means list again; other failures back off exponentially with jitter,
honouring Retry-After (clamped, see errors.retry_after_seconds). Only GET requests are ever made.

A broken or hostile server must not turn that loop into a storm: a 410 right after a
relist, a watch the server ends at once, or a continue token returned twice counts as a
failure (backoff), and the resource shows as STALE with the reason instead of "live" until a
watch runs normally again. Objects that do not parse are skipped and counted, so one bad
pod does not blind the feed; watch lines are scanned once and capped in length.

Where the server supports it, the list is a streaming list (KEP-3157 WatchList): one watch
with sendInitialEvents=true sends the current state as ADDED events, ends it with a bookmark
annotated k8s.io/initial-events-end, then carries on as a watch; it spares the API server
rendering whole pages. A server that rejects it (400/403/422) or ignores it (a watch that
bookmarks or ends without that annotation) is detected, not assumed from its version, and
that resource goes back to paged LISTs for the life of the feed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from k8stop.queries.http_limits import TooLarge, too_large
from k8stop.queries.kube.connection import KubeConnection
from k8stop.queries.kube.errors import KubeApiError, ResourceGone
from k8stop.queries.kube.gc_pause import paused_gc
from k8stop.queries.kube.malloc_tuning import mmap_large_buffers
from k8stop.queries.kube.parse import event_record, node_record, node_usage, pod_record, pod_usage
from k8stop.queries.kube.restarts import RestartTracker
from k8stop.queries.kube.store import EventStore, Key, KubeReads, NodeStore, PodStore
from k8stop.queries.model.errors import NotExposed, describe
from k8stop.queries.model.facts import (
    RESTARTS_SHOWN,
    KubeSummary,
    NodeSaturation,
    NodesFacts,
    NodeUsage,
    PodUsage,
    RestartsFacts,
    SyncProgress,
)
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.queries.model.values import ABSENT, Value

MAX_BACKOFF = 30.0
JITTER = 0.75  # backoffs are drawn from [JITTER, 1] x the exponential step
# Far more pages than any real list needs (5 M objects at 500 a page): a server handing out
# fresh continue tokens forever is stopped here
MAX_PAGES = 10_000
# A watch that lasts this long (or half its timeoutSeconds, if shorter) counts as progress
PRODUCTIVE_WATCH = 10.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
# How a server without streaming lists refuses one: validation (422, 400) or a proxy's policy (403)
STREAM_REJECTED = frozenset({400, 403, 422})
STREAMING, PAGED = "streaming list (WatchList)", "paged list"
Json = dict[str, Any]


class _NotStreamed(Exception):
    """The server rejected or ignored a streaming list: use paged LISTs instead."""


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
        self.looping = False  # the server keeps the list/watch cycle from progressing: not "live"
        self.watch_started = 0.0  # loop time the current watch opened
        # The last watch broke after its stream opened (endless line, cut event, ERROR): a
        # new stream opening proves nothing until an event arrives through it
        self.broke_after_open = False
        self.malformed: set[tuple[str, str]] = set()  # objects skipped because they do not parse
        # The first sync's progress (SyncProgress), on the monotonic clock
        self.pages = 0
        self.objects = 0
        self.expected: int | None = None
        self.sync_started = time.monotonic()
        self.progressed = self.sync_started  # when the last page (or streamed object) arrived
        self.streaming: bool | None = None  # streaming lists work (None: not tried yet)
        self.path = ""  # how the last full sync came: STREAMING or PAGED
        # While a streaming list's initial state arrives: the keys held before it that it has
        # not sent yet (what is left at its end is gone); None otherwise
        self.stale: set[Key] | None = None
        self.initial_malformed: set[Key] = set()
        self.initial_opened = False  # the current watch's stream opened (a refusal came after)

    def status(self) -> FeedStatus:
        return FeedStatus(self.state, self.reason, self.since, self.updated_at)


def backoff(failures: int, jitter: float = 1.0) -> float:
    """1, 2, 4 ... 30 s, scaled by `jitter` (drawn from [JITTER, 1]) so that many clients
    failing together do not retry in lockstep; a quarter keeps recovery after a short fault
    close to the unjittered schedule."""
    return min(MAX_BACKOFF, 2.0 ** max(0, failures - 1)) * jitter


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
        rng: random.Random | None = None,
        watch_list: bool = True,
    ) -> None:
        self.connection = connection
        self.namespace = namespace
        self._page_size = page_size
        self._watch_timeout = watch_timeout
        self._top = top
        self._recent_events = recent_events
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._productive_watch = min(PRODUCTIVE_WATCH, watch_timeout / 2)
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
        if not watch_list:
            for track in self._tracks.values():
                track.streaming = False
        self._settled = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.requests: Counter[str] = Counter()  # what k8stop itself asked of the API server

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Begin the background list+watch loops; returns at once."""
        mmap_large_buffers()
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
            list_path=self._tracks["pods"].path,
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
        warnings += self.malformed_warnings()
        reason = f"{worst_name}: {worst.reason}" if worst.reason else ""
        updated = [s.updated_at for s in statuses.values() if s.updated_at is not None]
        return FeedStatus(worst.state, reason, worst.since, min(updated, default=None), warnings)

    def malformed_warnings(self) -> tuple[str, ...]:
        """One warning per resource with objects skipped as malformed (counts, no data)."""
        return tuple(
            f"{name}: {len(track.malformed)} malformed object{'s' if len(track.malformed) != 1 else ''} "
            "skipped (not shown or counted)"
            for name, track in self._tracks.items()
            if track.malformed
        )

    def sync_progress(self, resource: str = "pods") -> SyncProgress | None:
        """How far `resource`'s first sync has got; None once it has listed."""
        track = self._tracks[resource]
        if track.listed:
            return None
        elapsed = time.monotonic() - track.sync_started
        streaming = track.stale is not None
        return SyncProgress(resource, track.pages, track.objects, track.expected, elapsed, streaming)

    def list_paths(self) -> dict[str, str]:
        """How each resource's last full sync came: STREAMING or PAGED ("" before the first)."""
        return {name: track.path for name, track in self._tracks.items()}

    def idle_for(self) -> float:
        """Seconds since a resource still in its first sync last received anything; 0 when
        all have synced or failed. A list that keeps delivering pages is slow, not stuck."""
        now = time.monotonic()
        return max((now - t.progressed for t in self._tracks.values() if not t.settled), default=0.0)

    def restarts_fallback(self, top: int = RESTARTS_SHOWN) -> RestartsFacts:
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
        track = self._tracks[resource.name]
        loop = asyncio.get_running_loop()
        failures = 0  # attempts since the last watch that ran normally: drives the backoff
        stalled = 0  # watches in a row that ended (or expired) at once; the first is retried at once
        list_rv = "0"  # the first list may come from the watch cache: cheap for the server
        watch_rv: str | None = None
        while True:
            retry_after: float | None = None
            try:
                if watch_rv is None and track.streaming is not False:
                    try:
                        watch_rv = await self._watch(resource, "", stream=True)
                    except _NotStreamed:
                        track.streaming, track.stale, track.broke_after_open = False, None, False
                        continue
                else:
                    if watch_rv is None:
                        watch_rv = await self._list(resource, list_rv)
                    watch_rv = await self._watch(resource, watch_rv)
                if loop.time() - track.watch_started >= self._productive_watch:
                    failures, stalled, track.looping = 0, 0, False
                    continue
                stalled += 1
                if stalled == 1 and failures == 0:
                    continue
                problem = f"the server ends every watch at once ({stalled} in a row): retrying with backoff"
                track.looping = True
            except ResourceGone:
                # The cache no longer holds our version: list again, consistently from etcd
                watch_rv, list_rv = None, ""
                if loop.time() - track.watch_started >= self._productive_watch:
                    failures, stalled = 0, 0
                stalled += 1
                if stalled == 1 and failures == 0:
                    continue
                problem = f"the watch keeps expiring: 410 Gone right after a relist ({stalled} in a row); relisting with backoff"
                track.looping = True
            except KubeApiError as exc:
                problem, retry_after = str(exc), exc.retry_after
            except TooLarge as exc:
                if watch_rv is None and list_rv == "0" and track.streaming is False:
                    # Older API servers ignore `limit` when serving resourceVersion=0 from the
                    # watch cache: the whole list in one body. Page through etcd instead.
                    list_rv = ""
                    continue
                problem = str(exc)
            except Exception as exc:  # a malformed answer must not end the loop for good
                problem = describe(exc)
            failures += 1
            self._failed(resource, problem)
            delay = backoff(failures, self._rng.uniform(JITTER, 1.0))
            await self._sleep(max(delay, retry_after) if retry_after is not None else delay)

    def _ok(self, resource: _Resource) -> None:
        track = self._tracks[resource.name]
        track.updated_at = self._clock()
        if not track.looping:  # while looping the data is fresh but the feed is not "live"
            track.state, track.reason, track.since = FeedState.OK, "", None

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
        # What was held before and the list has not sent yet: gone at its end. Only the keys
        # already held, not a set of every key listed (none on the first sync)
        stale = self._keys(resource.name)
        tokens: set[str] = set()
        malformed: set[Key] = set()
        track = self._tracks[resource.name]
        track.pages, track.objects, track.expected = 0, 0, None
        page = await self._page(resource, "", resource_version)
        while True:
            metadata = page.get("metadata") or {}
            items = page.get("items") or ()
            token = str(metadata.get("continue") or "")
            if token in tokens or len(tokens) >= MAX_PAGES:
                raise KubeApiError(
                    f"{resource.what}: the server returned "
                    + ("the same continue token twice" if token in tokens else f"more than {MAX_PAGES} pages")
                    + ": stopped paging (a broken or misbehaving API server or proxy)"
                )
            if token:
                tokens.add(token)
            ahead = asyncio.create_task(self._page(resource, token, "")) if token else None
            self._progress(track, len(items), metadata.get("remainingItemCount") if token else 0)
            try:
                now = self._clock()
                with paused_gc():
                    for item in items:
                        key, applied = self._apply(resource.name, item, now)
                        if applied:
                            stale.discard(key)
                        else:
                            malformed.add(key)
            except BaseException:
                if ahead is not None:
                    ahead.cancel()
                raise
            if ahead is None:
                break
            del page, items  # the next page is parsed while we wait: never hold two at once
            page = await ahead
        self._synced(resource, stale, malformed, PAGED)
        return str(metadata.get("resourceVersion") or "")

    def _synced(self, resource: _Resource, stale: set[Key], malformed: set[Key], path: str) -> None:
        """A full sync ended: what was held before and it did not send (`stale`) is gone."""
        for key in stale:
            self._delete(resource.name, key)
        track = self._tracks[resource.name]
        track.malformed = malformed
        track.listed = True
        track.path = path
        self._ok(resource)
        self._settle(track)

    @staticmethod
    def _progress(track: _Track, objects: int, remaining: Any) -> None:
        """A page (or streamed objects) arrived; `remaining` is the server's remainingItemCount."""
        track.pages += 1
        track.objects += objects
        track.progressed = time.monotonic()
        if isinstance(remaining, int) and not isinstance(remaining, bool) and remaining >= 0:
            track.expected = track.objects + remaining
        else:
            track.expected = None

    async def _page(self, resource: _Resource, token: str, resource_version: str) -> Json:
        params = self._base_params(resource) + [("limit", self._page_size)]
        if token:
            params.append(("continue", token))  # the token pins the version already
        elif resource_version:
            params.append(("resourceVersion", resource_version))
        self.requests[f"list {resource.name}"] += 1
        page = await self.connection.get_json(resource.path, params, what=resource.what, timeout=60.0)
        if not isinstance(page, dict):
            raise KubeApiError(f"{resource.what}: the answer is not a list object")
        return page

    async def _watch(self, resource: _Resource, resource_version: str, stream: bool = False) -> str:
        """Follow changes until the server ends the watch; returns the latest version.

        `stream`: a streaming list, whose first events are the current state (see the module
        docstring); raises _NotStreamed when the server rejects or ignores it."""
        params = self._base_params(resource) + [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", self._watch_timeout),
        ]
        if stream:
            params += [("sendInitialEvents", "true"), ("resourceVersionMatch", "NotOlderThan")]
        else:
            params.append(("resourceVersion", resource_version))
        what = resource.what.replace("list ", "watch ", 1)
        self.requests[f"watch {resource.name}"] += 1
        # Bookmarks arrive about once a minute; silence well past the server's own
        # timeout means the connection is dead
        read_timeout = self._watch_timeout + 30.0
        track = self._tracks[resource.name]
        # Before the request: a watch refused at once (HTTP 410) must not count as one that ran
        track.watch_started = asyncio.get_running_loop().time()
        if stream:
            track.stale, track.initial_malformed = self._keys(resource.name), set()
            track.pages, track.objects, track.expected = 0, 0, None
        try:
            async with self.connection.stream(resource.path, params, what=what, read_timeout=read_timeout) as response:
                track.initial_opened = True
                resource_version = await self._follow(resource, response, resource_version, what)
        except KubeApiError as exc:
            if stream and not track.initial_opened and exc.status in STREAM_REJECTED:
                raise _NotStreamed() from None
            raise
        finally:
            opened, track.initial_opened = track.initial_opened, False
        if stream and track.stale is not None and opened:
            raise _NotStreamed()  # ended without the end of the initial state: not a streaming list
        track.broke_after_open = False
        return resource_version

    async def _follow(
        self, resource: _Resource, response: aiohttp.ClientResponse, resource_version: str, what: str
    ) -> str:
        max_line = self.connection.limits.max_line
        track = self._tracks[resource.name]
        if not track.broke_after_open and track.stale is None:  # a streaming list is not live yet
            self._ok(resource)
        track.broke_after_open = True  # until this watch ends well or delivers an event
        buffer = bytearray()
        try:
            async for chunk in response.content.iter_any():
                # Only the new bytes are searched for a newline: a line arriving in many
                # small chunks costs linear, not quadratic, time
                scanned = len(buffer)
                buffer += chunk
                start = 0
                while (end := buffer.find(b"\n", scanned)) >= 0:
                    line = bytes(buffer[start:end])
                    start = scanned = end + 1
                    resource_version = self._on_event(resource, line, resource_version)
                del buffer[:start]
                if len(buffer) > max_line:
                    raise too_large(f"a {what} event line", max_line, "max_watch_line_mib")
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
        if not isinstance(event, dict) or not isinstance(event.get("object") or {}, dict):
            raise KubeApiError(f"{resource.what}: a watch event is not an object")
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise ResourceGone(f"watch {resource.name}: {obj.get('message', 'expired')}", 410)
            raise KubeApiError(f"watch {resource.name}: {obj.get('message', 'error')}", int(code or 0))
        metadata = obj.get("metadata")
        version = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
        track = self._tracks[resource.name]
        if track.stale is not None and kind in ("ADDED", "BOOKMARK"):
            return self._on_initial(resource, track, kind, obj, version, resource_version)
        if kind == "DELETED":
            key = _key(obj)
            self._delete(resource.name, key)
            track.malformed.discard(key)
        elif kind in ("ADDED", "MODIFIED"):
            key, applied = self._apply(resource.name, obj, self._clock())
            if applied:
                track.malformed.discard(key)
            else:  # what it said before no longer holds, and what it says now cannot be read
                self._delete(resource.name, key)
                track.malformed.add(key)
        track.updated_at = self._clock()
        if track.broke_after_open:
            track.broke_after_open = False  # an event came through: the stream works
            self._ok(resource)
        if track.looping and asyncio.get_running_loop().time() - track.watch_started >= self._productive_watch:
            track.looping = False  # the watch has run normally for a while: live again
            self._ok(resource)
        return str(version) if version else resource_version

    def _on_initial(
        self, resource: _Resource, track: _Track, kind: str, obj: Json, version: Any, resource_version: str
    ) -> str:
        """An event of a streaming list's initial state, or the bookmark that ends it."""
        assert track.stale is not None
        if kind == "BOOKMARK":
            annotations = (obj.get("metadata") or {}).get("annotations")
            if not isinstance(annotations, dict) or annotations.get(INITIAL_EVENTS_END) != "true":
                raise _NotStreamed()  # a plain bookmark first: the server ignored sendInitialEvents
            stale, track.stale = track.stale, None
            track.streaming = True
            self._synced(resource, stale, track.initial_malformed, STREAMING)
            track.broke_after_open = False
        else:
            key, applied = self._apply(resource.name, obj, self._clock())
            if applied:
                track.stale.discard(key)
            else:
                track.initial_malformed.add(key)
            track.objects += 1
            track.progressed = time.monotonic()
        track.updated_at = self._clock()
        return str(version) if version else resource_version

    def _apply(self, name: str, obj: Any, now: float) -> tuple[Key, bool]:
        """Store one object; False (and nothing stored) when it does not parse.

        A pod with `restartCount: "lots"` or `containerStatuses: "x"`, or an object without
        metadata.name, is skipped and counted rather than failing the whole list."""
        key = _key(obj)
        if not key[1]:
            return key, False
        try:
            if name == "pods":
                pod = pod_record(obj)
                old = self._pods.upsert(pod)
                self._restarts.observe(old, pod, now)
            elif name == "nodes":
                self._nodes.upsert(node_record(obj))
            else:
                self._events.upsert(key, event_record(obj))
        except (TypeError, ValueError, AttributeError, KeyError):
            return key, False
        return key, True

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


def _key(obj: Any) -> Key:
    """The object's key as its record holds it: cleaned like every string from the cluster,
    or a relist would never find a hostile name among the stored keys and drop it."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(metadata, dict):
        return ("", "")
    return (clean(str(metadata.get("namespace") or "")), clean(str(metadata.get("name") or "")))


def _ratio(used: int, total: int) -> Value:
    return Value.of(used / total) if total > 0 else ABSENT
