"""A fault-injecting HTTP proxy between k8stop and a real test Prometheus.

It forwards every request unchanged until told to misbehave. A fault may be limited to the
queries whose PromQL matches a regex, so one panel breaks while the others keep working.
It runs on its own event-loop thread so a Pilot test's loop only sees a remote server.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from gzip_bomb import gzip_bomb


class Misbehaviour(StrEnum):
    PASS = "pass"
    DOWN = "down"  # the port is closed: connection refused
    PLAIN_503 = "plain_503"  # text/plain 503, as Prometheus while it replays its WAL
    EXECUTION_422 = "execution_422"
    BAD_DATA_400 = "bad_data_400"
    HANG = "hang"  # answers after `delay` (longer than the client's query timeout)
    SLOW = "slow"  # forwards after `delay` (longer than the refresh interval)
    MALFORMED_JSON = "malformed_json"
    TRUNCATED_JSON = "truncated_json"  # the real answer cut in half
    HUGE = "huge"  # the real answer plus `huge_series` extra series
    NON_FINITE = "non_finite"  # every sample value replaced by NaN, +Inf, -Inf in turn
    WARNINGS = "warnings"  # the real answer with a `warnings` list in the envelope
    UNAUTHORIZED = "unauthorized"  # 401 as an auth proxy in front of Prometheus answers wrong credentials
    REDIRECT = "redirect"  # 302 to `location` (another host, or a path that needs the caller's token)
    GZIP_BOMB = "gzip_bomb"  # 200 with `bomb_bytes` of whitespace gzip-compressed ~1000:1
    EMPTY = "empty"  # the real answer with no series: a target down, a scrape failing


@dataclass(frozen=True, slots=True)
class Fault:
    kind: Misbehaviour
    query_regex: str | None = None  # None: every request; else only queries whose PromQL matches
    delay: float = 0.0
    huge_series: int = 20000
    warning: str = "PromQL warning: results truncated by the proxy"
    location: str = ""
    bomb_bytes: int = 2 * 1024**3
    message: str = "query processing would load too many samples into memory"  # the 422's error text


PASS = Fault(Misbehaviour.PASS)
NON_FINITE = ("NaN", "+Inf", "-Inf")


def _promql(form: dict[str, str], params: dict[str, str]) -> str:
    return form.get("query") or params.get("query") or ""


def _envelope_error(status: int, error_type: str, message: str) -> web.Response:
    body = orjson.dumps({"status": "error", "errorType": error_type, "error": message})
    return web.Response(body=body, status=status, content_type="application/json")


def _rewrite_samples(data: Any, rewrite: Any) -> None:
    """Apply `rewrite(value_string) -> value_string` to every vector or matrix sample."""
    if not isinstance(data, dict):
        return
    for item in data.get("result") or ():
        if not isinstance(item, dict):
            continue
        if "value" in item:
            item["value"][1] = rewrite(item["value"][1])
        for point in item.get("values") or ():
            point[1] = rewrite(point[1])


class FaultyProxy:
    """`http://127.0.0.1:PORT` forwarding to `upstream`; `tls=True` serves a self-signed certificate."""

    def __init__(self, upstream: str, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self._tls = tls_context
        self.fault = PASS
        self.requests = 0
        self.seen_headers: list[dict[str, str]] = []  # to prove credentials were sent at all
        self.faulted = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faulty-proxy", daemon=True)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    # --- control (from any thread) --------------------------------------------------------

    def start(self) -> FaultyProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    def set(self, fault: Fault) -> None:
        """Misbehave from now on; DOWN closes the port, leaving DOWN opens it again."""
        was_down = self.fault.kind is Misbehaviour.DOWN
        self.fault = fault
        if fault.kind is Misbehaviour.DOWN and not was_down:
            self._call(self._close_port())
        elif was_down and fault.kind is not Misbehaviour.DOWN:
            self._call(self._open_port())

    def clear(self) -> None:
        self.set(PASS)

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    # --- server ------------------------------------------------------------------------------

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        self._session = aiohttp.ClientSession()
        await self._open_port()

    async def _open_port(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self._tls, reuse_address=True)
        await self._site.start()
        server = self._site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _close_port(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def _stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.seen_headers.append(dict(request.headers))
        body = await request.read()
        form = dict((await request.post()).items()) if request.method == "POST" else {}
        params = dict(request.query)
        fault = self.fault
        if fault.kind is Misbehaviour.DOWN:
            # A keep-alive connection opened before the port closed: drop it as a dying process would.
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("proxy is down")
        matches = fault.query_regex is None or re.search(fault.query_regex, _promql(form, params)) is not None
        if fault.kind is Misbehaviour.PASS or not matches:
            return await self._forward(request, body)
        self.faulted += 1
        kind = fault.kind
        if kind is Misbehaviour.REDIRECT:
            return web.Response(status=302, headers={"Location": fault.location})
        if kind is Misbehaviour.GZIP_BOMB:
            return web.Response(
                body=gzip_bomb(fault.bomb_bytes),
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
        if kind is Misbehaviour.UNAUTHORIZED:
            return web.Response(text="Unauthorized", status=401, content_type="text/plain")
        if kind is Misbehaviour.PLAIN_503:
            return web.Response(text="Service Unavailable", status=503, content_type="text/plain")
        if kind is Misbehaviour.EXECUTION_422:
            return _envelope_error(422, "execution", fault.message)
        if kind is Misbehaviour.BAD_DATA_400:
            return _envelope_error(400, "bad_data", 'invalid parameter "query": 1:1: parse error: injected')
        if kind is Misbehaviour.HANG:
            await asyncio.sleep(fault.delay)
            return _envelope_error(503, "timeout", "proxy gave up")
        if kind is Misbehaviour.SLOW:
            await asyncio.sleep(fault.delay)
            return await self._forward(request, body)
        if kind is Misbehaviour.MALFORMED_JSON:
            return web.Response(
                body=b'{"status":"success","data":{"resultType":"vector","result":[{]}}',
                content_type="application/json",
            )
        upstream = await self._forward(request, body)
        raw = upstream.body
        assert isinstance(raw, bytes)
        if kind is Misbehaviour.TRUNCATED_JSON:
            return web.Response(body=raw[: len(raw) // 2], status=upstream.status, content_type="application/json")
        parsed = orjson.loads(raw)
        data = parsed.get("data")
        if kind is Misbehaviour.HUGE and isinstance(data, dict) and isinstance(data.get("result"), list):
            kind_of = data.get("resultType")
            for i in range(fault.huge_series):
                labels = {"__name__": "k8stop_proxy_padding", "padding": str(i)}
                if kind_of == "matrix":
                    data["result"].append({"metric": labels, "values": [[1.0, "1"]]})
                elif kind_of == "vector":
                    data["result"].append({"metric": labels, "value": [1.0, "1"]})
        elif kind is Misbehaviour.NON_FINITE:
            counter = iter(range(1 << 62))
            _rewrite_samples(data, lambda _value: NON_FINITE[next(counter) % len(NON_FINITE)])
        elif kind is Misbehaviour.WARNINGS:
            parsed["warnings"] = [fault.warning]
        elif kind is Misbehaviour.EMPTY and isinstance(data, dict) and isinstance(data.get("result"), list):
            data["result"] = []
        return web.Response(body=orjson.dumps(parsed), status=upstream.status, content_type="application/json")

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body or None, headers=headers
        ) as response:
            payload = await response.read()
            return web.Response(
                body=payload,
                status=response.status,
                headers={"Content-Type": response.headers.get("Content-Type", "application/json")},
            )
