"""`k8stop report` as a user runs it: a subprocess, against a real Prometheus and the kube-API
test server. Output is checked against what the scenario / cluster put in, JSON against the
documented schema (README, "JSON (--format json)")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig
from kubeapi.faults import Fault
from kubeapi.scenario import CRASHLOOP_PODS
from report_schema import FINDING_KEYS, HEADLINE_KPIS, KPI_KEYS, TOP_KEYS
from scenario import Scenario

# A slow etcd member: the top finding must name it in every format.
SCENARIO = Scenario.slow_etcd_member(member=2, convention="generic", apiserver_histogram="legacy")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def k8stop(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "K8STOP_PROMETHEUS_URL")}
    env["HOME"] = str(cwd or Path.cwd())  # no user config file or ~/.kube/config leaks in
    return subprocess.run(
        [sys.executable, "-m", "k8stop.tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def prom_url(prometheus_for) -> str:
    return prometheus_for(SCENARIO).url


def check_schema(doc: dict[str, object]) -> None:
    assert set(doc) == TOP_KEYS
    for row in doc["config"]:
        assert set(row) == {"cluster", "component", "setting", "value", "recommended", "status", "source", "detail"}
        assert row["status"] in ("ok", "advice", "warn", "not applicable", "not visible")
        assert row.pop("cluster") is None  # one cluster: no fleet
        assert all(isinstance(v, str) for v in row.values())
    assert RFC3339.match(doc["generated_at"])
    assert doc["fleet"] is None
    assert set(doc["cluster"]) == {"context", "version"}
    assert set(doc["sources"]["prometheus"]) == {"status", "url", "detail"}
    assert set(doc["sources"]["kube"]) == {"status", "detail"}
    for source in doc["sources"].values():
        assert source["status"] in ("ok", "error", "disabled")
    for kpi in doc["kpis"]:
        assert set(kpi) == KPI_KEYS
        assert kpi["status"] in ("ok", "warn", "fail", "unknown")
        assert kpi["value"] is None or isinstance(kpi["value"], float)
    assert {k["id"] for k in doc["kpis"]} >= set(HEADLINE_KPIS)
    ranks = {"critical": 0, "warning": 1, "info": 2}
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in ranks
        for e in finding["evidence"]:
            assert set(e) == {"query", "value", "detail"}
    # Most important first: every independent cause, by severity, then the symptoms, none more
    # severe than its cause.
    causes = [f for f in doc["findings"] if f["caused_by"] is None]
    assert doc["findings"][: len(causes)] == causes
    severities = [ranks[f["severity"]] for f in causes]
    assert severities == sorted(severities)
    by_id = {f["id"]: f for f in doc["findings"]}
    for f in doc["findings"][len(causes) :]:
        assert ranks[f["severity"]] >= ranks[by_id[f["caused_by"]]["severity"]]


def test_json_report(prom_url: str, tmp_path: Path) -> None:
    run = k8stop("report", "--format", "json", "--no-kube", "--prometheus-url", prom_url, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    doc = orjson.loads(run.stdout)
    check_schema(doc)
    assert doc["sources"]["prometheus"] == {"status": "ok", "url": prom_url, "detail": f"{prom_url} (--prometheus-url)"}
    assert doc["sources"]["kube"]["status"] == "disabled"
    slow = SCENARIO.etcd[2]
    top = doc["findings"][0]
    assert (top["component"], top["severity"]) == ("etcd", "critical") and top["subject"].startswith(slow.name)
    kpis = {k["id"]: k for k in doc["kpis"]}
    expected = SCENARIO.expected_etcd_quantile(slow.name, "wal_fsync")
    assert kpis["etcd.wal_fsync_p99"]["value"] == pytest.approx(expected, rel=0.02)
    # Past the seed target (10 ms), under the mixin's 500 ms critical limit.
    assert kpis["etcd.wal_fsync_p99"]["status"] == "warn"
    assert kpis["etcd.backend_commit_p99"]["status"] == "fail"  # 350 ms, past the mixin's 250 ms
    hottest = max(SCENARIO.nodes, key=lambda n: n.cpu)
    assert kpis["node.cpu_utilisation_max"]["value"] == pytest.approx(hottest.cpu, abs=0.01)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown_to_a_file(prom_url: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    run = k8stop(
        "report", "--format", fmt, "--no-kube", "--prometheus-url", prom_url, "--output", str(out), cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert str(out) in run.stderr
    text = out.read_text()
    slow = SCENARIO.etcd[2].name
    if fmt == "text":
        first = text.split("FINDINGS\n", 1)[1].splitlines()[0]
        assert first.startswith("  1. [CRITICAL] etcd ") and slow in first
    else:
        assert text.startswith("# k8stop report for")
        first = text.split("## Findings\n\n", 1)[1].split("\n\n", 2)
        assert first[0].startswith("### 1. [critical]") and slow in first[0]
        assert f"Component: `etcd`, subject: `{slow}" in first[1]


def test_bad_flag_is_exit_2(tmp_path: Path) -> None:
    run = k8stop("report", "--format", "yaml", "--no-kube", "--prometheus-url", "http://127.0.0.1:9", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--format" in run.stderr and "Traceback" not in run.stderr


def test_unreachable_prometheus_is_exit_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = k8stop(
        "report", "--format", "json", "--no-kube", "--prometheus-url", f"http://127.0.0.1:{port}", cwd=tmp_path
    )
    assert run.returncode == 3, run.stderr
    assert "no data source could be reached" in run.stderr and "connection refused" in run.stderr
    assert "Traceback" not in run.stderr
    doc = orjson.loads(run.stdout)  # the report still says why, for the pipeline's log
    check_schema(doc)
    assert doc["sources"]["prometheus"]["status"] == "error" and doc["findings"] == []


def test_kube_only(kubeconfig_path: Path, tmp_path: Path) -> None:
    run = k8stop("report", "--format", "json", "--no-prometheus", "--kubeconfig", str(kubeconfig_path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    doc = orjson.loads(run.stdout)
    check_schema(doc)
    assert doc["sources"]["prometheus"]["status"] == "disabled"
    assert doc["sources"]["kube"]["status"] == "ok"
    assert doc["cluster"]["version"].startswith("v1.")
    # The small kubeadm-like cluster's static pods carry no flags: upstream defaults, read from the pods.
    inflight = next(c for c in doc["config"] if c["setting"] == "--max-requests-inflight")
    assert inflight["value"] == "400 (default)" and "kube-system/kube-apiserver-cp-1" in inflight["detail"]
    top = doc["findings"][0]
    assert top["component"] == "workload"
    # The crash-looping replicas are one finding about their Deployment, naming each pod.
    assert top["subject"] == "shop/checkout"
    assert top["title"].startswith(f"{len(CRASHLOOP_PODS)} replicas of Deployment shop/checkout")
    assert "OOMKilled" in top["title"]
    assert all(any(pod in e["query"] for e in top["evidence"]) for pod in CRASHLOOP_PODS)


def test_report_on_a_recording(tmp_path: Path) -> None:
    """The bundled demo: healthy for its first 10 %, then etcd-b's disk turns slow (tests/tools/make_demo.py)."""
    from k8stop.tui.replay_command import demo_path

    slow_ip = Scenario.healthy().etcd[1].ip
    early = k8stop("report", "--replay", str(demo_path()), "--at", "30", "--format", "json", cwd=tmp_path)
    assert early.returncode == 0, early.stderr
    assert [f for f in orjson.loads(early.stdout)["findings"] if f["severity"] != "info"] == []
    late = k8stop("report", "--replay", str(demo_path()), "--format", "markdown", cwd=tmp_path)
    assert late.returncode == 0, late.stderr
    first = late.stdout.split("## Findings\n\n", 1)[1].split("\n\n", 2)
    assert first[0].startswith("### 1. [critical]") and f"subject: `{slow_ip}" in first[1]
    # Slow mutating calls are the etcd member's symptom, ranked after it and naming it.
    assert (
        f"caused by: `etcd.backend_commit_p99_slow:{slow_ip}" in late.stdout
        or f"caused by: `etcd.wal_fsync_p99_slow:{slow_ip}" in late.stdout
    )
    outside = k8stop("report", "--replay", str(demo_path()), "--at", "99999", cwd=tmp_path)
    assert outside.returncode == 2 and "outside the recording" in outside.stderr


def test_at_takes_the_offsets_the_replay_bar_shows(tmp_path: Path) -> None:
    """`--at 1:30` and `--at 0:01:30` are the moment `--at 90` names (the time bar's M:SS)."""
    from k8stop.tui.replay_command import demo_path

    def report(at: str) -> dict[str, object]:
        run = k8stop("report", "--replay", str(demo_path()), "--at", at, "--format", "json", cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        doc = orjson.loads(run.stdout)
        return doc

    seconds = report("90")
    assert report("1:30") == seconds and report("0:01:30") == seconds
    # Late in the incident, as M:SS: the slow etcd member is found, as with seconds
    assert report("14:00") == report("840")
    assert [f for f in report("14:00")["findings"] if f["severity"] == "critical"]  # type: ignore[union-attr]
    for bad, why in (("1:75", "expected RFC 3339, M:SS or H:MM:SS"), ("99:00", "outside the recording (15:00 long)")):
        run = k8stop("report", "--replay", str(demo_path()), "--at", bad, cwd=tmp_path)
        assert run.returncode == 2 and why in run.stderr and run.stderr.count("\n") == 1, run.stderr


def test_a_failed_source_next_to_an_answering_one_is_exit_4(kubeconfig_path: Path, tmp_path: Path) -> None:
    """The kube API answers, Prometheus refuses: the report is written, stderr names the
    failure, exit 4 so a pipeline sees it; `--fail-on unreachable` keeps the old 0."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ("report", "--format", "json", "--kubeconfig", str(kubeconfig_path))
    run = k8stop(*args, "--prometheus-url", f"http://127.0.0.1:{port}", cwd=tmp_path)
    assert run.returncode == 4, run.stderr
    assert "a configured source failed: Prometheus:" in run.stderr and "connection refused" in run.stderr
    doc = orjson.loads(run.stdout)
    check_schema(doc)
    assert doc["sources"]["kube"]["status"] == "ok" and doc["sources"]["prometheus"]["status"] == "error"
    lenient = k8stop(*args, "--prometheus-url", f"http://127.0.0.1:{port}", "--fail-on", "unreachable", cwd=tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert "a configured source failed: Prometheus:" in lenient.stderr


SLOW_PODS = 6000  # 12 pages of 500
PAGE_DELAY = 0.5  # per pods list page: the list takes 6 s or more
IDLE_TIMEOUT = 2  # far shorter than the whole list, longer than one page


def test_report_waits_for_a_slow_list_that_keeps_progressing(tmp_path: Path) -> None:
    """A list that takes several times the idle timeout but delivers a page every half second
    is slow, not stuck: the report waits for it and the kube source is ok with every pod
    counted. (bench/run.py shows the same for a 150,000-pod list of minutes.)"""
    with ThreadedKubeApiServer(Cluster.generate(nodes=20, pods=SLOW_PODS), token="test-token") as server:
        server.inject(Fault(r"^/api/v1/pods$", verbs=frozenset({"list"}), delay=PAGE_DELAY))
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url, server.token)
        config = tmp_path / "config.yaml"
        config.write_text(f"kube_sync_idle_timeout: {IDLE_TIMEOUT}\n", encoding="utf-8")
        started = time.monotonic()
        run = k8stop(
            "report", "--format", "json", "--no-prometheus", "--config", str(config),
            "--kubeconfig", str(kubeconfig), cwd=tmp_path,
        )  # fmt: skip
        took = time.monotonic() - started
        pod_lists = [r for r in server.requests if r.verb == "list" and r.resource == "pods"]
    assert run.returncode == 0, run.stderr
    doc = orjson.loads(run.stdout)
    assert doc["sources"]["kube"]["status"] == "ok", doc["sources"]["kube"]
    assert len(pod_lists) >= SLOW_PODS // 500  # (plus the generated control plane's pods)
    # The list alone outlasted the idle timeout three times over: only progress kept it going
    assert len(pod_lists) * PAGE_DELAY >= 3 * IDLE_TIMEOUT and took > 3 * IDLE_TIMEOUT
    # stderr is not a terminal here: no progress line in a pipeline's log
    assert "syncing" not in run.stderr


def test_report_on_a_stuck_list_is_an_error_naming_the_idle_timeout(tmp_path: Path) -> None:
    with ThreadedKubeApiServer(Cluster.generate(nodes=5, pods=1500), token="test-token") as server:
        # The first page arrives, the second never does (within the test)
        server.inject(Fault(r"^/api/v1/pods$", verbs=frozenset({"list"}), delay=0.0, times=1))
        server.inject(Fault(r"^/api/v1/pods$", verbs=frozenset({"list"}), delay=50.0))
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url, server.token)
        config = tmp_path / "config.yaml"
        config.write_text("kube_sync_idle_timeout: 3\n", encoding="utf-8")
        run = k8stop(
            "report", "--format", "json", "--no-prometheus", "--config", str(config),
            "--kubeconfig", str(kubeconfig), cwd=tmp_path,
        )  # fmt: skip
    assert run.returncode == 3, run.stderr
    kube = orjson.loads(run.stdout)["sources"]["kube"]
    assert kube["status"] == "error"
    assert "initial list stuck: nothing arrived for 3 s (syncing pods: 500 / ~1,500 in 1 pages)" in kube["detail"]
    assert "kube_sync_idle_timeout" in kube["detail"]


def test_progress_line_on_a_terminal() -> None:
    import io

    from k8stop.queries.model.facts import SyncProgress
    from k8stop.tui.report_command import SyncProgressLine

    out = io.StringIO()
    line = SyncProgressLine(out)
    line(SyncProgress("pods", 96, 48_000, 150_000, 12.4))
    line(SyncProgress("pods", 300, 150_000, 150_000, 31.0))
    line.done()
    assert out.getvalue() == (
        "\rk8stop: syncing pods: 48,000 / ~150,000 (96 pages, 12 s)\x1b[K"
        "\rk8stop: syncing pods: 150,000 / ~150,000 (300 pages, 31 s)\x1b[K\n"
    )
