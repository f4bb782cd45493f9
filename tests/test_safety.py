"""Safety: read-only against the cluster, no shell-outs, TLS verified by default, and no
credential in any output. Credentials are canaries; every output is searched for them."""

from __future__ import annotations

import base64
import gzip
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faulty_proxy import Fault, FaultyProxy, Misbehaviour
from k8stop.queries.config import PrometheusAuth, Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.status import FeedState
from k8stop.tui.app import K8sTopApp
from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig
from scenario import Scenario
from screen import screen_text, wait_for

ROOT = Path(__file__).resolve().parent.parent
PROM_TOKEN = "CANARY-prom-token-7f3a9e"
BASIC_USER = "k8stop-canary"
BASIC_PASSWORD = "CANARY-basic-pass-91c2d4"
HEADER_TOKEN = "CANARY-header-bearer-55d1aa"
ORG_ID = "CANARY-org-tenant-a8e077"
URL_PASSWORD = "CANARY-url-pass-3b9c11"
KUBE_TOKEN = "CANARY-kube-token-c0ffee"
KUBE_WRONG_TOKEN = "CANARY-kube-expired-dead01"
CANARIES = (PROM_TOKEN, BASIC_PASSWORD, HEADER_TOKEN, ORG_ID, URL_PASSWORD, KUBE_TOKEN, KUBE_WRONG_TOKEN)
READ_VERBS = {"get", "list", "watch"}


def leaked(text: str) -> list[str]:
    """Canaries found in `text`, raw or inside a basic-auth header."""
    found = [c for c in CANARIES if c in text]
    for user, password in ((BASIC_USER, BASIC_PASSWORD), ("k8stop", URL_PASSWORD)):
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        if encoded in text:
            found.append(f"base64({password})")
    return found


# --- static checks -----------------------------------------------------------------------


@pytest.mark.parametrize("package", ["queries", "tui", "widgets"])
def test_no_shell_outs(package: str) -> None:
    forbidden = re.compile(r"\b(subprocess|os\.system|os\.popen|os\.exec\w*|os\.spawn\w*|pty\.spawn|shell=True)\b")
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if forbidden.search(line)
    ]
    assert not hits, hits


# --- servers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(prometheus_for: Any) -> Iterator[FaultyProxy]:
    prom = prometheus_for(Scenario.healthy(node_exporter_exposed=False, ksm_exposed=False))
    with FaultyProxy(prom.url) as running:
        yield running


@pytest.fixture(scope="module")
def canary_cluster() -> Iterator[ThreadedKubeApiServer]:
    with ThreadedKubeApiServer(Cluster.small(), token=KUBE_TOKEN, bookmark_interval=0.5) as server:
        yield server
        verbs = {r.verb for r in server.requests}
        assert server.requests and verbs <= READ_VERBS, verbs


@pytest.fixture
def secrets(tmp_path: Path, canary_cluster: ThreadedKubeApiServer) -> dict[str, Path]:
    token, password = tmp_path / "prom-token", tmp_path / "prom-password"
    token.write_text(PROM_TOKEN + "\n")
    password.write_text(BASIC_PASSWORD + "\n")
    return {
        "token": token,
        "password": password,
        "kubeconfig": write_kubeconfig(tmp_path / "kubeconfig", canary_cluster.url, KUBE_TOKEN),
        "wrong_kubeconfig": write_kubeconfig(tmp_path / "wrong-kubeconfig", canary_cluster.url, KUBE_WRONG_TOKEN),
    }


def app_outputs(app: K8sTopApp) -> str:
    notes = "\n".join(str(n.message) for n in app._notifications)
    statuses = "\n".join(repr(p.status) for p in app.dashboard.panels().values())
    return "\n".join((screen_text(app), app.export_screenshot(), notes, statuses, repr(app.source.prom_client)))


# --- the app -----------------------------------------------------------------------------


async def test_app_outputs_and_recording_hold_no_credentials(
    proxy: FaultyProxy, secrets: dict[str, Path], tmp_path: Path
) -> None:
    auth = PrometheusAuth(bearer_token_file=str(secrets["token"]), headers=(("X-Scope-OrgID", ORG_ID),))
    settings = Settings(
        prometheus_url=proxy.url, prometheus=auth, kubeconfig=str(secrets["kubeconfig"]), refresh=0.5, query_timeout=1.0
    )
    app = K8sTopApp(settings, LiveSource)
    proxy.clear()
    seen = len(proxy.seen_headers)
    async with app.run_test(size=(80, 24)) as pilot:
        recording = app.recording.start(tmp_path / "canary.k8stop")
        panels = app.dashboard.panels()
        await wait_for(pilot, lambda: all(p.status.state is FeedState.OK for p in panels.values()), what="data")
        await pilot.pause(1.0)
        outputs = app_outputs(app)
        app.recording.stop()
    sent = proxy.seen_headers[seen:]
    assert any(h.get("Authorization") == f"Bearer {PROM_TOKEN}" and h.get("X-Scope-OrgID") == ORG_ID for h in sent)
    outputs += gzip.decompress(recording.read_bytes()).decode("utf-8", "replace")
    assert not leaked(outputs)


async def test_auth_errors_name_the_fix_without_the_credentials(
    proxy: FaultyProxy, secrets: dict[str, Path], canary_cluster: ThreadedKubeApiServer
) -> None:
    auth = PrometheusAuth(basic_user=BASIC_USER, basic_password_file=str(secrets["password"]))
    settings = Settings(
        prometheus_url=proxy.url.replace("://", f"://k8stop:{URL_PASSWORD}@"),
        prometheus=auth,
        kubeconfig=str(secrets["wrong_kubeconfig"]),
        refresh=0.5,
        query_timeout=1.0,
    )
    app = K8sTopApp(settings, LiveSource)
    proxy.set(Fault(Misbehaviour.UNAUTHORIZED))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            panels = app.dashboard.panels()
            await wait_for(
                pilot,
                lambda: (
                    "HTTP 401" in panels["etcd"].status.reason and "token expired" in panels["restarts"].status.reason
                ),
                what="401 from Prometheus and the kube API",
            )
            outputs = app_outputs(app)
    finally:
        proxy.clear()
    assert "--prometheus-bearer-token-file or basic auth" in outputs
    basic = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
    assert any(h.get("Authorization") == f"Basic {basic}" for h in proxy.seen_headers)
    assert not leaked(outputs)


# --- the report command ------------------------------------------------------------------


def run_report(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("k8stop")
    assert exe is not None
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    return subprocess.run([exe, "report", *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_report_holds_no_credentials(proxy: FaultyProxy, secrets: dict[str, Path], tmp_path: Path, fmt: str) -> None:
    proxy.clear()
    out = tmp_path / f"report.{fmt}"
    result = run_report(
        "--prometheus-url",
        proxy.url,
        "--kubeconfig",
        str(secrets["kubeconfig"]),
        "--prometheus-header",
        f"Authorization: Bearer {HEADER_TOKEN}",
        "--prometheus-header",
        f"X-Scope-OrgID: {ORG_ID}",
        "--format",
        fmt,
        "--output",
        str(out),
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert any(h.get("Authorization") == f"Bearer {HEADER_TOKEN}" for h in proxy.seen_headers)
    report = out.read_text(encoding="utf-8")
    assert "etcd" in report
    assert not leaked(report + result.stdout + result.stderr)


def test_report_error_path_holds_no_credentials(secrets: dict[str, Path], tmp_path: Path) -> None:
    result = run_report(
        "--prometheus-url",
        f"http://k8stop:{URL_PASSWORD}@127.0.0.1:1",
        "--kubeconfig",
        str(secrets["wrong_kubeconfig"]),
        "--prometheus-basic-user",
        BASIC_USER,
        "--prometheus-basic-password-file",
        str(secrets["password"]),
        home=tmp_path,
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert not leaked(result.stdout + result.stderr)
