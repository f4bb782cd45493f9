"""Scheduling backlog with its reason: Prometheus counts the unschedulable pods, the kube-API test
server holds their FailedScheduling events; the finding and the dashboard's header name the
reason the most pods fail on."""

from __future__ import annotations

from pathlib import Path

from k8stop.queries.config import Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.registry import SNAPSHOT_FEEDS
from k8stop.queries.model.finding import Component
from k8stop.queries.report import make_report
from k8stop.tui.app import K8sTopApp
from kubeapi.from_scenario import cluster_from_scenario
from kubeapi.kubeconfig import write_kubeconfig
from kubeapi.server import KubeApiServer
from scenario import Scenario
from screen import screen_text, wait_for

TOKEN = "scheduling-token"
TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
# Three pods short of CPU on every worker, one kept off by a taint as well, one with no count.
EVENTS = (
    (
        "batch",
        "report-a",
        f"0/6 nodes are available: 5 Insufficient cpu, 1 {TAINT}. preemption: 0/6 nodes are available.",
    ),
    ("batch", "report-b", f"0/6 nodes are available: 5 Insufficient cpu, 1 {TAINT}."),
    ("shop", "etl-0", "0/6 nodes are available: 6 Insufficient cpu."),
    ("shop", "gpu-job", "0/6 nodes are available: 6 Insufficient nvidia.com/gpu."),
)


def scenario() -> Scenario:
    return Scenario.scheduler_backlog(failed_scheduling=EVENTS)


async def _settings(prometheus_for, tmp_path: Path, server: KubeApiServer, refresh: float = 2.0) -> Settings:
    url = await server.start()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, TOKEN)
    return Settings(prometheus_url=prometheus_for(scenario()).url, kubeconfig=str(kubeconfig), refresh=refresh)


async def test_finding_names_the_reason_most_pods_fail_on(prometheus_for, tmp_path: Path) -> None:
    s = scenario()
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    try:
        settings = await _settings(prometheus_for, tmp_path, server)
        snap = await collect_snapshot(settings)
    finally:
        await server.stop()
    report = make_report(snap, settings)
    [found] = [f for f in report.findings if f.id == "scheduler.unschedulable:cluster"]
    assert found.component is Component.SCHEDULER
    pending = dict(s.scheduler.pending())["unschedulable"]
    assert found.title.startswith(f"{pending:,.0f} pods unschedulable")
    assert found.title.endswith("; top reason: Insufficient cpu on 6 nodes (3 pods)")
    reasons = [(e.detail, e.value) for e in found.evidence if e.detail.startswith("pods failing on: ")]
    assert reasons == [
        ("pods failing on: Insufficient cpu (up to 6 nodes)", 3.0),
        (f"pods failing on: {TAINT} (up to 1 nodes)", 2.0),
        ("pods failing on: Insufficient nvidia.com/gpu (up to 6 nodes)", 1.0),
    ]


async def test_dashboard_header_flags_the_backlog_with_its_reason(prometheus_for, tmp_path: Path) -> None:
    s = scenario()
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    try:
        settings = await _settings(prometheus_for, tmp_path, server, refresh=0.5)
        app = K8sTopApp(settings, LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: all(f in app.latest for f in SNAPSHOT_FEEDS), what="every feed")
            # The count comes from the scheduler's metrics, the reason from the events once synced.
            flag = " 800 UNSCHEDULABLE: Insufficient cpu "
            await wait_for(
                pilot, lambda: flag in screen_text(app).splitlines()[0], what="the backlog flag in the header"
            )
    finally:
        await server.stop()


async def test_healthy_cluster_has_no_flag(prometheus_for, tmp_path: Path) -> None:
    server = KubeApiServer(cluster_from_scenario(Scenario.healthy()), token=TOKEN)
    try:
        url = await server.start()
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, TOKEN)
        settings = Settings(
            prometheus_url=prometheus_for(Scenario.healthy()).url, kubeconfig=str(kubeconfig), refresh=0.5
        )
        app = K8sTopApp(settings, LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: all(f in app.latest for f in SNAPSHOT_FEEDS), what="every feed")
            assert "UNSCHEDULABLE" not in screen_text(app)
            assert app.dashboard.header.flags == ()
    finally:
        await server.stop()
