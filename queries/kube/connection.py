"""The kube-API connection, loaded exactly as kubectl does, and raw GETs through it.

Authentication (bearer tokens, client certificates, exec plugins and their refresh) is the
kubernetes client's: requests go through its ApiClient so its auth hooks run on every
call, but bodies are read as bytes and parsed with orjson, never into model classes.
Requests are sent on the client's session by k8stop itself so that a redirect is never
followed (it would carry the token to another path or host, e.g. a service proxy answering
302 to .../secrets) and bodies stop at the configured cap (http_limits).
The kubernetes package is imported lazily: it costs ~0.3-0.8 s, which must not delay
the first frame.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from k8stop.queries.config import ConfigError
from k8stop.queries.http_limits import (
    DEFAULT_LIMITS,
    HttpLimits,
    is_redirect,
    read_capped,
    redirect_error,
    too_large,
    user_agent,
)
from k8stop.queries.kube.errors import KubeApiError, http_error
from k8stop.queries.kube.gc_pause import paused_gc
from k8stop.queries.kube.kubeconfig import choose_context, kubeconfig_paths, read_kubeconfig

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
Params = Sequence[tuple[str, str | int | bool]]
# An error Status is a few hundred bytes; a hostile error body must not be read whole
_ERROR_EXCERPT = 64 * 1024


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    context: str
    server: str
    namespace: str  # the context's default namespace ("default" when it sets none)
    source: str  # where the credentials came from, for the status bar


class KubeConnection:
    """GET-only access to one API server. k8stop never writes to a cluster."""

    def __init__(self, api: ApiClient, info: ConnectionInfo, limits: HttpLimits | None = None) -> None:
        self._api = api
        self.info = info
        self.limits = limits or DEFAULT_LIMITS

    @property
    def context(self) -> str:
        return self.info.context

    @property
    def server(self) -> str:
        return self.info.server

    @property
    def namespace(self) -> str:
        return self.info.namespace

    async def close(self) -> None:
        await self._api.close()

    async def __aenter__(self) -> KubeConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def aiohttp_auth(self) -> tuple[dict[str, str], ssl.SSLContext]:
        """Headers and TLS context for a caller's own aiohttp session (the Prometheus
        client going through the service proxy). Call it per request: the client's
        refresh hooks (exec plugins, rotated service-account tokens) run here."""
        settings = await self._api.configuration.auth_settings()
        headers = {
            str(auth["key"]): str(auth["value"])
            for auth in settings.values()
            if auth["in"] == "header" and auth["value"]
        }
        return headers, self._api.rest_client.ssl_context

    async def get_json(self, path: str, params: Params = (), *, what: str, timeout: float = 30.0) -> Any:
        """GET `path` and parse the body with orjson; `what` names the request in errors."""
        response = await self._send(path, params, what, aiohttp.ClientTimeout(total=timeout))
        try:
            body = await read_capped(response, self.limits.max_body, f"the answer to {what}")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._unreachable(exc, what, timeout) from None
        finally:
            response.release()
        with paused_gc():
            return orjson.loads(body)

    async def get_lines(
        self, path: str, keep: Callable[[bytes], bool], *, what: str, timeout: float = 30.0, accept: str = "text/plain"
    ) -> tuple[list[bytes], int]:
        """GET a line-oriented body (the Prometheus text format) keeping only the lines `keep`
        accepts, and the bytes read: a 20 MB /metrics costs the kept lines, not the body.
        The whole body still counts against the response cap."""
        cap = self.limits.max_body
        kept: list[bytes] = []
        read = 0
        tail = b""
        async with self.stream(path, what=what, read_timeout=timeout, total_timeout=timeout, accept=accept) as response:
            try:
                async for chunk in response.content.iter_any():
                    read += len(chunk)
                    if read > cap:
                        raise too_large(f"the answer to {what}", cap, "max_response_mib")
                    lines = (tail + chunk).split(b"\n")
                    tail = lines.pop()
                    kept.extend(line for line in lines if keep(line))
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise self._unreachable(exc, what, timeout) from None
        if tail and keep(tail):
            kept.append(tail)
        return kept, read

    async def get_text(
        self, path: str, params: Params = (), *, what: str, max_bytes: int, timeout: float = 30.0
    ) -> str:
        """GET a text body (a container log), at most `max_bytes` of it, decoded leniently: a log
        is whatever the container wrote."""
        response = await self._send(path, params, what, aiohttp.ClientTimeout(total=timeout), accept="text/plain")
        try:
            body = await read_capped(response, min(max_bytes, self.limits.max_body), f"the answer to {what}")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._unreachable(exc, what, timeout) from None
        finally:
            response.release()
        return body.decode("utf-8", errors="replace")

    @asynccontextmanager
    async def stream(
        self,
        path: str,
        params: Params = (),
        *,
        what: str,
        read_timeout: float,
        total_timeout: float | None = None,
        accept: str = "application/json",
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A streaming GET (watch, or a /metrics read line by line). `read_timeout` bounds the
        silence between chunks: without it a watch on a half-dead connection hangs forever."""
        timeout = aiohttp.ClientTimeout(total=total_timeout, sock_connect=15.0, sock_read=read_timeout)
        response = await self._send(path, params, what, timeout, accept)
        try:
            yield response
        finally:
            response.release()

    async def _send(
        self, path: str, params: Params, what: str, timeout: aiohttp.ClientTimeout, accept: str = "application/json"
    ) -> aiohttp.ClientResponse:
        _, url, headers, _, _ = await self._api.param_serialize(
            "GET",
            path,
            query_params=list(params),
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        try:
            response = await self._request(url, headers, timeout)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._unreachable(exc, what, timeout.total or timeout.sock_read) from None
        if is_redirect(response.status):
            response.release()
            raise KubeApiError(
                str(redirect_error(response.status, response.headers.get("Location"), f"API server {self.server}")),
                response.status,
            )
        if response.status >= 400:
            try:
                body = await response.content.read(_ERROR_EXCERPT)
            finally:
                response.release()
            raise http_error(response.status, body, what, response.headers.get("Retry-After"))
        return response

    async def _request(
        self, url: str, headers: dict[str, str], timeout: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        """The GET the client's RESTClientObject would send, but with allow_redirects=False
        (it has no such option) on the client's own session, proxy and TLS settings."""
        rest = self._api.rest_client
        if rest.pool_manager is None:
            rest.pool_manager = rest._create_pool_manager()
        options: dict[str, Any] = {}
        if self._api.configuration.tls_server_name:
            options["server_hostname"] = self._api.configuration.tls_server_name
        if rest.proxy:
            options["proxy"] = rest.proxy
        if rest.proxy_headers:
            options["proxy_headers"] = rest.proxy_headers
        session: aiohttp.ClientSession = rest.pool_manager
        return await session.get(url, headers=headers, timeout=timeout, allow_redirects=False, **options)

    def _unreachable(self, exc: BaseException, what: str, timeout: float | None) -> KubeApiError:
        server = self.info.server
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return KubeApiError(
                f"TLS certificate of {server} not trusted: fix certificate-authority for "
                f"context {self.info.context!r} in the kubeconfig"
            )
        if isinstance(exc, asyncio.TimeoutError):
            return KubeApiError(f"API server {server} did not answer {what} within {timeout:g} s")
        if isinstance(exc, aiohttp.ClientConnectorError):
            cause = exc.os_error.strerror or str(exc.os_error)
            return KubeApiError(
                f"cannot reach the API server {server} ({cause}): check that the cluster "
                f"is up and that context {self.info.context!r} points at it"
            )
        detail = str(exc).strip() or type(exc).__name__
        return KubeApiError(f"connection to the API server {server} failed during {what}: {detail}")

    async def version(self) -> str:
        """The server's gitVersion; the cheapest call that proves reachability and auth."""
        data = await self.get_json("/version", what="get /version", timeout=10.0)
        return str(data.get("gitVersion", "")) if isinstance(data, dict) else ""


# --- loading ---------------------------------------------------------------------------------


async def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
    limits: HttpLimits | None = None,
) -> KubeConnection:
    """Load credentials like kubectl: --kubeconfig, $KUBECONFIG (merged), ~/.kube/config,
    then the pod's service account when none exists and KUBERNETES_SERVICE_HOST is set.

    Raises ConfigError naming the fix; does not contact the server (see `version()`).
    """
    connection = await _load(kubeconfig, context, os.environ if environ is None else environ)
    connection.limits = limits or DEFAULT_LIMITS
    return connection


async def _load(kubeconfig: str | None, context: str | None, env: Mapping[str, str]) -> KubeConnection:
    paths = kubeconfig_paths(kubeconfig, env)
    if paths:
        return await _from_kubeconfig(paths, context)
    if env.get("KUBERNETES_SERVICE_HOST") and not kubeconfig:
        if context:
            raise ConfigError(
                f"--context {context} given but no kubeconfig exists (in-cluster credentials "
                "have no contexts): set KUBECONFIG or drop --context"
            )
        return await _in_cluster()
    looked = env.get("KUBECONFIG") or "~/.kube/config"
    raise ConfigError(f"no kubeconfig found ({looked}): set KUBECONFIG, pass --kubeconfig, or run with --no-kube")


async def _from_kubeconfig(paths: list[str], requested: str | None) -> KubeConnection:
    from kubernetes.aio.client import ApiClient, Configuration
    from kubernetes.aio.config import ConfigException
    from kubernetes.aio.config.kube_config import KubeConfigLoader, KubeConfigMerger

    documents = [read_kubeconfig(p) for p in paths]
    where = " + ".join(paths)
    name, body = choose_context(documents, requested, where)
    # The client's merger resolves relative certificate paths against the file that
    # defined each entry; first file wins per name, as in kubectl
    merger = KubeConfigMerger(os.pathsep.join(p for p, d in zip(paths, documents) if d))
    configuration = type.__call__(Configuration)
    try:
        loader = KubeConfigLoader(config_dict=merger.config, active_context=name, config_base_path=None)
        await loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ConfigError(f"kubeconfig context {name!r} is incomplete: {exc}") from None
    if hasattr(loader, "exec_plugin_expiry"):
        configuration.refresh_api_key_hook = _exec_refresh(loader)
    if not configuration.host or configuration.host == "http://localhost":
        raise ConfigError(f"context {name!r} names a cluster without a server URL: fix {where}")
    api = _api_client(ApiClient, configuration)
    info = ConnectionInfo(
        context=name,
        server=configuration.host,
        namespace=str(body.get("namespace") or "default"),
        source=f"kubeconfig {where}",
    )
    return KubeConnection(api, info)


def _exec_refresh(loader: Any) -> Any:
    """Re-run the exec credential plugin when its token expired (the sync client does
    this through refresh_api_key_hook; the asyncio loader leaves the hook unset)."""

    async def refresh(configuration: Any) -> None:
        await loader.load_from_exec_plugin()  # returns at once while the token is valid
        configuration.api_key["BearerToken"] = loader.token

    return refresh


async def _in_cluster() -> KubeConnection:
    from kubernetes.aio.client import ApiClient, Configuration
    from kubernetes.aio.config import ConfigException, load_incluster_config

    configuration = type.__call__(Configuration)
    try:
        load_incluster_config(client_configuration=configuration)
    except ConfigException as exc:
        raise ConfigError(
            f"in-cluster credentials unusable ({exc}): mount a service account token or pass --kubeconfig"
        ) from None
    try:
        with open(os.path.join(SERVICE_ACCOUNT_DIR, "namespace"), encoding="utf-8") as handle:  # noqa: ASYNC230 (a few bytes, once)
            namespace = handle.read().strip() or "default"
    except OSError:
        namespace = "default"
    info = ConnectionInfo(
        context="in-cluster",
        server=configuration.host,
        namespace=namespace,
        source="in-cluster service account",
    )
    return KubeConnection(_api_client(ApiClient, configuration), info)


def _api_client(api_class: Any, configuration: Any) -> ApiClient:
    api = api_class(configuration=configuration)
    api.user_agent = user_agent()
    return api
