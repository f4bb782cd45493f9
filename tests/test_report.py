"""Reports: the JSON schema is stable and valid, text fits 100 columns, Markdown has its sections."""

from __future__ import annotations

import json
import math

import pytest
from facts_builders import apiserver, etcd, healthy, healthy_requests, member, request
from k8stop.queries.config import Settings
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus, safe_url
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.queries.model.values import NO_TRAFFIC, Value
from k8stop.queries.report import Report, make_report, render, render_json, render_markdown, render_text
from report_schema import FINDING_KEYS, KPI_KEYS, TOP_KEYS

T = Settings()


@pytest.fixture(scope="module")
def troubled() -> Report:
    snap = healthy(
        prometheus=SourceStatus(SourceState.OK, url="https://admin:s3cret@prom.example:9090/prom"),
        etcd=etcd(member("a:2379"), member("b:2379", fsync=0.07)),
        apiserver=apiserver(
            healthy_requests() + (request("POST", "pods", 1.4), request("GET", "idle", NO_TRAFFIC, rate=0.0))
        ),
    )
    return make_report(snap, T)


def test_json_schema(troubled: Report) -> None:
    doc = json.loads(render_json(troubled))
    assert set(doc) == TOP_KEYS
    assert doc["config"] == []  # no audit feed in this snapshot (tests/test_audit.py covers the rows)
    assert doc["generated_at"] == "2025-10-09T08:53:20Z"
    assert doc["cluster"] == {"context": "kind-test", "version": "v1.31.2"}
    assert doc["fleet"] is None and all(row["cluster"] is None for row in doc["kpis"] + doc["findings"])
    assert doc["sources"]["prometheus"] == {"status": "ok", "url": "https://prom.example:9090/prom", "detail": ""}
    assert doc["sources"]["kube"] == {"status": "ok", "detail": ""}
    for k in doc["kpis"]:
        assert set(k) == KPI_KEYS
        assert k["status"] in ("ok", "warn", "fail", "unknown")
        assert k["value"] is None or isinstance(k["value"], float)
        assert all(isinstance(k[f], str) for f in ("id", "name", "unit", "target", "detail"))
    fsync = next(k for k in doc["kpis"] if k["id"] == "etcd.wal_fsync_p99")
    assert fsync["value"] == pytest.approx(0.07) and fsync["unit"] == "s" and fsync["status"] == "warn"
    assert fsync["target"] == "< 0.01"
    for f in doc["findings"]:
        assert set(f) == FINDING_KEYS
        # The cause links agree both ways and name findings of the same report.
        by_id = {g["id"]: g for g in doc["findings"]}
        assert f["caused_by"] is None or f["id"] in by_id[f["caused_by"]]["symptoms"]
        assert all(by_id[s]["caused_by"] == f["id"] for s in f["symptoms"])
        assert f["severity"] in ("critical", "warning", "info")
        assert f["component"] in (
            "apiserver",
            "etcd",
            "scheduler",
            "controller-manager",
            "kubelet",
            "node",
            "workload",
            "network",
        )
        for e in f["evidence"]:
            assert (
                set(e) == {"query", "value", "detail"} and isinstance(e["query"], str) and isinstance(e["detail"], str)
            )
            assert e["value"] is None or isinstance(e["value"], (float, str))
    # Most important first: the slow etcd member, then the write it slows down.
    assert [f["id"] for f in doc["findings"]][:2] == ["etcd.wal_fsync_p99_slow:b:2379", "apiserver.latency:POST pods"]
    assert doc["findings"][0]["symptoms"] == ["apiserver.latency:POST pods"]
    assert doc["findings"][1]["caused_by"] == "etcd.wal_fsync_p99_slow:b:2379"
    assert "s3cret" not in render_json(troubled)


def test_json_never_emits_nan_or_inf() -> None:
    snap = healthy(
        etcd=etcd(member("a", fsync=Value.of(math.inf), rtt=NO_TRAFFIC)),
        apiserver=apiserver((request("GET", "pods", Value.of(math.inf)),), error_ratio=NO_TRAFFIC),
    )
    text = render(make_report(snap, T), "json")
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    values = {k["id"]: k["value"] for k in doc["kpis"]}
    assert values["etcd.wal_fsync_p99"] is None
    assert values["etcd.peer_rtt_p99"] is None
    assert values["apiserver.error_ratio_5xx"] is None


def test_missing_feed_reports_null_with_reason() -> None:
    snap = healthy(
        etcd=None, feeds=(("etcd", FeedStatus(FeedState.NOT_EXPOSED, "etcd not exposed by this control plane")),)
    )
    doc = json.loads(render_json(make_report(snap, T)))
    fsync = next(k for k in doc["kpis"] if k["id"] == "etcd.wal_fsync_p99")
    assert fsync == {**fsync, "value": None, "status": "unknown", "detail": "etcd not exposed by this control plane"}


def test_text_fits_100_columns_and_names_everything(troubled: Report) -> None:
    text = render_text(troubled)
    # Prose wraps at 100 columns; commands stay whole on their own line, to be copied.
    assert max(len(line) for line in text.splitlines() if "[cmd " not in line) <= 100
    [fio] = [line for line in text.splitlines() if line.strip().startswith("[cmd 1] mkdir -p /var/lib/etcd-fio")]
    assert "--fdatasync=1" in fio and fio.rstrip().endswith("rm -rf /var/lib/etcd-fio")
    assert "[WARNING] etcd b:2379" in text or "[CRITICAL] etcd b:2379" in text
    assert "likely caused by etcd b:2379" in " ".join(text.split())  # wrapping may split it
    assert "etcd.wal_fsync_p99" in text and "70 ms" in text
    assert "s3cret" not in text


def test_markdown_sections(troubled: Report) -> None:
    md = render_markdown(troubled)
    for heading in ("## Summary", "## Sources", "## Findings", "## KPIs"):
        assert heading in md
    assert "| Query | Value | Detail |" in md
    assert "**Recommendation:**" in md
    assert "caused by: `etcd.wal_fsync_p99_slow:b:2379`" in md
    assert "s3cret" not in md


def test_healthy_report_says_so() -> None:
    report = make_report(healthy(), T)
    assert "0 critical, 0 warning" in render_text(report)
    assert json.loads(render_json(report))["findings"] == []


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="text, markdown, json"):
        render(make_report(healthy(), T), "yaml")  # type: ignore[arg-type]


def test_safe_url_strips_credentials_query_and_fragment() -> None:
    # userinfo, query strings and fragments can all carry tokens: none reaches a report or message
    assert safe_url("http://u:p@[::1]:9090/x?q=1") == "http://[::1]:9090/x"
    assert safe_url("https://prom.example/api?access_token=s3cret#frag") == "https://prom.example/api"
    assert safe_url("http://tok@10.0.0.1:9090/prom/") == "http://10.0.0.1:9090/prom/"
    # a URL with nothing to strip comes back unchanged; IPv6 keeps its brackets without userinfo too
    assert safe_url("http://prom:9090") == "http://prom:9090"
    assert safe_url("http://[fd00::1]:9090") == "http://[fd00::1]:9090"
    assert safe_url("http://prom:notaport/x") == "http://prom/x"
    assert safe_url(None) is None


def test_disabled_sources() -> None:
    snap = ClusterSnapshot(
        0.0,
        None,
        None,
        SourceStatus(SourceState.DISABLED, "--no-prometheus"),
        SourceStatus(SourceState.ERROR, "connection refused"),
    )
    doc = json.loads(render_json(make_report(snap, T)))
    assert doc["sources"]["prometheus"] == {"status": "disabled", "url": None, "detail": "--no-prometheus"}
    assert doc["sources"]["kube"] == {"status": "error", "detail": "connection refused"}
    assert doc["cluster"] == {"context": None, "version": None}
    assert all(k["status"] == "unknown" and k["value"] is None for k in doc["kpis"])
