"""PromClient against a tiny aiohttp server that answers what each test scripts."""

from __future__ import annotations

import asyncio
import inspect
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from k8stop.queries.config import PrometheusAuth
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.values import Kind
from k8stop.queries.prom.client import PromClient

Handler = Callable[[web.Request], Awaitable[web.StreamResponse] | web.StreamResponse]


class Server:
    """Serves `handler` under `prefix`; remembers every request it saw."""

    def __init__(self) -> None:
        self.handler: Handler = lambda request: _json({"status": "success", "data": {}})
        self.seen: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        self.url = ""

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post()) if request.method == "POST" else {}
        self.seen.append((request.method, request.path, dict(request.headers), {k: str(v) for k, v in form.items()}))
        reply = self.handler(request)
        return await reply if inspect.isawaitable(reply) else reply


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _vector(*items: tuple[dict[str, str], str]) -> dict[str, object]:
    return {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": m, "value": [1700000000.5, v]} for m, v in items]},
    }


async def _start(server: Server, ssl_context: ssl.SSLContext | None = None, prefix: str = "") -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", prefix + "/{tail:.*}", server.dispatch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}{prefix}"
    return runner


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    runner = await _start(srv)
    yield srv
    await runner.cleanup()


async def test_vector_values_warnings_and_infos(server: Server) -> None:
    body = _vector(
        ({"verb": "GET"}, "0.25"), ({"verb": "LIST"}, "NaN"), ({"verb": "PUT"}, "+Inf"), ({"verb": "X"}, "-Inf")
    )
    body["warnings"] = ["results truncated due to limit"]
    body["infos"] = ['metric might not be a counter: "workqueue_depth"']
    server.handler = lambda request: _json(body)
    async with PromClient(server.url) as client:
        result = await client.query("up", time=1700000000.0)
    values = {labels["verb"]: value for labels, value in result.samples}
    assert values["GET"].kind is Kind.NUMBER and values["GET"].number == 0.25
    assert values["LIST"].kind is Kind.NO_TRAFFIC
    assert values["PUT"].kind is Kind.INFINITE and values["PUT"].number > 0
    assert values["X"].kind is Kind.INFINITE and values["X"].number < 0
    assert result.warnings == (
        "results truncated due to limit",
        'info: metric might not be a counter: "workqueue_depth"',
    )
    method, path, _headers, form = server.seen[0]
    assert (method, path) == ("POST", "/api/v1/query")
    assert form == {"query": "up", "time": "1700000000.0"}


async def test_scalar_and_matrix(server: Server) -> None:
    server.handler = lambda request: _json(
        {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}}
        if request.path.endswith("/query")
        else {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [{"metric": {"a": "b"}, "values": [[10, "1"], [20, "NaN"]]}],
            },
        }
    )
    async with PromClient(server.url) as client:
        scalar = await client.query("scalar(up)")
        matrix = await client.query_range("up", 10, 20, 10)
    assert scalar.samples[0][1].number == 3.0
    ((labels, points),) = matrix.series
    assert labels == {"a": "b"}
    assert [(t, v.kind) for t, v in points] == [(10.0, Kind.NUMBER), (20.0, Kind.NO_TRAFFIC)]
    assert server.seen[1][3] == {"query": "up", "start": "10.0", "end": "20.0", "step": "10.0"}


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (400, "bad_data", "rejected the query (bad_data): parse error at char 5"),
        (422, "execution", "failed to run the query (execution, HTTP 422): parse error at char 5"),
        (503, "timeout", "timed out running the query: parse error at char 5"),
        (500, "internal", "returned an error (internal, HTTP 500): parse error at char 5"),
    ],
)
async def test_error_envelopes(server: Server, status: int, error_type: str, expected: str) -> None:
    server.handler = lambda request: _json(
        {"status": "error", "errorType": error_type, "error": "parse error at char 5"}, status
    )
    async with PromClient(server.url) as client:
        with pytest.raises(FeedError) as raised:
            await client.query("up{")
    assert expected in str(raised.value)


async def test_plain_text_503_not_ready_and_stopping(server: Server) -> None:
    replies = iter(["Service Unavailable", "Service Unavailable: Prometheus is stopping"])
    server.handler = lambda request: web.Response(text=next(replies), status=503)
    async with PromClient(server.url) as client:
        with pytest.raises(FeedError, match="not ready yet"):
            await client.query("up")
        with pytest.raises(FeedError, match="shutting down"):
            await client.query("up")


@pytest.mark.parametrize(
    "body",
    [b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{}', b"<html>oops</html>"],
)
async def test_malformed_bodies(server: Server, body: bytes) -> None:
    server.handler = lambda request: web.Response(body=body, content_type="application/json")
    async with PromClient(server.url) as client:
        with pytest.raises(FeedError, match="malformed response"):
            await client.query("up")


async def test_bad_sample_value_is_malformed(server: Server) -> None:
    server.handler = lambda request: _json(_vector(({}, "twelve")))
    async with PromClient(server.url) as client:
        with pytest.raises(FeedError, match="malformed response: sample value 'twelve'"):
            await client.query("up")


async def test_path_prefix_headers_and_counters() -> None:
    srv = Server()
    runner = await _start(srv, prefix="/prometheus")
    try:
        body = orjson.dumps(_vector(({"job": "x"}, "1")))
        srv.handler = lambda request: web.Response(body=body, content_type="application/json")
        auth = PrometheusAuth(headers=(("X-Scope-OrgID", "tenant-a"),))
        async with PromClient(srv.url + "/", auth, headers=(("X-Extra", "1"),)) as client:
            await client.query("up")
            await client.buildinfo()
            assert client.queries_sent == 2
            assert client.bytes_received == 2 * len(body)
    finally:
        await runner.cleanup()
    assert [(m, p) for m, p, _h, _f in srv.seen] == [
        ("POST", "/prometheus/api/v1/query"),
        ("GET", "/prometheus/api/v1/status/buildinfo"),
    ]
    headers = srv.seen[0][2]
    assert headers["X-Scope-OrgID"] == "tenant-a" and headers["X-Extra"] == "1"


async def test_bearer_token_reread_and_never_shown(server: Server, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first-secret\n")
    server.handler = lambda request: _json(_vector())
    client = PromClient(server.url, PrometheusAuth(bearer_token_file=str(token)))
    try:
        await client.query("up")
        token.write_text("rotated-secret")
        await client.query("up")
        server.handler = lambda request: web.Response(text="Unauthorized", status=401)
        with pytest.raises(FeedError) as raised:
            await client.query("up")
    finally:
        await client.close()
    assert [seen[2]["Authorization"] for seen in server.seen] == [
        "Bearer first-secret",
        "Bearer rotated-secret",
        "Bearer rotated-secret",
    ]
    assert "secret" not in str(raised.value) and "secret" not in repr(client)
    assert "--prometheus-bearer-token-file" in str(raised.value)


async def test_basic_auth_from_file_and_url_userinfo_hidden(server: Server, tmp_path: Path) -> None:
    password = tmp_path / "pw"
    password.write_text("hunter2")
    server.handler = lambda request: _json(_vector())
    async with PromClient(server.url, PrometheusAuth(basic_user="me", basic_password_file=str(password))) as client:
        await client.query("up")
    assert server.seen[0][2]["Authorization"] == "Basic bWU6aHVudGVyMg=="  # me:hunter2
    with_userinfo = server.url.replace("http://", "http://me:hunter2@")
    server.handler = lambda request: web.Response(text="boom", status=500)
    async with PromClient(with_userinfo) as client:
        with pytest.raises(FeedError) as raised:
            await client.query("up")
    assert server.seen[1][2]["Authorization"] == "Basic bWU6aHVudGVyMg=="
    assert "hunter2" not in str(raised.value) and "hunter2" not in repr(client)


async def test_bounded_concurrency(server: Server) -> None:
    current = 0
    highest = 0
    crowded = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        nonlocal current, highest
        current += 1
        highest = max(highest, current)
        if current >= 4:
            crowded.set()
        try:
            # Wait until the limit is reached (or give up): a fifth request would show here.
            await asyncio.wait_for(crowded.wait(), 2.0)
        except TimeoutError:
            pass
        await asyncio.sleep(0.01)
        current -= 1
        return _json(_vector())

    server.handler = slow
    async with PromClient(server.url, max_inflight=4) as client:
        await asyncio.gather(*(client.query("up") for _ in range(10)))
        assert client.queries_sent == 10
    assert highest == 4


async def test_timeout_is_a_feed_error(server: Server) -> None:
    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        await release.wait()
        return _json(_vector())

    server.handler = stuck
    async with PromClient(server.url, timeout=0.2) as client:
        with pytest.raises(FeedError, match="did not answer within 0.2 s"):
            await client.query("up")
    release.set()


async def test_connection_refused_and_dns() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with PromClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(FeedError, match="connection refused"):
            await client.query("up")
    async with PromClient("http://prometheus.k8stop-test.invalid:9090", timeout=5) as client:
        with pytest.raises(FeedError, match=r"host name not found \(DNS\): check --prometheus-url"):
            await client.query("up")


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=k8stop-test",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls_untrusted_then_ca_file_then_insecure(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    srv = Server()
    srv.handler = lambda request: _json(_vector(({}, "1")))
    runner = await _start(srv, ssl_context=context)
    try:
        async with PromClient(srv.url) as client:
            with pytest.raises(FeedError) as raised:
                await client.query("up")
        message = str(raised.value)
        assert "TLS certificate not trusted" in message
        assert "--prometheus-ca-file" in message and "--insecure-skip-tls-verify" in message
        async with PromClient(srv.url, PrometheusAuth(ca_file=str(cert))) as client:
            assert (await client.query("up")).samples[0][1].number == 1.0
        async with PromClient(srv.url, PrometheusAuth(insecure_skip_tls_verify=True)) as client:
            assert (await client.query("up")).samples[0][1].number == 1.0
    finally:
        await runner.cleanup()


def test_invalid_url_is_explained() -> None:
    with pytest.raises(FeedError, match="invalid Prometheus URL"):
        PromClient("localhost:9090")
