"""Fleets: one real Prometheus holding three clusters with identical instance, member and node
names (as a Thanos or Mimir in front of them would), one with a slow etcd member. Nothing may be
mixed: the report ranks across clusters and names the sick one, a scoped KPI is exactly the
scoped PromQL, and the fleet screen opens first and scopes the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.recording import read_recording
from k8stop.queries.model.units import fmt_seconds
from k8stop.queries.model.values import Value
from k8stop.queries.rules.kpis import compute_kpis
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.fleet_screen import FleetScreen
from k8stop.widgets.fleet_table import FleetTable
from scenario import Fleet, Scenario
from screen import screen_text, wait_for

# Small clusters (no kubelet or cAdvisor series, 20 minutes of history) keep the backfill short.
SMALL = {"kubelet_exposed": False, "cadvisor_exposed": False, "history": 1200.0}
SICK, MEMBER = "prod-us", 1
FLEET = Fleet(
    (
        ("prod-eu", Scenario.healthy(**SMALL)),
        (SICK, Scenario.slow_etcd_member(member=MEMBER, fsync_p99=0.8, **SMALL)),
        ("staging", Scenario.healthy(**SMALL)),
    )
)
SICK_MEMBER = f"{FLEET.cluster(SICK).etcd[MEMBER].ip}:2379"
SICK_FSYNC = FLEET.cluster(SICK).expected_etcd_quantile(FLEET.cluster(SICK).etcd[MEMBER].name, "wal_fsync")


@pytest.fixture(scope="module")
def fleet_prom(prometheus_for):
    return prometheus_for(FLEET)


def k8stop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "K8STOP_PROMETHEUS_URL")}
    env["HOME"] = str(cwd)  # no user config file or ~/.kube/config leaks in
    return subprocess.run(
        [sys.executable, "-m", "k8stop.tui.cli", *args], capture_output=True, text=True, timeout=180, env=env, cwd=cwd
    )


def test_the_fixture_holds_three_clusters_with_the_same_member_names(fleet_prom) -> None:
    members = fleet_prom.query("count by (cluster, instance) (etcd_server_has_leader)")
    by_cluster = {}
    for row in members:
        by_cluster.setdefault(row["metric"]["cluster"], set()).add(row["metric"]["instance"])
    assert set(by_cluster) == {"prod-eu", SICK, "staging"}
    assert by_cluster["prod-eu"] == by_cluster[SICK] == by_cluster["staging"] and SICK_MEMBER in by_cluster[SICK]


def test_fleet_report_ranks_across_clusters_and_names_the_sick_one(fleet_prom, tmp_path: Path) -> None:
    run = k8stop("report", "--format", "json", "--no-kube", "--prometheus-url", fleet_prom.url, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    doc = orjson.loads(run.stdout)
    assert doc["fleet"]["label"] == "cluster"
    assert doc["fleet"]["clusters"][0]["name"] == SICK  # worst cluster first
    assert {c["name"] for c in doc["fleet"]["clusters"]} == {"prod-eu", SICK, "staging"}
    top = doc["findings"][0]
    assert top["cluster"] == SICK and top["subject"] == SICK_MEMBER and top["severity"] == "critical", top
    # The evidence PromQL is the scoped query: it reads the sick cluster alone.
    assert all(f'cluster="{SICK}"' in e["query"] for e in top["evidence"] if "{" in e["query"])
    assert not [f for f in doc["findings"] if f["cluster"] != SICK and f["severity"] == "critical"]
    # Every KPI once per cluster, each graded on its own cluster's series.
    fsync = {k["cluster"]: k for k in doc["kpis"] if k["id"] == "etcd.wal_fsync_p99"}
    assert set(fsync) == {"prod-eu", SICK, "staging"}
    assert fsync[SICK]["status"] == "fail" and fsync[SICK]["value"] == pytest.approx(SICK_FSYNC, rel=0.01)
    eu = FLEET.cluster("prod-eu")
    healthy = max(eu.expected_etcd_quantile(m.name, "wal_fsync") for m in eu.etcd)  # the KPI is the worst member
    assert fsync["prod-eu"]["value"] == pytest.approx(healthy, rel=0.01)

    text = k8stop("report", "--no-kube", "--prometheus-url", fleet_prom.url, cwd=tmp_path).stdout
    first = text.split("TOP FINDINGS ACROSS THE FLEET\n", 1)[1].splitlines()[0]
    assert f"cluster {SICK}:" in first and SICK_MEMBER in first and "[CRITICAL]" in first
    sections = [line.removeprefix("CLUSTER ") for line in text.splitlines() if line.startswith("CLUSTER ")]
    assert sections[0] == SICK and sorted(sections) == ["prod-eu", SICK, "staging"]
    markdown = k8stop("report", "--format", "markdown", "--no-kube", "--prometheus-url", fleet_prom.url, cwd=tmp_path)
    headings = [line for line in markdown.stdout.splitlines() if line.startswith("## Cluster ")]
    assert headings[0] == f"## Cluster {SICK}" and len(headings) == 3


def test_one_healthy_cluster_reports_alone(fleet_prom, tmp_path: Path) -> None:
    args = ("report", "--format", "json", "--no-kube", "--prometheus-url", fleet_prom.url, "--cluster", "staging")
    run = k8stop(*args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    doc = orjson.loads(run.stdout)
    assert doc["fleet"] is None
    assert {f["cluster"] for f in doc["findings"]} <= {"staging"} and {k["cluster"] for k in doc["kpis"]} == {"staging"}
    assert not [f for f in doc["findings"] if f["severity"] == "critical"], doc["findings"]
    fsync = next(k for k in doc["kpis"] if k["id"] == "etcd.wal_fsync_p99")
    assert fsync["status"] != "fail"


@pytest.mark.parametrize("cluster", [SICK, "prod-eu"])
async def test_a_scoped_kpi_is_the_scoped_promql(fleet_prom, cluster: str) -> None:
    settings = Settings(prometheus_url=fleet_prom.url, use_kube=False, cluster=cluster)
    kpis = {k.id: k for k in compute_kpis(await collect_snapshot(settings), settings.thresholds)}
    direct = fleet_prom.query(
        "max(histogram_quantile(0.99, sum by (instance, le) "
        f'(rate(etcd_disk_wal_fsync_duration_seconds_bucket{{cluster="{cluster}"}}[5m]))))'
    )
    assert kpis["etcd.wal_fsync_p99"].value.number == pytest.approx(float(direct[0]["value"][1]), rel=1e-6)
    # The QPS the issue saw summed over three clusters: here it is one cluster's.
    qps = fleet_prom.query(f'sum(rate(apiserver_request_total{{cluster="{cluster}"}}[5m]))')
    everything = fleet_prom.query("sum(rate(apiserver_request_total[5m]))")
    assert kpis["apiserver.qps"].value.number == pytest.approx(float(qps[0]["value"][1]), rel=1e-3)
    assert float(everything[0]["value"][1]) == pytest.approx(3 * float(qps[0]["value"][1]), rel=1e-3)


async def test_fleet_screen_opens_first_and_scopes_the_dashboard(fleet_prom, tmp_path: Path) -> None:
    app = K8sTopApp(Settings(prometheus_url=fleet_prom.url, use_kube=False, refresh=1.0), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, FleetScreen) and app.screen.facts is not None, what="fleet"
        )
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        rows = screen.facts.rows
        assert rows[0].cluster == SICK and {r.cluster for r in rows} == {"prod-eu", SICK, "staging"}
        assert rows[0].etcd_fsync_p99.subject == SICK_MEMBER
        assert rows[0].etcd_fsync_p99.value.number == pytest.approx(SICK_FSYNC, rel=0.01)
        text = screen_text(app)
        lines = text.splitlines()
        row_of = {
            name: next(i for i, line in enumerate(lines) if line.startswith(f" {name} "))
            for name in ("prod-eu", SICK, "staging")
        }
        assert row_of[SICK] < min(row_of["prod-eu"], row_of["staging"]), text
        assert fmt_seconds(Value.of(SICK_FSYNC)) in lines[row_of[SICK]], text  # as the scenario set it
        assert app.latest == {}  # no unscoped feed ran: it would have mixed the clusters

        # Enter on the second row scopes the dashboard to that cluster.
        await pilot.press("down")
        chosen = screen.query_one(FleetTable).selected_cluster
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="dashboard")
        assert app.settings.cluster == chosen and app.source.settings.cluster == chosen
        await wait_for(pilot, lambda: f"cluster {chosen}" in screen_text(app), what="cluster in the header")
        await wait_for(pilot, lambda: "etcd" in app.latest and app.latest["etcd"].facts is not None, what="etcd")
        members = app.latest["etcd"].facts.members
        healthy = FLEET.cluster(chosen).expected_etcd_quantile(FLEET.cluster(chosen).etcd[MEMBER].name, "wal_fsync")
        sick_member = next(m for m in members if m.instance == SICK_MEMBER)
        assert sick_member.wal_fsync_p99.number == pytest.approx(healthy, rel=0.01)  # not prod-us' 800 ms

        # A recording of the scoped session keeps its cluster, and its replay header shows it.
        app.recording.start(tmp_path / "scoped.k8rec")
        app.sync_recording()
        await wait_for(pilot, lambda: app.recording.recorder is not None and app.recording.recorder.updates > 0)
        path = app.recording.stop()
        assert path is not None and read_recording(path).header.cluster == chosen
        assert read_recording(path).header.info(()).cluster == chosen

        # Esc goes back to the fleet overview.
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="fleet again")


def test_cluster_flags_and_config(tmp_path: Path) -> None:
    from k8stop.queries.config import ConfigError
    from k8stop.tui.cli import build_parser, settings_from_args

    config = tmp_path / "config.yaml"
    config.write_text("cluster_label: tenant_cluster\nclusters:\n  prod-us: {context: prod-us-admin}\n")

    def settings(*flags: str) -> Settings:
        return settings_from_args(build_parser(None).parse_args(["--config", str(config), *flags]))

    assert settings().cluster_label == "tenant_cluster" and settings().cluster is None
    # The config pairs the cluster with its kube context: choosing one chooses both...
    paired = settings("--cluster", "prod-us")
    assert (paired.cluster, paired.context) == ("prod-us", "prod-us-admin")
    # ...unless --context says otherwise; an unpaired cluster keeps the current context.
    assert settings("--cluster", "prod-us", "--context", "other").context == "other"
    assert settings("--cluster", "staging").context is None
    assert settings("--cluster-label", "region").cluster_label == "region"
    with pytest.raises(ConfigError, match="--cluster-label 'not a label': not a Prometheus label name"):
        settings("--cluster-label", "not a label")
    with pytest.raises(ConfigError, match="needs a cluster label"):
        settings("--cluster-label", "", "--cluster", "prod-us")
    config.write_text("clusters:\n  prod-us: prod-us-admin\n")
    with pytest.raises(ConfigError, match=r"clusters.prod-us: expected \{context: NAME\}"):
        settings()
