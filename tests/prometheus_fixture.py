"""Run a real Prometheus over a Scenario's backfilled history.

Generate OpenMetrics -> `promtool tsdb create-blocks-from openmetrics` -> start
`prometheus` with no scrape targets (and optional rule files) on a free port -> wait for
/-/ready. The history ends `scenario.future` seconds after the anchor, so wall-clock
instant queries keep landing inside it for the whole test session.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from scenario import Fleet, Scenario
from series_writer import write_file

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
READY_TIMEOUT = 60.0
# A server is reused while its history covers now plus this long (a test's longest read).
REUSE_MARGIN = 300.0


class PrometheusUnavailable(RuntimeError):
    """prometheus or promtool is not installed; tests needing them must skip, not pass."""


def binaries_present() -> bool:
    return all(Path(p).is_file() for p in (PROMETHEUS, PROMTOOL))


@dataclass
class PrometheusHandle:
    url: str
    scenario: Scenario | Fleet
    anchor: float  # unix seconds the scenario's values are defined at
    rules: str | None
    workdir: Path
    process: subprocess.Popen[bytes]
    startup_seconds: dict[str, float] = field(default_factory=dict)

    def expiring(self) -> bool:
        """Whether its history may end while a test still reads it: a long session must not hand
        a test a server whose data stops before the test does (series then vanish)."""
        return time.time() > self.anchor + self.scenario.future - REUSE_MARGIN

    def seconds_since_anchor(self) -> float:
        """Pass to Scenario.expected_* `at=` when a value depends on when it is asked."""
        return time.time() - self.anchor

    def query(self, promql: str, at: float | None = None) -> list[dict[str, object]]:
        """Instant query over plain HTTP; returns data.result (vector entries)."""
        params = {"query": promql}
        if at is not None:
            params["time"] = repr(at)
        return self._api("query", params)["result"]  # type: ignore[return-value]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict[str, object]]:
        params = {"query": promql, "start": repr(start), "end": repr(end), "step": repr(step)}
        return self._api("query_range", params)["result"]  # type: ignore[return-value]

    def api(self, path: str, params: dict[str, str] | None = None) -> dict[str, object]:
        """GET /api/v1/<path>; returns `data`."""
        return self._api(path, params or {}, method="GET")

    def _api(self, path: str, params: dict[str, str], method: str = "POST") -> dict[str, object]:
        body = urllib.parse.urlencode(params).encode()
        if method == "GET":
            request = urllib.request.Request(f"{self.url}/api/v1/{path}?{body.decode()}")
        else:
            request = urllib.request.Request(
                f"{self.url}/api/v1/{path}", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = orjson.loads(response.read())
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{path} {params}: HTTP {error.code} {error.read()!r}") from error
        if payload.get("status") != "success":
            raise AssertionError(f"{path} {params}: {payload}")
        return payload["data"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _die_with_parent() -> None:
    """Linux PR_SET_PDEATHSIG: a killed pytest must not leave servers running."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(rule_file: Path | None, eval_interval: str) -> str:
    rules = f"rule_files:\n  - {rule_file}\n" if rule_file else ""
    # Rules evaluate at wall-clock now, which is older than the backfilled blocks' end:
    # without an out-of-order window their ALERTS / recording samples would be rejected.
    return (
        f"global:\n  scrape_interval: 15s\n  evaluation_interval: {eval_interval}\n"
        f"storage:\n  tsdb:\n    out_of_order_time_window: 2h\n{rules}scrape_configs: []\n"
    )


def start_prometheus(
    scenario: Scenario | Fleet, rules: str | None = None, eval_interval: str = "5s"
) -> PrometheusHandle:
    if not binaries_present():
        raise PrometheusUnavailable(f"need {PROMETHEUS} and {PROMTOOL} (Debian: apt-get install prometheus)")
    timings: dict[str, float] = {}
    workdir = Path(tempfile.mkdtemp(prefix="k8stop-prom-"))
    try:
        clock = time.perf_counter()
        anchor = float(int(time.time()))
        history = workdir / "history.om"
        write_file(scenario, history, anchor)
        timings["generate"] = time.perf_counter() - clock

        clock = time.perf_counter()
        data = workdir / "data"
        data.mkdir()
        subprocess.run(
            [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(history), str(data)],
            check=True,
            capture_output=True,
        )
        history.unlink()
        timings["backfill"] = time.perf_counter() - clock

        clock = time.perf_counter()
        rule_file = None
        if rules is not None:
            rule_file = workdir / "rules.yml"
            rule_file.write_text(rules, encoding="utf-8")
        config = workdir / "prometheus.yml"
        config.write_text(_config(rule_file, eval_interval), encoding="utf-8")
        port = _free_port()
        log = (workdir / "prometheus.log").open("wb")
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            preexec_fn=_die_with_parent,
        )
        log.close()
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, workdir / "prometheus.log")
        timings["ready"] = time.perf_counter() - clock
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return PrometheusHandle(url, scenario, anchor, rules, workdir, process, timings)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"prometheus not ready after {READY_TIMEOUT}s:\n{log.read_text()[-3000:]}")


class PrometheusPool:
    """One server per (scenario, rules), started on first use and kept for the session."""

    def __init__(self) -> None:
        self._handles: dict[tuple[Scenario | Fleet, str | None, str], PrometheusHandle] = {}
        self._retired: list[PrometheusHandle] = []

    def get(self, scenario: Scenario | Fleet, rules: str | None = None, eval_interval: str = "5s") -> PrometheusHandle:
        key = (scenario, rules, eval_interval)
        handle = self._handles.get(key)
        if handle is not None and (handle.process.poll() is not None or handle.expiring()):
            self._retired.append(handle)  # a fixture of an earlier test may still hold it
            handle = None
        if handle is None:
            handle = start_prometheus(scenario, rules, eval_interval)
            self._handles[key] = handle
        return handle

    def close(self) -> None:
        for handle in (*self._handles.values(), *self._retired):
            handle.stop()
        self._handles.clear()
        self._retired.clear()
