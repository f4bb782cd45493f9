"""The scenario builder and the real-Prometheus fixture agree with each other.

Every expectation comes from the Scenario (knobs or its expected_* methods), every
answer from a real Prometheus over the backfilled history.
"""

from __future__ import annotations

import io
import math
import time

import histograms as h
import pytest
from prometheus_fixture import PrometheusHandle
from scenario import Scenario
from series_writer import write_openmetrics

TOLERANCE = 1e-6
LONG_RUNNING = 'verb!~"WATCH|CONNECT",subresource!~"proxy|attach|log|exec|portforward"'

HEALTHY = Scenario.healthy()
# Generic labels, and the slow member only for the last 20 minutes of history.
SLOW_ETCD_GENERIC = Scenario.slow_etcd_member(convention="generic").starting(1200)
CRASHLOOP = Scenario.crashloop().starting(1200)
LEGACY_GENERIC = Scenario.healthy(
    convention="generic", apiserver_histogram="legacy", etcd_legacy_db_metric=True, ksm_exposed=False
)
CRASHLOOP_RULES = """
groups:
- name: k8stop-fixture-test
  rules:
  - alert: KubePodCrashLooping
    expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
    labels: {severity: warning}
  - alert: CrashLoopingForAnHour
    expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
    for: 1h
  - record: namespace:restarts:increase15m
    expr: sum by (namespace) (increase(kube_pod_container_status_restarts_total[15m]))
"""


def by(result: list[dict[str, object]], label: str) -> dict[str, float]:
    return {r["metric"][label]: float(r["value"][1]) for r in result}  # type: ignore[index]


def at_anchor(prom: PrometheusHandle, label: str, promql: str) -> dict[str, float]:
    """The query's values at the scenario's anchor, by one label."""
    return by(prom.query(promql, at=prom.anchor), label)


def cpu_utilisation(job: str, grouping: str) -> str:
    """The node mixin's CPU utilisation (busy share of all modes but idle, iowait and steal), per `grouping`."""
    busy = f'sum without (mode) (rate(node_cpu_seconds_total{{job="{job}", mode=~"idle|iowait|steal"}}[5m]))'
    return f"1 - avg {grouping} ({busy})"


def fsync_p99(prom: PrometheusHandle, at: float) -> dict[str, float]:
    return by(
        prom.query(
            "histogram_quantile(0.99, sum by (le, instance) (rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m])))",
            at=at,
        ),
        "instance",
    )


# --- bucket arithmetic (no server) --------------------------------------------------------


@pytest.mark.parametrize(
    "bounds", [h.APISERVER_SLI_BUCKETS, h.ETCD_DISK_BUCKETS, h.WORKQUEUE_BUCKETS, h.POD_START_BUCKETS]
)
def test_distribution_puts_p99_exactly_where_asked(bounds: tuple[float, ...]) -> None:
    for p99 in (bounds[0], bounds[1] * 1.01, (bounds[3] + bounds[4]) / 2, bounds[-2] * 0.999, bounds[-1]):
        dist = h.distribution(bounds, p99)
        assert h.expected_quantile(0.99, dist) == pytest.approx(p99, rel=1e-9)
        assert h.expected_quantile(0.5, dist) <= h.expected_quantile(0.9, dist) <= p99


def test_p99_beyond_the_top_bucket_reads_as_the_top_bound() -> None:
    dist = h.distribution(h.ETCD_DISK_BUCKETS, 20.0)
    assert h.expected_quantile(0.99, dist) == h.ETCD_DISK_BUCKETS[-1]
    assert math.isnan(h.expected_quantile(0.99, tuple((le, 0.0) for le, _ in dist)))


def test_openmetrics_is_series_major_and_honours_exposure_knobs() -> None:
    out = io.StringIO()
    write_openmetrics(
        Scenario.healthy(
            etcd_exposed=False, node_exporter_exposed=False, kubelet_exposed=False, history=60.0, future=30.0
        ),
        out,
        anchor=1_700_000_000.0,
    )
    text = out.getvalue()
    assert text.endswith("# EOF\n")
    for absent in ("etcd_", "\nnode_", "\nkubelet_", 'job="node"', 'job="kubelet"'):
        assert absent not in text, absent
    assert "kube_pod_container_status_restarts_total{" in text
    last_seen: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, stamp = line.rpartition(" ")
        key = series.rpartition(" ")[0]
        assert last_seen.get(key, 0) < int(stamp), f"{key} out of time order"
        last_seen[key] = int(stamp)


# --- healthy, kube-prometheus labels ------------------------------------------------------


def test_startup_is_measured_and_quick(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    assert set(prom.startup_seconds) == {"generate", "backfill", "ready"}
    print(f"prometheus fixture startup: {prom.startup_seconds}")


def test_etcd_fsync_p99_per_member(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    shown = fsync_p99(prom, at=prom.anchor)
    expected = {f"{m.ip}:2379": HEALTHY.expected_etcd_quantile(m.name) for m in HEALTHY.etcd}
    assert shown.keys() == expected.keys()
    for instance, value in expected.items():
        assert abs(shown[instance] - value) < TOLERANCE, instance


def test_instant_query_at_wall_clock_now_is_covered(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    shown = fsync_p99(prom, at=time.time())
    assert len(shown) == len(HEALTHY.etcd)


def test_node_cpu_utilisation_mixin_expression_matches_knob(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    shown = at_anchor(prom, "instance", cpu_utilisation("node", "without (cpu)"))
    assert shown.keys() == {n.name for n in HEALTHY.nodes}
    for node in HEALTHY.nodes:
        assert abs(shown[node.name] - node.cpu) < TOLERANCE


def test_root_filesystem_and_memory_match_knobs(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    root = 'mountpoint="/"'
    disk = at_anchor(
        prom, "instance", f"1 - node_filesystem_avail_bytes{{{root}}} / node_filesystem_size_bytes{{{root}}}"
    )
    memory = at_anchor(prom, "instance", "1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes")
    tmpfs = at_anchor(prom, "instance", 'node_filesystem_avail_bytes{fstype="tmpfs"}')
    for node in HEALTHY.nodes:
        assert abs(disk[node.name] - node.disk) < TOLERANCE
        assert abs(memory[node.name] - node.memory) < TOLERANCE
    assert len(tmpfs) == len(HEALTHY.nodes)  # the decoy mount exists


def test_apiserver_p99_grid_excludes_long_running(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    result = prom.query(
        "histogram_quantile(0.99, sum by (verb, resource, le) (rate("
        f"apiserver_request_sli_duration_seconds_bucket{{{LONG_RUNNING}}}[5m])))",
        at=prom.anchor,
    )
    shown = {(r["metric"]["verb"], r["metric"]["resource"]): float(r["value"][1]) for r in result}
    pairs = {(r.verb, r.resource) for r in HEALTHY.all_requests() if not r.excluded}
    assert shown.keys() == pairs
    for (verb, resource), value in shown.items():
        assert abs(value - HEALTHY.expected_api_quantile(verb, resource)) < TOLERANCE
    # GET pods/log (p99 20 s) would dominate GET pods if it leaked in.
    assert shown[("GET", "pods")] < 1.0


def test_watch_p99_saturates_at_the_top_bucket(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    result = prom.query(
        'histogram_quantile(0.99, sum by (le) (rate(apiserver_request_sli_duration_seconds_bucket{verb="WATCH"}[5m])))',
        at=prom.anchor,
    )
    assert float(result[0]["value"][1]) == h.APISERVER_SLI_BUCKETS[-1]


def test_request_codes_and_both_histograms_exist(prometheus_for) -> None:
    prom = prometheus_for(HEALTHY)
    get_pods_total = 'apiserver_request_total{verb="GET",resource="pods",subresource=""}'
    codes = at_anchor(prom, "code", f"sum by (code) (rate({get_pods_total}[5m]))")
    get_pods = next(r for r in HEALTHY.requests if (r.verb, r.resource, r.subresource) == ("GET", "pods", ""))
    assert codes.keys() == {"200", "404"}
    assert abs(codes["404"] - get_pods.rate_4xx) < TOLERANCE
    assert abs(sum(codes.values()) - get_pods.qps) < TOLERANCE
    binding = prom.query(
        'sum(rate(apiserver_request_total{verb="POST",resource="pods",subresource="binding",code="201"}[5m]))',
        at=prom.anchor,
    )
    assert abs(float(binding[0]["value"][1]) - HEALTHY.scheduler.binding_rate) < TOLERANCE
    for metric in ("apiserver_request_sli_duration_seconds_bucket", "apiserver_request_duration_seconds_bucket"):
        assert prom.query(f"count({metric})", at=prom.anchor), metric
    build = prom.query('kubernetes_build_info{job="kube-apiserver"}', at=prom.anchor)
    assert {r["metric"]["git_version"] for r in build} == {HEALTHY.git_version}


# --- slow etcd member from 20 minutes ago, generic labels -----------------------------------


def test_slow_member_generic_labels_and_incident_start(prometheus_for) -> None:
    prom = prometheus_for(SLOW_ETCD_GENERIC)
    now = fsync_p99(prom, at=prom.anchor)
    earlier = fsync_p99(prom, at=prom.anchor - 1800)
    assert now.keys() == {f"{m.name}:2379" for m in SLOW_ETCD_GENERIC.etcd}
    before = SLOW_ETCD_GENERIC.before
    assert before is not None
    for member in SLOW_ETCD_GENERIC.etcd:
        instance = f"{member.name}:2379"
        assert abs(now[instance] - SLOW_ETCD_GENERIC.expected_etcd_quantile(member.name)) < TOLERANCE
        assert abs(earlier[instance] - before.expected_etcd_quantile(member.name)) < TOLERANCE
    assert now["etcd-b:2379"] == pytest.approx(0.2)
    assert earlier["etcd-b:2379"] < 0.01
    jobs = prom.query("count by (job, cluster) (up)", at=prom.anchor)
    assert {r["metric"]["job"] for r in jobs} == {
        "apiserver",
        "etcd-members",
        "node-exporter",
        "ksm",
        "scheduler",
        "controller-manager",
        "kubernetes-nodes",
        "kubernetes-kube-proxy",
        "kube-dns",
    }
    assert {r["metric"]["cluster"] for r in jobs} == {"synthetic"}


def test_generic_node_exporter_carries_node_label(prometheus_for) -> None:
    prom = prometheus_for(SLOW_ETCD_GENERIC)
    shown = at_anchor(prom, "node", cpu_utilisation("node-exporter", "by (node)"))
    for node in SLOW_ETCD_GENERIC.nodes:
        assert abs(shown[node.name] - node.cpu) < TOLERANCE
    instances = prom.query("count by (instance) (node_load1)", at=prom.anchor)
    assert {r["metric"]["instance"] for r in instances} == {f"{n.ip}:9100" for n in SLOW_ETCD_GENERIC.nodes}


def test_heatmap_history_shows_the_change(prometheus_for) -> None:
    prom = prometheus_for(SLOW_ETCD_GENERIC)
    series = prom.query_range(
        "histogram_quantile(0.99, sum by (le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket"
        '{instance="etcd-b:2379"}[1m])))',
        start=prom.anchor - 1800,
        end=prom.anchor,
        step=60,
    )
    values = [float(v) for _, v in series[0]["values"]]  # type: ignore[index]
    assert len(values) == 31
    assert values[0] == pytest.approx(0.005) and values[-1] == pytest.approx(0.2)


# --- crash-looping deployment from 20 minutes ago, with rules --------------------------------


def test_restart_increase_matches_the_scenario(prometheus_for) -> None:
    prom = prometheus_for(CRASHLOOP)
    for window, text in ((3600.0, "1h"), (900.0, "15m")):
        result = prom.query(f"increase(kube_pod_container_status_restarts_total[{text}])", at=prom.anchor)
        assert len(result) == sum(len(p.containers) for p in CRASHLOOP.pods)
        for r in result:
            labels = r["metric"]
            expected = CRASHLOOP.expected_restarts(labels["namespace"], labels["pod"], labels["container"], window)
            assert abs(float(r["value"][1]) - expected) < TOLERANCE, (labels, window)
    crashing = [p for p in CRASHLOOP.pods if p.containers[0].waiting_reason]
    assert CRASHLOOP.expected_restarts("shop", crashing[0].name, "app", 3600.0) == pytest.approx(2.0)


def test_waiting_reason_exists_only_while_waiting(prometheus_for) -> None:
    prom = prometheus_for(CRASHLOOP)
    query = 'kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}'
    now = prom.query(query, at=prom.anchor)
    assert {r["metric"]["pod"] for r in now} == {
        p.name for p in CRASHLOOP.pods if p.containers[0].waiting_reason == "CrashLoopBackOff"
    }
    assert prom.query(query, at=prom.anchor - 1800) == []
    oom = prom.query('kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}', at=prom.anchor)
    assert len(oom) == len(now)


def test_rules_evaluate_over_backfilled_data(prometheus_for) -> None:
    prom = prometheus_for(CRASHLOOP, rules=CRASHLOOP_RULES, eval_interval="1s")
    deadline = time.monotonic() + 30
    states: dict[str, set[str]] = {}
    while time.monotonic() < deadline:
        states = {}
        for alert in prom.api("alerts")["alerts"]:  # type: ignore[index]
            states.setdefault(alert["labels"]["alertname"], set()).add(alert["state"])
        if len(states) == 2:
            break
        time.sleep(0.5)
    assert states == {"KubePodCrashLooping": {"firing"}, "CrashLoopingForAnHour": {"pending"}}
    recorded = by(prom.query("namespace:restarts:increase15m"), "namespace")
    assert recorded["shop"] > 0


# --- older clusters, generic labels, no kube-state-metrics -------------------------------


def test_legacy_histogram_only_and_legacy_etcd_db_metric(prometheus_for) -> None:
    prom = prometheus_for(LEGACY_GENERIC)
    assert prom.query("count(apiserver_request_sli_duration_seconds_bucket)", at=prom.anchor) == []
    result = prom.query(
        "histogram_quantile(0.99, sum by (verb, resource, le) (rate("
        f'apiserver_request_duration_seconds_bucket{{job="apiserver",{LONG_RUNNING}}}[5m])))',
        at=prom.anchor,
    )
    for r in result:
        verb, resource = r["metric"]["verb"], r["metric"]["resource"]
        assert abs(float(r["value"][1]) - LEGACY_GENERIC.expected_api_quantile(verb, resource)) < TOLERANCE
    assert prom.query("etcd_mvcc_db_total_size_in_bytes", at=prom.anchor) == []
    db = prom.query("etcd_debugging_mvcc_db_total_size_in_bytes", at=prom.anchor)
    assert {float(r["value"][1]) for r in db} == {m.db_size_bytes for m in LEGACY_GENERIC.etcd}
    assert prom.query("kube_pod_container_status_restarts_total", at=prom.anchor) == []


@pytest.mark.parametrize(
    "make",
    [
        Scenario.list_storm,
        Scenario.cpu_saturated_node,
        Scenario.oom_node,
        Scenario.scheduler_backlog,
        Scenario.slow_etcd_member,
        Scenario.crashloop,
    ],
)
def test_every_catalogue_incident_differs_from_healthy_and_writes(make) -> None:
    incident = make(history=60.0, future=15.0)
    healthy = Scenario.healthy(history=60.0, future=15.0)
    assert incident != healthy and incident.name != healthy.name
    outputs = []
    for scenario in (healthy, incident):
        out = io.StringIO()
        write_openmetrics(scenario, out, anchor=1_700_000_000.0)
        outputs.append(out.getvalue())
    assert outputs[0] != outputs[1]
