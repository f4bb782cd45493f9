"""An aiohttp Kubernetes API server over a `Cluster`: JSON lists, gets, watches, service proxy.

It speaks enough of the real protocol for kubectl and client libraries: discovery, paged
lists with continue tokens, watches with bookmarks and 410 on compacted history, bearer
token auth, Status error bodies, metrics.k8s.io, and injectable faults. Every request is
recorded with its Kubernetes verb so tests can assert a client never writes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import random
import socket
import struct
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from .apiserver_metrics import ApiserverMetrics
from .cluster import KINDS, Cluster, Expired, WatchEvent
from .discovery import (
    CORE_V1,
    METRICS_GROUP,
    METRICS_V1BETA1,
    METRICS_VERSION,
    VERSION,
    api_group,
    api_groups,
    api_versions,
)
from .faults import Fault, FaultBook, default_message, status
from .node_proxy import KubeletConfigBook, node_proxy_target
from .objects import Obj
from .selectors import Selector, SelectorError, fields_of, parse_fields, parse_labels
from .tls import serving_cert
from .usage import UsageBook

DEFAULT_PAGE_LIMIT = 0  # no limit unless the client asks, as the real server
DEFAULT_WATCH_TIMEOUT = 1800.0
INITIAL_EVENTS_END = (
    "k8s.io/initial-events-end"  # the bookmark annotation ending a streaming list  # the real server picks 30-60 min
)
ENDLESS_CONTINUE = "k8stop-test-endless-continue"
ENDLESS_LINE_LIMIT = 1024**3  # an endless watch line stops here if the client never gives up
# Readable without credentials (system:public-info-viewer); kubectl's dispatcher probes /version bare.
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
# Not a Kubernetes path: what each client asked of this server, for the bench's API-cost rows
TRAFFIC_PATH = "/_test/traffic"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    verb: str  # as Kubernetes names it: get list watch create update patch delete deletecollection
    path: str
    query: dict[str, str]
    resource: str  # "" for non-resource paths
    namespace: str | None
    accept: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class Route:
    group: str  # "" core, "metrics.k8s.io"
    resource: str
    namespace: str | None
    name: str | None
    proxy: tuple[str, str] | None = None  # (service spec "[scheme:]name[:port]", rest of the path)
    subresource: str | None = None  # "log" for pods/NAME/log


def parse_route(path: str) -> Route | None:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:3] == ["apis", METRICS_GROUP, METRICS_VERSION]:
        group, rest = METRICS_GROUP, parts[3:]
    else:
        return None
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
        if len(rest) >= 3 and rest[0] == "services" and rest[2] == "proxy":
            remainder = path.split("/proxy", 1)[1] if "/proxy" in path else ""
            return Route(group, "services", namespace, rest[1], proxy=(rest[1], remainder.lstrip("/")))
    if len(rest) == 3 and rest[0] == "pods" and rest[2] == "log" and namespace is not None:
        return Route(group, "pods", namespace, rest[1], subresource="log")
    if not rest or len(rest) > 2:
        return None
    return Route(group, rest[0], namespace, rest[1] if len(rest) == 2 else None)


def k8s_verb(method: str, route: Route | None, query: dict[str, str]) -> str:
    if route is None:
        return method.lower()
    if route.proxy is not None:
        return {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
            method, method.lower()
        )
    collection = route.name is None
    if method == "GET":
        if _truthy(query.get("watch")):
            return "watch"
        return "list" if collection else "get"
    if method == "DELETE":
        return "deletecollection" if collection else "delete"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


PREPARED = web.RequestKey("k8stop-test-prepared", web.StreamResponse)


async def _remember_response(request: web.Request, response: web.StreamResponse) -> None:
    """A streamed response (a watch) is prepared inside the handler: keep it for its byte count."""
    if not isinstance(response, web.Response):
        request[PREPARED] = response


def _body_bytes(request: web.Request, response: web.StreamResponse | None) -> int:
    streamed = request.get(PREPARED)
    if streamed is not None:
        # An open watch has no body_length yet: its writer counts what went out so far
        writer = streamed._payload_writer
        return int(writer.output_size if writer is not None else streamed.body_length)
    body = response.body if isinstance(response, web.Response) else None
    return len(body) if isinstance(body, bytes) else 0


def _json(body: Any, code: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=code, content_type="application/json", headers=headers)


def _status_response(
    code: int,
    message: str,
    reason: str | None = None,
    details: Obj | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return _json(status(code, message, reason, details), code, headers)


def encode_continue(rv: int, start: int) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, int]:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    data = orjson.loads(raw)
    return int(data["rv"]), int(data["start"])


class KubeApiServer:
    version: Obj = VERSION  # what /version answers; a test may set its own

    def __init__(
        self,
        cluster: Cluster,
        token: str | None = "test-token",
        bookmark_interval: float = 3.0,
        churn: float = 0.0,
        churn_seed: int = 7,
        tls: bool = True,
        watch_list: str = "reject",
    ) -> None:
        self.cluster = cluster
        # Streaming lists (KEP-3157, sendInitialEvents=true): "on" serves them; "reject" answers
        # 422 as a server without the feature validates the request (the default: most
        # clusters in use); "ignore" drops the parameters and serves a plain watch
        assert watch_list in ("on", "reject", "ignore"), watch_list
        self.watch_list = watch_list
        self.token = token
        self.tls = tls  # kubectl withholds bearer tokens from http:// servers
        self.bookmark_interval = bookmark_interval
        self.churn = churn  # pod watch events per second from a background task
        self.churn_seed = churn_seed
        self.requests: list[RequestRecord] = []
        # (client product from the User-Agent, verb, resource) -> [requests, response body bytes]
        self.traffic: defaultdict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self._in_flight: dict[int, tuple[web.Request, tuple[str, str, str]]] = {}
        self.faults = FaultBook()
        self.usage = UsageBook()
        self.kubelet_configs = KubeletConfigBook()
        self.apiserver_metrics = ApiserverMetrics()  # GET /metrics; its scenario is the LIST-storm knob
        self.service_backends: dict[tuple[str, str], str] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- public API ------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.on_response_prepare.append(_remember_response)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=serving_cert().server_context() if self.tls else None)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        bound_port = sock.getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://{host}:{bound_port}"
        self._session = aiohttp.ClientSession()
        if self.churn > 0:
            self._spawn(self._churn_loop())
        return self.url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def inject(self, fault: Fault) -> None:
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def verbs(self) -> set[str]:
        return {r.verb for r in self.requests}

    def register_service_backend(self, namespace: str, name: str, url: str) -> None:
        """Service proxy requests for namespace/name go to `url` (e.g. the test Prometheus)."""
        self.service_backends[(namespace, name)] = url.rstrip("/")

    # --- dispatch --------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serves one request and counts it on arrival, with the body bytes sent: a watch's as
        they stream (see _traffic), and in full however it ends."""
        if request.path == TRAFFIC_PATH:
            return _json(self._traffic())
        route = parse_route(request.path)
        key = (
            request.headers.get("User-Agent", "").split("/", 1)[0],
            k8s_verb(request.method, route, dict(request.query)),
            route.resource if route else "",
        )
        self.traffic[key][0] += 1
        self._in_flight[id(request)] = (request, key)  # a Request is not hashable
        response: web.StreamResponse | None = None
        try:
            response = await self._serve(request)
            return response
        finally:
            del self._in_flight[id(request)]
            self.traffic[key][1] += _body_bytes(request, response)

    def _traffic(self) -> list[list[str | int]]:
        """[client, verb, resource, requests, bytes] rows; open watches count what they sent so far."""
        counts = {key: list(value) for key, value in self.traffic.items()}
        for request, key in self._in_flight.values():
            counts[key][1] += _body_bytes(request, None)
        return [[*key, *value] for key, value in counts.items()]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        route = parse_route(request.path)
        verb = k8s_verb(request.method, route, query)
        self.requests.append(
            RequestRecord(
                request.method,
                verb,
                request.path,
                query,
                route.resource if route else "",
                route.namespace if route else None,
                request.headers.get("Accept", ""),
                request.headers.get("User-Agent", ""),
            )
        )
        public = route is None and request.path.rstrip("/") in PUBLIC_PATHS
        if self.token is not None and not public and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _status_response(401, "Unauthorized")
        fault = self.faults.take(request.path, verb)
        cut_after: int | None = None
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.reset_connection:
                return self._reset(request)
            if fault.status is not None:
                return self._fault_response(fault, verb, route)
            if fault.gzip_bomb is not None:
                from gzip_bomb import gzip_bomb

                return web.Response(
                    body=gzip_bomb(fault.gzip_bomb),
                    headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                )
            if verb == "watch" and fault.watch_error is not None:
                return await self._watch_error(request, fault.watch_error)
            if verb == "watch" and fault.endless_line:
                return await self._endless_line(request)
            if verb == "list" and fault.endless_continue:
                query = {**query, "continue": ""}
            cut_after = fault.cut_watch_after_events
        try:
            if route is None:
                return self._non_resource(request)
            if route.proxy is not None:
                return await self._proxy(request, route)
            if request.method != "GET":
                return _status_response(
                    405, f"the server does not allow this method on the requested resource ({verb})"
                )
            if route.group == METRICS_GROUP:
                return self._metrics(route, query)
            if route.subresource == "log":
                return self._log(route, query)
            response = await self._resource(request, route, query, cut_after)
            if fault is not None and fault.endless_continue and isinstance(response, web.Response):
                return self._with_continue(response, ENDLESS_CONTINUE)
            return response
        except SelectorError as exc:
            return _status_response(400, str(exc))

    @staticmethod
    def _with_continue(response: web.Response, token: str) -> web.Response:
        """The same list page, always promising more under the same token."""
        assert isinstance(response.body, bytes)
        page = orjson.loads(response.body)
        page.setdefault("metadata", {})["continue"] = token
        return _json(page)

    @staticmethod
    async def _watch_error(request: web.Request, code: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        event = {"type": "ERROR", "object": status(code, "too old resource version: 1 (2)", reason="Expired")}
        await response.write(orjson.dumps(event) + b"\n")
        return response

    @staticmethod
    async def _endless_line(request: web.Request) -> web.StreamResponse:
        """A watch event whose line never ends, until the client hangs up."""
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b'{"type":"ADDED","object":{"metadata":{"name":"' + b"x" * 65536
        sent = 0
        try:
            while sent < ENDLESS_LINE_LIMIT:
                await response.write(chunk)
                sent += len(chunk)
                chunk = b"x" * 65536
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        return response

    def _fault_response(self, fault: Fault, verb: str, route: Route | None) -> web.Response:
        assert fault.status is not None
        headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else None
        if fault.headers:
            headers = {**(headers or {}), **fault.headers}
        if isinstance(fault.body, bytes):
            return web.Response(body=fault.body, status=fault.status, content_type="application/json", headers=headers)
        if isinstance(fault.body, dict):
            return _json(fault.body, fault.status, headers)
        message, details = default_message(
            fault.status,
            verb,
            route.resource if route else "",
            route.namespace if route else None,
            route.group if route else "",
        )
        if fault.retry_after is not None and details is not None and "retryAfterSeconds" in details:
            details = {"retryAfterSeconds": int(fault.retry_after)}
        return _status_response(fault.status, message, details=details, headers=headers)

    @staticmethod
    def _reset(request: web.Request) -> web.Response:
        """Drop the connection with a TCP RST (SO_LINGER 0), as a crashing proxy would."""
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        return web.Response(status=500)

    def _non_resource(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/") or "/"
        if path == "/version":
            return _json(self.version)
        if path == "/api":
            return _json(api_versions(request.host))
        if path == "/apis":
            return _json(api_groups())
        if path == "/api/v1":
            return _json(CORE_V1)
        if path == f"/apis/{METRICS_GROUP}/{METRICS_VERSION}":
            return _json(METRICS_V1BETA1)
        if path.startswith("/apis/") and (doc := api_group(path[6:])) is not None:
            return _json(doc)
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/metrics" and request.method == "GET":
            body = self.apiserver_metrics.render(self.cluster)
            return web.Response(body=body, content_type="text/plain", charset="utf-8")
        if (target := node_proxy_target(path)) is not None and request.method == "GET":
            return self._node_proxy(*target)
        return _status_response(404, "the server could not find the requested resource")

    def _node_proxy(self, node: str, rest: str) -> web.Response:
        """The kubelet behind GET nodes/NAME/proxy/...: only /configz is served."""
        if self.cluster.stores["nodes"].get("", node) is None:
            return _status_response(404, f'nodes "{node}" not found', details={"name": node, "kind": "nodes"})
        if rest.rstrip("/") != "configz":
            return _status_response(404, "the server could not find the requested resource")
        return _json(self.kubelet_configs.configz(node))

    # --- core resources --------------------------------------------------------------------

    def _selector(self, resource: str, namespace: str | None, query: dict[str, str]) -> Selector:
        return Selector(
            namespace,
            parse_labels(query.get("labelSelector", "")),
            parse_fields(query.get("fieldSelector", ""), resource),
        )

    async def _resource(
        self, request: web.Request, route: Route, query: dict[str, str], cut_after: int | None
    ) -> web.StreamResponse:
        if route.resource not in KINDS:
            return _status_response(404, "the server could not find the requested resource")
        kind, namespaced = KINDS[route.resource]
        if route.namespace is not None and not namespaced:
            return _status_response(404, "the server could not find the requested resource")
        if route.resource == "namespaces" and route.namespace is None and route.name is not None:
            obj = self.cluster.stores["namespaces"].get("", route.name)
        elif route.name is not None:
            obj = self.cluster.stores[route.resource].get(route.namespace or "", route.name)
        else:
            selector = self._selector(route.resource, route.namespace, query)
            if _truthy(query.get("watch")):
                return await self._watch(request, route.resource, kind, selector, query, cut_after)
            return self._list(route.resource, kind, selector, query)
        if obj is None:
            return _status_response(
                404, f'{route.resource} "{route.name}" not found', details={"name": route.name, "kind": route.resource}
            )
        return _json(obj)

    def _log(self, route: Route, query: dict[str, str]) -> web.Response:
        """pods/NAME/log as the API server answers it: the container is required when the pod has
        several, `previous` reads the last terminated run, `tailLines` and `limitBytes` cut it."""
        assert route.namespace is not None and route.name is not None
        pod = self.cluster.stores["pods"].get(route.namespace, route.name)
        if pod is None:
            return _status_response(404, f'pods "{route.name}" not found')
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or (names[0] if len(names) == 1 else "")
        if container not in names:
            return _status_response(
                400, f"a container name must be specified for pod {route.name}, choose one of: {names}"
            )
        previous = _truthy(query.get("previous"))
        lines = self.cluster.logs.get((route.namespace, route.name, container, previous))
        if lines is None:
            which = "previous terminated" if previous else "current"
            return _status_response(400, f'{which} container "{container}" in pod "{route.name}" not found')
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]) :] if int(query["tailLines"]) > 0 else []
        body = "".join(line + "\n" for line in lines).encode()
        if "limitBytes" in query:
            body = body[: int(query["limitBytes"])]
        return web.Response(body=body, content_type="text/plain")

    def _page(
        self,
        resource: str,
        selector: Selector,
        query: dict[str, str],
        transform: Callable[[Obj], Obj | None] | None = None,
    ) -> tuple[list[bytes], str, int, int | None] | web.Response:
        """Rendered items of one page, the next continue token, the list's resourceVersion and
        the remainingItemCount estimate (None when not sent)."""
        store = self.cluster.stores[resource]
        start = 0
        list_rv = self.cluster.resource_version
        token = query.get("continue")
        if token:
            try:
                list_rv, start = decode_continue(token)
            except (ValueError, KeyError, binascii.Error, orjson.JSONDecodeError):
                return _status_response(400, "continue key is not valid: illegal base64 data")
            if list_rv < self.cluster.oldest_resource_version:
                return _status_response(
                    410,
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this response "
                    "to retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the first "
                    "chunk was returned and now may show up in the list.",
                    reason="Expired",
                )
        limit = int(query.get("limit") or DEFAULT_PAGE_LIMIT)
        items: list[bytes] = []
        next_token = ""
        for pos, obj in store.scan(selector, start):
            if limit and len(items) >= limit:
                next_token = encode_continue(list_rv, pos)
                break
            out = transform(obj) if transform else obj
            if out is not None:
                items.append(orjson.dumps(out))
        # The real server counts what is left of a paged list without selectors; positions left
        # (deleted ones included) make the same kind of estimate at no cost; omitted when filtered
        remaining = store.end() - pos if next_token and selector == Selector() else None
        return items, next_token, list_rv, remaining

    def _list(
        self,
        resource: str,
        kind: str,
        selector: Selector,
        query: dict[str, str],
        transform: Callable[[Obj], Obj | None] | None = None,
        api_version: str = "v1",
    ) -> web.Response:
        page = self._page(resource, selector, query, transform)
        if isinstance(page, web.Response):
            return page
        items, token, list_rv, remaining = page
        meta: Obj = {"resourceVersion": str(list_rv)}
        if token:
            meta["continue"] = token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        head = orjson.dumps({"kind": f"{kind}List", "apiVersion": api_version, "metadata": meta})
        body = head[:-1] + b',"items":[' + b",".join(items) + b"]}"
        return web.Response(body=body, content_type="application/json")

    # --- metrics.k8s.io -------------------------------------------------------------------

    def _metrics(self, route: Route, query: dict[str, str]) -> web.Response:
        if route.resource not in ("nodes", "pods"):
            return _status_response(404, "the server could not find the requested resource")
        if route.resource == "nodes":
            transform: Callable[[Obj], Obj | None] = self.usage.node_metrics
            kind = "NodeMetrics"
        else:
            transform, kind = self.usage.pod_metrics, "PodMetrics"
        api_version = f"{METRICS_GROUP}/{METRICS_VERSION}"
        if route.name is not None:
            obj = self.cluster.stores[route.resource].get(route.namespace or "", route.name)
            out = transform(obj) if obj is not None else None
            if out is None:
                return _status_response(
                    404,
                    f'{route.resource}.{METRICS_GROUP} "{route.name}" not found',
                    details={"name": route.name, "group": METRICS_GROUP, "kind": route.resource},
                )
            return _json({"kind": kind, "apiVersion": api_version, **out})
        selector = Selector(
            route.namespace,
            parse_labels(query.get("labelSelector", "")),
            parse_fields(query.get("fieldSelector", ""), route.resource),
        )

        def with_kind(obj: Obj) -> Obj | None:
            out = transform(obj)
            return None if out is None else {"kind": kind, "apiVersion": api_version, **out}

        return self._list(route.resource, kind, selector, query, with_kind, api_version)

    # --- watch -----------------------------------------------------------------------------

    async def _watch(
        self,
        request: web.Request,
        resource: str,
        kind: str,
        selector: Selector,
        query: dict[str, str],
        cut_after: int | None,
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

        def listener(event: WatchEvent) -> None:
            if event.resource == resource and not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)

        rv_param = query.get("resourceVersion", "")
        bookmarks = _truthy(query.get("allowWatchBookmarks"))
        timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_TIMEOUT)
        send_initial = self.watch_list != "ignore" and _truthy(query.get("sendInitialEvents"))
        if send_initial and self.watch_list == "reject":
            return _status_response(
                422,
                'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                "resourceVersionMatch is forbidden for watch",
                reason="Invalid",
            )
        if send_initial:
            # As the real server validates a streaming list (ValidateListOptions)
            if query.get("resourceVersionMatch") != "NotOlderThan" or not bookmarks:
                return _status_response(
                    422,
                    'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan "
                    "and allowWatchBookmarks to true",
                    reason="Invalid",
                )
        initial: list[tuple[str, Obj]] = []
        expired: Expired | None = None
        with self.cluster.lock:
            last = self.cluster.resource_version
            if rv_param in ("", "0") or send_initial:
                # No rv or "0", or a streaming list: the current state as ADDED events, then changes.
                initial = [("ADDED", obj) for _, obj in self.cluster.stores[resource].scan(selector)]
            else:
                try:
                    last = int(rv_param)
                    initial = [(e.type, e.obj) for e in self.cluster.events_since(resource, last)]
                except Expired as exc:
                    expired = exc
                except ValueError:
                    return _status_response(400, f'resourceVersion: Invalid value: "{rv_param}": must be an integer')
            if expired is None:
                self.cluster.subscribe(listener)
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache"})
        await response.prepare(request)
        sent = 0

        async def send(type_: str, obj: Obj) -> bool:
            nonlocal sent
            line = orjson.dumps({"type": type_, "object": obj}) + b"\n"
            if cut_after is not None and sent >= cut_after:
                await response.write(line[: len(line) // 2])
                if request.transport is not None:
                    request.transport.close()
                return False
            await response.write(line)
            sent += 1
            return True

        try:
            if expired is not None:
                await send("ERROR", status(410, str(expired), reason="Expired"))
                return response
            for type_, obj in initial:
                if self._selected(resource, selector, obj):
                    if not await send(type_, obj):
                        return response
            if initial and rv_param not in ("", "0") and not send_initial:
                last = max(last, int(initial[-1][1]["metadata"]["resourceVersion"]))
            if send_initial:
                # The end of the initial state: a bookmark at the version it was read at
                end = {
                    "kind": kind,
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(last), "annotations": {INITIAL_EVENTS_END: "true"}},
                }
                if not await send("BOOKMARK", end):
                    return response
            deadline = loop.time() + timeout
            next_bookmark = loop.time() + self.bookmark_interval
            while True:
                now = loop.time()
                if now >= deadline:
                    break
                wait = deadline - now
                if bookmarks:
                    wait = min(wait, max(0.0, next_bookmark - now))
                try:
                    # A queued event is taken at once: waiting with a zero timeout (a bookmark
                    # due) cancels the get before it runs, and the watch would spin on a queue
                    # it never drains, silent for good
                    event = queue.get_nowait() if not queue.empty() else await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    if bookmarks and loop.time() >= next_bookmark:
                        with self.cluster.lock:
                            rv_now = self.cluster.resource_version
                        await asyncio.sleep(0)  # let pending cross-thread deliveries (rv <= rv_now) land first
                        if queue.empty():
                            last = max(last, rv_now)
                            bookmark = {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": str(last)}}
                            if not await send("BOOKMARK", bookmark):
                                return response
                            next_bookmark = loop.time() + self.bookmark_interval
                    continue
                if event.rv <= last:
                    continue
                last = event.rv
                if self._selected(resource, selector, event.obj):
                    if not await send(event.type, event.obj):
                        return response
            return response
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            return response
        finally:
            self.cluster.unsubscribe(listener)

    @staticmethod
    def _selected(resource: str, selector: Selector, obj: Obj) -> bool:
        return selector.matches(fields_of(resource, obj), obj["metadata"].get("labels") or {})

    # --- service proxy ---------------------------------------------------------------------

    async def _proxy(self, request: web.Request, route: Route) -> web.Response:
        assert route.proxy is not None and route.namespace is not None and self._session is not None
        spec, rest = route.proxy
        parts = spec.split(":")
        name = parts[1] if len(parts) == 3 or (len(parts) == 2 and parts[0] in ("http", "https")) else parts[0]
        if self.cluster.stores["services"].get(route.namespace, name) is None:
            return _status_response(404, f'services "{name}" not found', details={"name": name, "kind": "services"})
        backend = self.service_backends.get((route.namespace, name))
        if backend is None:
            return _status_response(503, f'no endpoints available for service "{spec}"')
        url = f"{backend}/{rest}"
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        try:
            async with self._session.request(
                request.method, url, params=request.query, data=body or None, headers=headers, allow_redirects=False
            ) as upstream:
                payload = await upstream.read()
                passed = {"Content-Type": upstream.headers.get("Content-Type", "application/octet-stream")}
                if "Location" in upstream.headers:  # the real proxy hands redirects back to the client
                    passed["Location"] = upstream.headers["Location"]
                return web.Response(body=payload, status=upstream.status, headers=passed)
        except aiohttp.ClientError as exc:
            return _status_response(503, f"error trying to reach service: {exc}")

    # --- churn -----------------------------------------------------------------------------

    async def _churn_loop(self) -> None:
        """Mutate random pods at `churn` events/s: restarts, phase flips, delete + re-create."""
        rng = random.Random(self.churn_seed)
        store = self.cluster.stores["pods"]
        interval = 1.0 / self.churn
        next_at = asyncio.get_running_loop().time()
        while True:
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - asyncio.get_running_loop().time()))
            end = store.end()
            if end == 0:
                continue
            for _ in range(8):  # a few tries to land on a live pod
                pos = rng.randrange(end)
                match = next(store.scan(Selector(), pos), None)
                if match is not None:
                    break
            else:
                continue
            pod = match[1]
            ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            roll = rng.random()
            if roll < 0.6 and pod["status"].get("containerStatuses"):
                self.cluster.bump_restarts(
                    ns, name, reason=rng.choice(("OOMKilled", "Error")), exit_code=rng.choice((137, 1))
                )
            elif roll < 0.8:
                obj = self.cluster.get("pods", ns, name)
                assert obj is not None
                obj["metadata"].setdefault("annotations", {})["churn.k8stop.test/touched"] = str(rng.random())
                self.cluster.replace("pods", obj)
            else:
                obj = self.cluster.get("pods", ns, name)
                assert obj is not None
                self.cluster.delete("pods", ns, name)
                self.cluster.add("pods", obj)


class ThreadedKubeApiServer:
    """A `KubeApiServer` on its own event loop thread, for sync code and subprocess clients."""

    def __init__(
        self,
        cluster: Cluster | None = None,
        token: str | None = "test-token",
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.server = KubeApiServer(cluster if cluster is not None else Cluster.small(), token=token, **options)
        self._host, self._port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kubeapi", daemon=True)
        self.url = ""

    def start(self) -> str:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self.server.start(self._host, self._port), self._loop).result(30)
        return self.url

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> ThreadedKubeApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def cluster(self) -> Cluster:
        return self.server.cluster

    @property
    def token(self) -> str | None:
        return self.server.token

    @property
    def requests(self) -> list[RequestRecord]:
        return self.server.requests

    def verbs(self) -> set[str]:
        return self.server.verbs()

    def inject(self, fault: Fault) -> None:
        self.server.inject(fault)

    def clear_faults(self) -> None:
        self.server.clear_faults()

    def register_service_backend(self, namespace: str, name: str, url: str) -> None:
        self.server.register_service_backend(namespace, name, url)

    @property
    def kubelet_configs(self) -> KubeletConfigBook:
        return self.server.kubelet_configs

    @property
    def apiserver_metrics(self) -> ApiserverMetrics:
        return self.server.apiserver_metrics
