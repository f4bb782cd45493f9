"""The tuning and sizing audit against the kube-API test server: a large kubeadm-style cluster whose
settings are read from static pods, ConfigMaps and kubelet /configz, and a managed cluster where
they are hidden. Every figure asserted is one the cluster was built with (tests/audit_cluster.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_cluster import CONTROL_PLANE, EVIDENCE, KUBELET, NODES, large_kubeadm_cluster, managed_cluster
from k8stop.queries.audit.read_kube import flatten, parse_flags
from k8stop.queries.config import Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.model.audit import AuditStatus, ConfigCheck
from k8stop.queries.model.codec import CODEC
from k8stop.queries.report import make_report, render, report_dict
from k8stop.queries.rules.guided import walk
from kubeapi import Fault, ThreadedKubeApiServer, write_kubeconfig

READ_VERBS = {"get", "list", "watch"}


def serve(cluster_factory, tmp_path: Path) -> Iterator[tuple[ThreadedKubeApiServer, Path]]:
    with ThreadedKubeApiServer(cluster_factory(), token="test-token", bookmark_interval=0.5) as server:
        yield server, write_kubeconfig(tmp_path / "kubeconfig", server.url, server.token)
    assert {r.method for r in server.requests} == {"GET"}
    assert server.verbs() <= READ_VERBS


@pytest.fixture
def large(tmp_path: Path) -> Iterator[tuple[ThreadedKubeApiServer, Path]]:
    yield from serve(large_kubeadm_cluster, tmp_path)


@pytest.fixture
def managed(tmp_path: Path) -> Iterator[tuple[ThreadedKubeApiServer, Path]]:
    yield from serve(managed_cluster, tmp_path)


def rows(config: tuple[ConfigCheck, ...]) -> dict[tuple[str, str], ConfigCheck]:
    return {(c.component, c.setting): c for c in config}


async def report_for(kubeconfig: Path, prometheus_url: str | None = None):
    settings = Settings(kubeconfig=str(kubeconfig), prometheus_url=prometheus_url, use_prometheus=bool(prometheus_url))
    return make_report(await collect_snapshot(settings), settings)


async def test_large_kubeadm_cluster_is_audited(large) -> None:
    server, kubeconfig = large
    server.kubelet_configs.set_default(KUBELET)
    report = await report_for(kubeconfig)
    assert report.snapshot.kube_summary is not None and report.snapshot.kube_summary.node_count == NODES
    got = rows(report.config)

    inflight = got[("kube-apiserver", "--max-requests-inflight")]
    assert (inflight.value, inflight.status) == ("400", AuditStatus.ADVICE)
    assert inflight.recommended.startswith(">= 3000")
    assert "total seats" in inflight.detail and "kube-apiserver-node-00000" in inflight.detail
    mutating = got[("kube-apiserver", "--max-mutating-requests-inflight")]
    assert (mutating.value, mutating.status) == ("200", AuditStatus.ADVICE)

    quota = got[("etcd", "--quota-backend-bytes")]
    assert (quota.value, quota.status) == ("2 GiB", AuditStatus.ADVICE)
    assert quota.recommended.startswith(">= 8 GiB")

    pulls = got[("kubelet", "serializeImagePulls")]
    assert (pulls.value, pulls.status) == ("true", AuditStatus.ADVICE)
    sampled = [n for n in ("node-00003", "node-00004", "node-00005") if n in pulls.detail]
    assert len(sampled) == 3  # three workers sampled, and named

    mode = got[("kube-proxy", "mode")]
    assert (mode.value, mode.status) == ("iptables", AuditStatus.ADVICE)

    cp_count = got[("control-plane", "node count")]
    assert (cp_count.value, cp_count.status) == ("3", AuditStatus.ADVICE)
    cpu = got[("control-plane", "CPU per node")]
    assert cpu.value == "4 cores (smallest of 3)" and cpu.status is AuditStatus.ADVICE
    assert all(n.name in cpu.detail for n in CONTROL_PLANE)
    memory = got[("control-plane", "memory per node")]
    assert memory.value == "16 GiB (smallest of 3)" and memory.status is AuditStatus.ADVICE
    members = got[("etcd", "member count")]
    assert (members.value, members.status) == ("1", AuditStatus.WARN)
    assert "--initial-cluster" in members.detail

    # At the recommended value already: not flagged.
    for key in (
        ("kube-controller-manager", "--concurrent-deployment-syncs"),
        ("kube-controller-manager", "--concurrent-gc-syncs"),
        ("kube-controller-manager", "--kube-api-qps"),
        ("kubelet", "kubeReserved"),
        ("kubelet", "systemReserved"),
        ("kubelet", "evictionHard"),
        ("kube-proxy", "minSyncPeriod"),
        ("etcd", "--heartbeat-interval"),
        ("kube-apiserver", "--enable-priority-and-fairness"),
    ):
        assert got[key].status is AuditStatus.OK, (key, got[key])

    # The guide's wrong or dated settings: not applicable, with the reason, never missing.
    for flag in ("scheduling-rate-limit", "cache-internal", "extenders-cache-ttl"):
        assert got[("kube-scheduler", flag)].status is AuditStatus.NOT_APPLICABLE
        assert "no such flag" in got[("kube-scheduler", flag)].detail
    score = got[("kube-scheduler", "percentage-of-nodes-to-score")]
    assert score.status is AuditStatus.NOT_APPLICABLE and "config" in score.detail
    assert score.recommended == "unset: adaptive 40 % (1,200 nodes, tier 1000+)"  # 50 - 1200/125
    topology = got[("Service", "topologyKeys")]
    assert topology.status is AuditStatus.NOT_APPLICABLE and "1.22" in topology.detail

    # Findings: ids config.<component>.<setting>, subject as users write it, in the diagnosis steps.
    findings = {f.id: f for f in report.findings}
    assert findings["config.kube-apiserver.max-requests-inflight"].subject == "--max-requests-inflight"
    assert findings["config.kubelet.serializeImagePulls"].subject == "serializeImagePulls"
    assert findings["config.kube-proxy.mode"].subject == "mode"
    assert findings["config.etcd.member-count"].severity.severity_word == "warning"
    assert not any(f.id.startswith("config.kube-controller-manager.") for f in report.findings)

    # Recordings and replays carry the readings exactly.
    assert CODEC.loads(CODEC.dumps(report.snapshot.audit)) == report.snapshot.audit

    # Only a few kubelets were asked for their config, never all 1,200.
    configz = [r.path for r in server.requests if r.path.endswith("/proxy/configz")]
    assert sorted(configz) == [f"/api/v1/nodes/node-0000{i}/proxy/configz" for i in (3, 4, 5)]


async def test_config_in_every_report_format(large) -> None:
    _, kubeconfig = large
    report = await report_for(kubeconfig)
    doc = report_dict(report)
    inflight = next(c for c in doc["config"] if c["setting"] == "--max-requests-inflight")
    assert set(inflight) == {"cluster", "component", "setting", "value", "recommended", "status", "source", "detail"}
    assert inflight["cluster"] is None  # not a fleet
    assert inflight["component"] == "kube-apiserver" and inflight["value"] == "400" and inflight["status"] == "advice"
    assert len(doc["config"]) == len(report.config) > 25
    markdown = render(report, "markdown")
    assert "## Config (tuning and sizing audit)" in markdown
    assert (
        "| kube-apiserver | `--max-requests-inflight` | 400 | >= 3000 (1,200 nodes, tier 1000+) | advice |" in markdown
    )
    text = render(report, "text")
    assert "CONFIG (tuning and sizing audit)" in text
    assert "ADVICE         kube-proxy mode: iptables" in text
    assert "NOT APPLICABLE kube-scheduler cache-internal: -" in text


async def test_managed_control_plane_is_not_visible(managed) -> None:
    server, kubeconfig = managed
    server.inject(Fault(r"/proxy/configz$", status=403))
    report = await report_for(kubeconfig)
    got = rows(report.config)
    assert report.snapshot.feed("audit").state.value == "ok"  # hidden settings are not an error
    inflight = got[("kube-apiserver", "--max-requests-inflight")]
    assert inflight.status is AuditStatus.NOT_VISIBLE and "no kube-apiserver static pod" in inflight.detail
    pulls = got[("kubelet", "serializeImagePulls")]
    assert pulls.status is AuditStatus.NOT_VISIBLE
    assert pulls.detail == "kubelet configz: forbidden (needs RBAC get nodes/proxy)"
    proxy = got[("kube-proxy", "mode")]
    assert proxy.status is AuditStatus.NOT_VISIBLE and "not found" in proxy.detail
    assert got[("control-plane", "CPU per node")].status is AuditStatus.NOT_VISIBLE
    assert got[("etcd", "member count")].status is AuditStatus.NOT_VISIBLE
    # Nothing hidden became a finding or an error.
    assert not any(f.id.startswith("config.") for f in report.findings)
    assert {c.status for c in report.config} <= {AuditStatus.NOT_VISIBLE, AuditStatus.NOT_APPLICABLE, AuditStatus.OK}


async def test_live_evidence_turns_advice_into_warnings(large, prometheus_for) -> None:
    _, kubeconfig = large
    prom = prometheus_for(EVIDENCE)
    report = await report_for(kubeconfig, prom.url)
    got = rows(report.config)
    rejected = sum(a.rejected_rate for a in EVIDENCE.apf) * len(EVIDENCE.apiserver_ips)
    inflight = got[("kube-apiserver", "--max-requests-inflight")]
    assert (inflight.value, inflight.status) == ("400", AuditStatus.WARN)
    assert f"APF rejecting {rejected:.3g} requests/s (429)" in inflight.detail
    quota = got[("etcd", "--quota-backend-bytes")]
    assert quota.status is AuditStatus.WARN and "etcd database at 90% of its quota" in quota.detail
    assert "etcd_server_quota_backend_bytes (Prometheus)" in quota.detail
    # Prometheus knows the members better than --initial-cluster: it scrapes all of the scenario's.
    members = got[("etcd", "member count")]
    assert members.value == str(len(EVIDENCE.etcd)) and "Prometheus" in members.detail
    finding = next(f for f in report.findings if f.id == "config.kube-apiserver.max-requests-inflight")
    assert finding.severity.severity_word == "warning" and str(finding.component) == "apiserver"
    # The warning sits in the guided diagnosis' API-server step, next to the APF evidence.
    api_step = walk(report)[0]
    assert finding in api_step.findings
    assert any(f.id.startswith("apiserver.") for f in api_step.findings)


async def test_forbidden_pods_fall_back_to_kubeadm_config(large) -> None:
    server, kubeconfig = large
    server.inject(Fault(r"^/api/v1/namespaces/kube-system/pods$", status=403))
    report = await report_for(kubeconfig)
    got = rows(report.config)
    inflight = got[("kube-apiserver", "--max-requests-inflight")]
    assert (inflight.value, inflight.status) == ("400", AuditStatus.ADVICE)
    assert "kubeadm ClusterConfiguration extraArgs" in inflight.detail
    assert got[("etcd", "--quota-backend-bytes")].value == "2 GiB"
    members = got[("etcd", "member count")]
    assert members.status is AuditStatus.NOT_VISIBLE
    assert members.detail == 'control-plane pods: forbidden (needs RBAC list pods in namespace "kube-system")'


async def test_managed_control_plane_seats_from_prometheus(managed, prometheus_for) -> None:
    """Flags hidden, but Prometheus still shows the server's total seats: the sum of both inflight limits."""
    _, kubeconfig = managed
    report = await report_for(kubeconfig, prometheus_for(EVIDENCE).url)
    seats = sum(a.nominal_limit_seats for a in EVIDENCE.apf)  # per API server
    inflight = rows(report.config)[("kube-apiserver", "--max-requests-inflight")]
    assert inflight.value == f"~{seats:.0f} seats in total (Prometheus)"
    assert inflight.status is AuditStatus.WARN and "APF rejecting" in inflight.detail
    assert "no kube-apiserver static pod" in inflight.detail


async def test_cluster_text_never_reaches_the_terminal_raw(large) -> None:
    """A kubelet config value carrying an OSC 52 clipboard write and a C1 control: shown as '?'."""
    server, kubeconfig = large
    hostile = "\x1b]52;c;Y2FuYXJ5\x07\x9b6n500Mi"
    server.kubelet_configs.set("node-00004", {"evictionHard": {"memory.available": hostile}})
    report = await report_for(kubeconfig)
    eviction = rows(report.config)[("kubelet", "evictionHard")]
    assert "memory.available=?]52;c;Y2FuYXJ5??6n500Mi" in eviction.value
    for fmt in ("text", "markdown", "json"):
        out = render(report, fmt)
        assert not any(ch in out for ch in "\x1b\x07\x9b"), fmt


def test_flags_as_installers_write_them() -> None:
    """kubeadm writes --name=value; other installers --name value; a bare --name is true (pflag)."""
    words = ["kube-apiserver", "--max-requests-inflight=800", "--max-mutating-requests-inflight", "400", "--profiling"]
    assert parse_flags(words) == (
        ("--max-requests-inflight", "800"),
        ("--max-mutating-requests-inflight", "400"),
        ("--profiling", "true"),
    )


def test_nested_configs_flatten_to_dotted_settings() -> None:
    config = {"mode": "", "iptables": {"minSyncPeriod": "0s"}, "evictionHard": {"nodefs.available": "10%"}}
    assert flatten(config, ("mode", "iptables.minSyncPeriod", "evictionHard", "ipvs.syncPeriod")) == (
        ("iptables.minSyncPeriod", "0s"),
        ("evictionHard", "nodefs.available=10%"),
    )
