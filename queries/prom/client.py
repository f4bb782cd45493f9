"""Async client for the Prometheus HTTP API (aiohttp + orjson).

Why not prometheus-api-client: it is blocking (requests), and its `custom_query` returns
only `data.result`, dropping the envelope's `warnings`/`infos` that k8stop must show
(e.g. "results truncated", "metric might not be a counter"). We also need an async path
that shares one bounded connection pool with the rest of the app, and a count of the
queries sent and bytes received so the bench can state k8stop's own load.

The base URL may carry a path prefix (Thanos, Mimir and VictoriaMetrics serve the API
under `/prometheus`, the kube API service proxy under
`.../services/prometheus-k8s:9090/proxy`); `/api/v1/...` is appended to it. For the
service-proxy case the caller passes a prebuilt session, SSL context or headers that
carry the kube credentials.

Credentials are read from files on every request so a rotated token works without a
restart, and they never appear in messages or reprs; a custom header written
'Name: @/path/file' takes its value from that file the same way. Redirects are never
followed (they would carry the credentials and custom headers elsewhere) and a body is
read only up to `max_response_mib` (see http_limits).
"""

from __future__ import annotations

import asyncio
import base64
import math
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
import orjson
from k8stop.queries.config import PrometheusAuth, Settings
from k8stop.queries.http_limits import (
    DEFAULT_LIMITS,
    is_redirect,
    limits_from,
    read_capped,
    redirect_error,
    user_agent,
)
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.snapshot import safe_url
from k8stop.queries.model.values import Value

LabelMap = dict[str, str]
Sample = tuple[LabelMap, Value]
Series = tuple[LabelMap, tuple[tuple[float, Value], ...]]

# Only the short reason phrase is shown; a whole HTML error page is not a message.
_BODY_EXCERPT = 200


@dataclass(frozen=True, slots=True)
class Vector:
    samples: tuple[Sample, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Matrix:
    series: tuple[Series, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Envelope:
    data: Any
    warnings: tuple[str, ...]


def parse_number(text: Any) -> Value:
    """Prometheus sends sample values as strings: "1.5", "NaN", "+Inf", "-Inf"."""
    try:
        return Value.of(float(text))
    except (TypeError, ValueError):
        raise FeedError(f"malformed response: sample value {text!r} is not a number") from None


class ClientOptions(TypedDict, total=False):
    """PromClient's transport options, passed through by from_settings."""

    session: aiohttp.ClientSession | None
    ssl_context: ssl.SSLContext | None
    headers: tuple[tuple[str, str], ...]
    auth_headers: Callable[[], Awaitable[dict[str, str]]] | None
    read_only_get: bool
    max_body: int


class PromClient:
    """One Prometheus endpoint; at most `max_inflight` requests in flight at a time."""

    def __init__(
        self,
        base_url: str,
        auth: PrometheusAuth | None = None,
        *,
        timeout: float = 10.0,
        max_inflight: int = 4,
        session: aiohttp.ClientSession | None = None,
        ssl_context: ssl.SSLContext | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        auth_headers: Callable[[], Awaitable[dict[str, str]]] | None = None,
        read_only_get: bool = False,
        max_body: int = DEFAULT_LIMITS.max_body,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FeedError(f"invalid Prometheus URL {safe_url(base_url)!r}: expected http(s)://host[:port][/prefix]")
        self._base = base_url.rstrip("/")
        self._shown = safe_url(self._base)
        self._auth = auth or PrometheusAuth()
        self._timeout = timeout
        self._max_inflight = max(1, max_inflight)
        self._semaphore = asyncio.Semaphore(self._max_inflight)
        self._session = session
        self._owns_session = session is None
        self._ssl = ssl_context
        self._extra_headers = tuple(self._auth.headers) + tuple(headers)
        if parts.username is not None:
            # userinfo in the URL becomes basic auth; it is kept out of the URL and messages.
            raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._url_auth: str | None = "Basic " + base64.b64encode(raw).decode("ascii")
            netloc = parts.netloc.rsplit("@", 1)[-1]
            self._base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        else:
            self._url_auth = None
        # Through the API server's service proxy: credentials are fetched per request so
        # exec-plugin and service-account tokens refresh, and queries are GETs because a
        # POST there is a `create` on services/proxy (k8stop never writes to a cluster).
        self._auth_headers = auth_headers
        self._read_only_get = read_only_get
        self._max_body = max_body
        self.queries_sent = 0
        self.bytes_received = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, url: str = "", **options: Unpack[ClientOptions]) -> PromClient:
        """The client the settings describe; `url` replaces the configured one (a discovered Prometheus)."""
        url = url or settings.prometheus_url or ""
        if not url:
            raise FeedError("no Prometheus URL: pass --prometheus-url or set prometheus_url in the config")
        options.setdefault("max_body", limits_from(settings).max_body)
        return cls(
            url,
            settings.prometheus,
            timeout=settings.query_timeout,
            max_inflight=settings.max_inflight_queries,
            **options,
        )

    def __repr__(self) -> str:
        return f"PromClient({self._shown!r})"

    @property
    def url(self) -> str:
        return self._shown

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> PromClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- public API ---------------------------------------------------------------------

    # Set to evaluate instant queries at a simulated time (recording a backfilled incident);
    # None asks for the server's now, which is right live (no client/server clock skew).
    evaluation_clock: Callable[[], float] | None = None

    async def query(self, promql: str, time: float | None = None) -> Vector:
        form = {"query": promql}
        if time is None and self.evaluation_clock is not None:
            time = self.evaluation_clock()
        if time is not None:
            form["time"] = _fmt(time)
        envelope = await self._call("query", form)
        return Vector(_vector(envelope.data), envelope.warnings)

    async def query_range(self, promql: str, start: float, end: float, step: float) -> Matrix:
        form = {"query": promql, "start": _fmt(start), "end": _fmt(end), "step": _fmt(step)}
        envelope = await self._call("query_range", form)
        return Matrix(_matrix(envelope.data), envelope.warnings)

    async def alerts(self) -> Envelope:
        return await self._call("alerts", None)

    async def rules(self, kind: str | None = None) -> Envelope:
        params = {"type": kind} if kind else None
        return await self._call("rules", None, params)

    async def label_values(self, label: str, start: float, end: float) -> Envelope:
        """/api/v1/label/<label>/values over [start, end]; `label` must be a valid label name."""
        return await self._call(f"label/{label}/values", None, {"start": _fmt(start), "end": _fmt(end)})

    async def buildinfo(self) -> Envelope:
        return await self._call("status/buildinfo", None)

    # --- transport ----------------------------------------------------------------------

    def _ssl_arg(self) -> ssl.SSLContext | bool:
        if self._ssl is not None:
            return self._ssl
        if self._auth.insecure_skip_tls_verify:
            return False
        if self._auth.ca_file:
            try:
                self._ssl = ssl.create_default_context(cafile=self._auth.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise FeedError(
                    f"cannot load --prometheus-ca-file {self._auth.ca_file}: {getattr(exc, 'strerror', None) or exc}"
                ) from None
            return self._ssl
        return True  # aiohttp's default verification

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": user_agent()}
        for name, value in self._extra_headers:
            # 'Name: @FILE' keeps the secret out of the command line; read per request, like tokens
            headers[name] = _read_secret(value[1:], f"--prometheus-header {name}") if value.startswith("@") else value
        if self._auth.bearer_token_file:
            token = _read_secret(self._auth.bearer_token_file, "--prometheus-bearer-token-file")
            headers["Authorization"] = f"Bearer {token}"
        elif self._auth.basic_user is not None:
            password = ""
            if self._auth.basic_password_file:
                password = _read_secret(self._auth.basic_password_file, "--prometheus-password-file")
            raw = f"{self._auth.basic_user}:{password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        elif self._url_auth is not None:
            headers["Authorization"] = self._url_auth
        return headers

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._max_inflight))
        return self._session

    async def _call(self, endpoint: str, form: dict[str, str] | None, params: dict[str, str] | None = None) -> Envelope:
        url = f"{self._base}/api/v1/{endpoint}"
        headers = self._headers()
        if self._auth_headers is not None:
            headers.update(await self._auth_headers())
        if form is not None and self._read_only_get:
            params, form = {**(params or {}), **form}, None
        ssl_arg = self._ssl_arg()
        async with self._semaphore:
            session = self._get_session()
            self.queries_sent += 1
            try:
                async with asyncio.timeout(self._timeout):
                    if form is None:
                        request = session.get(url, params=params, headers=headers, ssl=ssl_arg, allow_redirects=False)
                    else:
                        request = session.post(url, data=form, headers=headers, ssl=ssl_arg, allow_redirects=False)
                    async with request as response:
                        status = response.status
                        if is_redirect(status):
                            raise redirect_error(
                                status, response.headers.get("Location"), f"Prometheus at {self._shown}"
                            )
                        body = await read_capped(response, self._max_body, f"the answer of Prometheus at {self._shown}")
                        content_type = response.headers.get("Content-Type", "")
                        reason = response.reason or ""
            except TimeoutError:
                raise FeedError(
                    f"Prometheus at {self._shown} did not answer within {self._timeout:g} s"
                    " (query_timeout in the config file)"
                ) from None
            except aiohttp.ClientError as exc:
                raise FeedError(self._connection_message(exc)) from None
            except OSError as exc:
                raise FeedError(f"cannot reach Prometheus at {self._shown}: {exc.strerror or exc}") from None
        self.bytes_received += len(body)
        return self._envelope(endpoint, status, content_type, reason, body)

    def _connection_message(self, exc: aiohttp.ClientError) -> str:
        where = f"Prometheus at {self._shown}"
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            cert_error = exc.certificate_error
            detail = getattr(cert_error, "verify_message", None) or str(cert_error)
            return (
                f"{where}: TLS certificate not trusted ({detail}): pass --prometheus-ca-file with "
                "the CA that signed it, or --insecure-skip-tls-verify to accept it"
            )
        if isinstance(exc, aiohttp.ClientConnectorSSLError):
            return (
                f"{where}: TLS handshake failed: check the URL scheme (http vs https), "
                "--prometheus-ca-file, or --insecure-skip-tls-verify"
            )
        if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(
            getattr(exc, "os_error", None), socket.gaierror
        ):
            return f"{where}: host name not found (DNS): check --prometheus-url"
        if isinstance(exc, aiohttp.ClientConnectorError):
            os_error = exc.os_error
            if isinstance(os_error, ConnectionRefusedError) or getattr(os_error, "errno", None) == 111:
                return (
                    f"{where}: connection refused: is Prometheus running and is --prometheus-url "
                    "right (port-forward still open)?"
                )
            return f"{where}: cannot connect ({os_error.strerror or os_error}): check --prometheus-url"
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return f"{where}: server closed the connection before answering"
        if isinstance(exc, aiohttp.ClientPayloadError):
            return f"malformed response from {where}: body cut off"
        return f"{where}: {type(exc).__name__}: {exc}"

    def _envelope(self, endpoint: str, status: int, content_type: str, reason: str, body: bytes) -> Envelope:
        where = f"Prometheus at {self._shown}"
        parsed: Any = None
        if body[:1] in (b"{", b"["):
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                if status < 400 or "json" in content_type:
                    raise FeedError(
                        f"malformed response from {where} ({endpoint}): invalid or truncated JSON ({len(body)} bytes)"
                    ) from None
        if isinstance(parsed, dict) and "status" in parsed:
            if parsed.get("status") == "success":
                warnings = tuple(clean(str(w)) for w in parsed.get("warnings") or ())
                warnings += tuple(f"info: {clean(str(i))}" for i in parsed.get("infos") or ())
                return Envelope(parsed.get("data"), warnings)
            kind = clean(str(parsed.get("errorType") or "error"))
            message = clean(str(parsed.get("error") or "no error message"))
            raise FeedError(_error_message(kind, message, status, where))
        if status == 503:
            return self._raise_unavailable(body, where)
        if status in (401, 403):
            raise FeedError(
                f"{where} refused access (HTTP {status}): check --prometheus-bearer-token-file or "
                "basic auth, and the RBAC of the service proxy"
            )
        if status == 404:
            raise FeedError(
                f"{where}: /api/v1/{endpoint} not found (HTTP 404): check the URL path prefix "
                "(e.g. /prometheus for Thanos/Mimir, .../proxy for the service proxy)"
            )
        if status >= 400:
            excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace").strip().splitlines()
            text = clean(excerpt[0] if excerpt else reason)
            raise FeedError(f"{where} answered HTTP {status}: {text}")
        raise FeedError(
            f"malformed response from {where} ({endpoint}): not a Prometheus API envelope "
            f"({content_type or 'no content type'}, {len(body)} bytes)"
        )

    @staticmethod
    def _raise_unavailable(body: bytes, where: str) -> Envelope:
        text = body[:_BODY_EXCERPT].decode("utf-8", "replace").lower()
        if "stopping" in text or "shutting" in text:
            raise FeedError(f"{where} is shutting down (HTTP 503)")
        raise FeedError(f"{where} is not ready yet (HTTP 503): it may still be replaying its WAL")


def _error_message(kind: str, message: str, status: int, where: str) -> str:
    if kind == "bad_data":
        return f"{where} rejected the query (bad_data): {message}"
    if kind == "execution":
        return f"{where} failed to run the query (execution, HTTP {status}): {message}"
    if kind == "timeout":
        return f"{where} timed out running the query: {message}"
    if kind == "canceled":
        return f"{where} canceled the query: {message}"
    return f"{where} returned an error ({kind}, HTTP {status}): {message}"


def _read_secret(path: str, flag: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise FeedError(f"cannot read {flag} {path}: {exc.strerror}") from None


def _fmt(number: float) -> str:
    return repr(float(number)) if not math.isinf(number) else str(number)


def _labels(raw: Any) -> LabelMap:
    if not isinstance(raw, dict):
        raise FeedError("malformed response: series labels are not an object")
    # Any scraped app sets its label values: made inert here (model/sanitize.py)
    return {clean(str(k)): clean(str(v)) for k, v in raw.items()}


def _item(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise FeedError("malformed response: a result item is not an object")
    return raw


def _point(raw: Any) -> tuple[float, Value]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise FeedError(f"malformed response: sample {raw!r} is not [time, value]")
    return float(raw[0]), parse_number(raw[1])


def _vector(data: Any) -> tuple[Sample, ...]:
    if not isinstance(data, dict):
        raise FeedError("malformed response: no data in a successful answer")
    kind = data.get("resultType")
    result = data.get("result")
    if kind in ("scalar", "string"):
        return (({}, _point(result)[1]),)
    if kind != "vector" or not isinstance(result, list):
        raise FeedError(f"malformed response: expected a vector, got {kind!r}")
    return tuple((_labels(_item(item).get("metric", {})), _point(item.get("value"))[1]) for item in result)


def _matrix(data: Any) -> tuple[Series, ...]:
    if not isinstance(data, dict):
        raise FeedError("malformed response: no data in a successful answer")
    result = data.get("result")
    if data.get("resultType") != "matrix" or not isinstance(result, list):
        raise FeedError(f"malformed response: expected a matrix, got {data.get('resultType')!r}")
    return tuple(
        (_labels(_item(item).get("metric", {})), tuple(_point(p) for p in item.get("values") or ())) for item in result
    )
