"""Diagnosis rules, cause links and ranking, on facts whose numbers the tests choose."""

from __future__ import annotations

from dataclasses import replace

import pytest
from facts_builders import (
    GiB,
    alert,
    apiserver,
    control_plane,
    etcd,
    healthy,
    healthy_requests,
    member,
    node,
    nodes,
    pod,
    request,
    restart,
    restarts,
    summary,
)
from k8stop.queries.config import Selectors, Settings, Thresholds
from k8stop.queries.model.facts import AlertsFacts, ApfLevel, EventRecord, Inflight, KubeletOp, WorkQueue
from k8stop.queries.model.finding import Component, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.values import Value
from k8stop.queries.rules.diagnose import diagnose
from k8stop.queries.rules.grouping import rule_of

T = Thresholds()
SETTINGS = Settings(thresholds=T)


def run(snap: ClusterSnapshot) -> tuple[Finding, ...]:
    return diagnose(snap, SETTINGS)


def by_id(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def serious(findings: tuple[Finding, ...]) -> list[Finding]:
    return [f for f in findings if f.severity is not Level.INFO]


def test_healthy_cluster_has_no_warning_or_critical() -> None:
    assert serious(run(healthy())) == []


def test_one_slow_etcd_member_points_at_its_disk() -> None:
    snap = healthy(etcd=etcd(member("a:2379"), member("b:2379", fsync=0.045), member("c:2379", fsync=0.002)))
    found = run(snap)
    [slow] = [f for f in found if f.id.startswith("etcd.wal_fsync")]
    assert slow.subject == "b:2379" and slow.component is Component.ETCD
    assert slow.severity is Level.WARNING
    assert slow.evidence[0].value == pytest.approx(0.045)
    assert "Only this member" in slow.recommendation
    assert "--fdatasync=1" in slow.recommendation and "--bs=2300" in slow.recommendation
    assert "5000" in slow.recommendation  # seed §2.2 IOPS


def test_all_members_slow_blames_the_storage_class() -> None:
    snap = healthy(etcd=etcd(member("a", fsync=0.6), member("b", fsync=0.7)))
    slow = [f for f in run(snap) if f.id.startswith("etcd.wal_fsync")]
    assert len(slow) == 2 and all(f.severity is Level.CRITICAL for f in slow)
    assert slow[0].subject == "b"  # further past the threshold ranks first
    assert all("Every member" in f.recommendation for f in slow)


def test_backend_commit_quota_and_leadership() -> None:
    snap = healthy(
        etcd=etcd(
            member("a", commit=0.3, db=1.96 * GiB, quota=2 * GiB, leader_changes=5.0),
            member("b", db=1.7 * GiB, quota=2 * GiB, has_leader=False),
        )
    )
    found = by_id(run(snap))
    # One finding per member with all its evidence: a's slow commit and near-full DB, b's lost
    # leader and DB over the warning ratio.
    assert {f.subject for f in found.values() if f.component is Component.ETCD} == {"a", "b", "etcd cluster"}
    a = found["etcd.backend_commit_p99_slow:a"]
    assert a.severity is Level.CRITICAL and "also db near quota" in a.title
    assert [e.value for e in a.evidence if "etcd_server_quota_backend_bytes" in e.query] == [2 * GiB]
    assert any(e.value == pytest.approx(0.98) for e in a.evidence)  # db size / quota
    assert "8 GiB" in a.recommendation and "fdatasync" in a.recommendation
    b = found["etcd.no_leader:b"]
    assert b.severity is Level.CRITICAL and "also db near quota" in b.title
    assert any(e.value == pytest.approx(0.85) for e in b.evidence)
    assert "etcd.db_near_quota:a" not in found and "etcd.db_near_quota:b" not in found
    assert found["etcd.leader_changes:cluster"].evidence[0].value == 5.0


def test_peer_rtt_is_a_network_finding() -> None:
    snap = healthy(etcd=etcd(member("a", rtt=0.2), member("b")))
    [f] = [f for f in run(snap) if f.component is Component.NETWORK]
    assert f.subject == "a" and f.severity is Level.WARNING


def test_list_storm_causes_apf_rejections() -> None:
    reqs = (
        request("LIST", "pods", 2.5, rate=120.0, p50=1.2),
        request("GET", "pods", 0.02, rate=40.0),
        request("PATCH", "leases", 0.015, rate=20.0),
    )
    facts = apiserver(
        reqs,
        inflight=(Inflight("readOnly", 398, 400), Inflight("mutating", 3, 200)),
        apf=(ApfLevel("workload-low", 24, 24, 50, 6.0), ApfLevel("system", 2, 30, 0, 0.0)),
        apf_rejected_rate=6.0,
    )
    found = run(healthy(apiserver=facts))
    assert found[0].id == "apiserver.heavy_traffic:LIST pods"
    assert found[0].title.startswith("LIST storm") and found[0].severity is Level.CRITICAL
    assert "watch-cache-sizes" in found[0].recommendation
    saturated = by_id(found)["apiserver.saturated:apiserver"]
    assert saturated.caused_by == "apiserver.heavy_traffic:LIST pods"
    assert "likely caused by apiserver LIST pods" in saturated.title
    assert "max-requests-inflight" in saturated.recommendation
    assert any(e.value == 6.0 and "rejected" in e.detail for e in saturated.evidence)
    # LIST p99 2.5 s is over the 100 ms target but under the 30 s LIST SLO: a warning.
    latency = by_id(found)["apiserver.latency:LIST pods"]
    assert latency.severity is Level.INFO and latency.caused_by == "apiserver.heavy_traffic:LIST pods"


def test_saturation_without_a_dominant_source_names_no_cause() -> None:
    reqs = tuple(request("GET", f"r{i}", 0.05, rate=10.0) for i in range(5))
    facts = apiserver(reqs, inflight=(Inflight("readOnly", 380, 400),))
    found = run(healthy(apiserver=facts))
    [sat] = [f for f in found if f.id.startswith("apiserver.saturated")]
    assert sat.caused_by is None and sat.severity is Level.WARNING
    assert not any(f.id.startswith("apiserver.heavy_traffic") for f in found)


def test_latency_slo_versus_target() -> None:
    reqs = (
        request("PUT", "configmaps", 1.5),
        request("GET", "secrets", 0.2),
        request("LIST", "events", 31.0),
        request("WATCH", "pods", 300.0),
    )
    found = by_id(run(healthy(apiserver=apiserver(reqs))))
    assert found["apiserver.latency:PUT configmaps"].severity is Level.CRITICAL
    # Over the seed's 100 ms target but inside the 1 s SLO: reported, not alarming.
    assert found["apiserver.latency:GET secrets"].severity is Level.INFO
    assert found["apiserver.latency:LIST events"].severity is Level.CRITICAL
    assert "apiserver.latency:WATCH pods" not in found


def test_slow_etcd_is_the_cause_of_slow_writes_and_ranks_first() -> None:
    snap = healthy(
        etcd=etcd(member("a"), member("slow", fsync=0.09), member("c")),
        apiserver=apiserver(healthy_requests() + (request("POST", "pods", 1.8), request("GET", "nodes", 0.3))),
    )
    found = run(snap)
    assert found[0].id == "etcd.wal_fsync_p99_slow:slow"
    # The symptom is critical (over the 1 s SLO), so its cause is raised to critical too.
    assert found[0].severity is Level.CRITICAL
    post = by_id(found)["apiserver.latency:POST pods"]
    assert post.caused_by == found[0].id and "likely caused by etcd slow" in post.title
    assert by_id(found)["apiserver.latency:GET nodes"].caused_by is None  # reads do not wait on etcd fsync


def test_5xx_ratio() -> None:
    reqs = (
        request("GET", "pods", 0.02, rate=90.0, rate_5xx=4.0),
        request("LIST", "nodes", 0.05, rate=10.0, rate_5xx=1.0),
    )
    found = by_id(run(healthy(apiserver=apiserver(reqs, error_ratio=Value.of(0.05)))))
    f = found["apiserver.errors_5xx:all"]
    assert f.severity is Level.WARNING
    assert [e.value for e in f.evidence[1:]] == [4.0, 1.0]
    critical = by_id(run(healthy(apiserver=apiserver(reqs, error_ratio=Value.of(0.2)))))
    assert critical["apiserver.errors_5xx:all"].severity is Level.CRITICAL


def test_node_saturation_with_its_pods() -> None:
    kube = summary((pod("shop", "cart-1", "worker-2", restarts_=4), pod("shop", "web-1", "worker-1", restarts_=2)))
    snap = healthy(nodes=nodes(node("worker-1", memory=0.97), node("worker-2", cpu=0.91, disk=0.88)), kube_summary=kube)
    found = by_id(run(snap))
    cpu = found["node.cpu_saturated:worker-2"]
    assert cpu.severity is Level.WARNING and cpu.evidence[0].value == pytest.approx(0.91)
    assert any("shop/cart-1" in e.detail for e in cpu.evidence)
    assert not any("web-1" in e.detail for e in cpu.evidence)
    assert found["node.memory_saturated:worker-1"].severity is Level.CRITICAL
    assert "evictionHard" in found["node.memory_saturated:worker-1"].recommendation
    # One finding per node: worker-2's root filesystem rides on its CPU finding.
    assert "node.disk_saturated:worker-2" not in found and "also disk saturated" in cpu.title
    assert any(e.value == pytest.approx(0.88) and "node_filesystem_avail_bytes" in e.query for e in cpu.evidence)
    assert "nodefs.available" in cpu.recommendation
    assert "node.cpu_saturated:worker-1" not in found


def test_node_not_ready_and_load() -> None:
    snap = healthy(nodes=nodes(node("n1", load=3.5)), kube_summary=summary(not_ready=("n2",)))
    found = by_id(run(snap))
    assert found["node.not_ready:n2"].severity is Level.WARNING
    assert found["node.load_saturated:n1"].severity is Level.WARNING


def test_crashloop_kinds() -> None:
    kube = summary(
        (
            pod(
                "shop",
                "cart-1",
                "w1",
                restarts_=9,
                waiting="CrashLoopBackOff",
                last="OOMKilled",
                memory_limit=128 * 1024 * 1024,
            ),
            pod("shop", "api-1", "w1", restarts_=5, waiting="CrashLoopBackOff", last="Error", exit_code=1),
            pod("shop", "img-1", "w1", waiting="ImagePullBackOff"),
        )
    )
    snap = healthy(
        restarts=restarts(
            restart("shop", "cart-1", r1h=9, waiting="CrashLoopBackOff", last="OOMKilled"),
            restart("shop", "api-1", r1h=5, waiting="CrashLoopBackOff", last="Error"),
            restart("shop", "img-1", waiting="ImagePullBackOff"),
            restart("shop", "ok-1", r1h=0),
        ),
        kube_summary=kube,
    )
    found = by_id(run(snap))
    oom = found["workload.crashloop_oom:shop/cart-1-rs"]
    assert oom.severity is Level.WARNING and "128 MiB" in oom.title
    assert "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/" in oom.recommendation
    assert "memory limit" in oom.recommendation
    assert oom.evidence[0].value == 9
    crash = found["workload.crashloop:shop/api-1-rs"]
    assert "--previous" in crash.recommendation and "code 1" in crash.recommendation
    assert "workload.image_pull:shop/img-1-rs" in found
    assert not any("ok-1" in f.id for f in found.values())


def test_kube_api_fallback_when_restarts_feed_is_missing() -> None:
    kube = summary((pod("a", "p", "n", restarts_=7, waiting="CrashLoopBackOff", last="OOMKilled"),))
    found = by_id(run(healthy(restarts=None, kube_summary=kube)))
    f = found["workload.crashloop_oom:a/p-rs"]
    assert f.evidence[0].query == "/api/v1/namespaces/a/pods/p" and f.evidence[0].value == 7


def test_saturated_node_is_the_cause_of_crashloops_on_it() -> None:
    # node-exporter names the node by instance "10.0.0.5:9100"; the kube API by "10.0.0.5".
    kube = summary(
        (
            pod("shop", "cart-1", "10.0.0.5", restarts_=6, waiting="CrashLoopBackOff", last="OOMKilled"),
            pod("shop", "cart-2", "10.0.0.6", restarts_=6, waiting="CrashLoopBackOff", last="OOMKilled"),
        )
    )
    snap = healthy(
        nodes=nodes(node("10.0.0.5:9100", memory=0.9), node("10.0.0.6:9100")),
        restarts=restarts(
            restart("shop", "cart-1", r1h=6, waiting="CrashLoopBackOff", last="OOMKilled"),
            restart("shop", "cart-2", r1h=6, waiting="CrashLoopBackOff", last="OOMKilled"),
        ),
        kube_summary=kube,
    )
    found = run(snap)
    ids = [f.id for f in found]
    node_id = "node.memory_saturated:10.0.0.5:9100"
    on_node = by_id(found)["workload.crashloop_oom:shop/cart-1-rs"]
    elsewhere = by_id(found)["workload.crashloop_oom:shop/cart-2-rs"]
    assert on_node.caused_by == node_id and "likely caused by node 10.0.0.5:9100" in on_node.title
    assert elsewhere.caused_by is None
    assert ids.index(node_id) < ids.index(on_node.id)
    assert ids.index(elsewhere.id) < ids.index(on_node.id)  # causes and independents before symptoms


def test_unschedulable_backlog() -> None:
    events = (
        EventRecord(
            "shop", "Pod", "big-1", "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", 12, None
        ),
    )
    cp = control_plane(
        pending=(("active", 0.0), ("backoff", 0.0), ("unschedulable", 40.0)),
        attempts=(("scheduled", 0.2), ("unschedulable", 1.5)),
    )
    found = by_id(run(healthy(control_plane=cp, kube_summary=summary(events=events))))
    f = found["scheduler.unschedulable:cluster"]
    assert f.severity is Level.WARNING and "40 pods" in f.title
    assert any(e.value == "0/3 nodes are available: 3 Insufficient cpu." for e in f.evidence)


def test_controller_and_kubelet_rules() -> None:
    cp = control_plane(
        queues=(
            WorkQueue("replicaset", 4500, 80.0, Value.of(7.0), Value.of(30.0)),
            WorkQueue("job", 1, 0.1, Value.of(0.01), Value.of(0.01)),
        ),
        pod_start=Value.of(12.0),
        ops=(KubeletOp("pull_image", Value.of(2.0), 1.0, 0.2),),
    )
    found = by_id(run(healthy(control_plane=cp)))
    assert found["controller.workqueue_depth:replicaset"].magnitude == pytest.approx(4.5)
    assert "controller.reconcile_slow:replicaset" in found
    assert "controller.workqueue_depth:job" not in found
    assert found["kubelet.pod_startup_slow:cluster"].severity is Level.WARNING
    assert found["kubelet.runtime_errors:pull_image"].evidence[0].value == 0.2
    worse = by_id(run(healthy(control_plane=replace(cp, pod_start_p99=Value.quantile(3600.0, 3600.0)))))
    assert worse["kubelet.pod_startup_slow:cluster"].severity is Level.CRITICAL


def test_prometheus_alerts() -> None:
    alerts = AlertsFacts(
        (
            alert("Watchdog", severity="none"),
            alert("KubeAPIErrorBudgetBurn", severity="critical"),
            alert("NodeFilesystemSpaceFillingUp", severity="warning", state="pending", instance="n1:9100"),
            alert("etcdHighFsyncDurations", severity="warning", source="k8stop"),
        ),
        True,
    )
    found = run(healthy(alerts=alerts))
    names = {f.id: f for f in found if f.id.startswith("alert.")}
    assert set(names) == {
        "alert.KubeAPIErrorBudgetBurn:KubeAPIErrorBudgetBurn",
        "alert.NodeFilesystemSpaceFillingUp:n1:9100",
    }
    # A firing alert keeps its own severity.
    assert names["alert.KubeAPIErrorBudgetBurn:KubeAPIErrorBudgetBurn"].severity is Level.CRITICAL
    assert names["alert.KubeAPIErrorBudgetBurn:KubeAPIErrorBudgetBurn"].component is Component.APISERVER
    assert names["alert.NodeFilesystemSpaceFillingUp:n1:9100"].severity is Level.INFO


def test_missing_feeds_produce_no_findings() -> None:
    snap = healthy(
        apiserver=None, etcd=None, nodes=None, restarts=None, control_plane=None, alerts=None, kube_summary=None
    )
    assert run(snap) == ()


def test_ranking_is_severity_then_cause_then_magnitude() -> None:
    snap = healthy(nodes=nodes(node("a", cpu=0.86), node("b", cpu=0.93), node("c", cpu=0.99)))
    found = run(snap)
    assert [f.subject for f in found] == ["c", "b", "a"]
    assert [f.severity for f in found] == [Level.CRITICAL, Level.WARNING, Level.WARNING]


def test_evidence_follows_selectors_overrides_and_the_picked_metric() -> None:
    snap = healthy(etcd=etcd(member("a:2379"), member("b:2379", fsync=0.045)))
    selected = Settings(thresholds=T, selectors=Selectors(etcd='job="etcd-main"'))
    [slow] = [f for f in diagnose(snap, selected) if f.id.startswith("etcd.wal_fsync")]
    assert slow.evidence[0].query == (
        "histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket"
        '{job="etcd-main", instance="b:2379", }[5m])))'
    )
    override = "histogram_quantile(0.99, sum by (instance, le) (rate(my_fsync_bucket{$sel}[10m])))"
    overridden = Settings(thresholds=T, query_overrides=(("etcd.wal_fsync_p99", override),))
    [slow] = [f for f in diagnose(snap, overridden) if f.id.startswith("etcd.wal_fsync")]
    assert slow.evidence[0].query == (
        'histogram_quantile(0.99, sum by (instance, le) (rate(my_fsync_bucket{instance="b:2379", }[10m])))'
    )


@pytest.mark.parametrize(
    ("metric", "webhooks"),
    [
        ("apiserver_request_sli_duration_seconds", "excludes webhook time"),
        ("apiserver_request_slo_duration_seconds", "excludes webhook time"),
        ("apiserver_request_duration_seconds", "includes admission webhook time"),
    ],
)
def test_webhook_advice_follows_the_histogram_queried(metric: str, webhooks: str) -> None:
    facts = replace(apiserver((request("POST", "pods", 1.8),)), latency_metric=metric)
    post = by_id(run(healthy(apiserver=facts)))["apiserver.latency:POST pods"]
    assert f"rate({metric}_bucket{{" in post.evidence[0].query
    assert 'verb="POST", resource="pods"' in post.evidence[0].query
    assert webhooks in post.recommendation
    other = "includes admission webhook time" if webhooks.startswith("excludes") else "excludes webhook time"
    assert other not in post.recommendation


def test_node_evidence_narrows_to_the_scrape_target_the_figures_came_from() -> None:
    named = replace(node("worker-1", memory=0.97), instance="10.0.1.11:9100", named_by="node_uname_info")
    f = by_id(run(healthy(nodes=nodes(named))))["node.memory_saturated:worker-1"]
    assert 'node_memory_MemAvailable_bytes{instance="10.0.1.11:9100", }' in f.evidence[0].query
    by_instance = nodes(node("10.0.0.5", memory=0.97))
    f = by_id(run(healthy(nodes=by_instance)))["node.memory_saturated:10.0.0.5"]
    assert 'node_memory_MemAvailable_bytes{instance=~"10\\\\.0\\\\.0\\\\.5(:[0-9]+)?", }' in f.evidence[0].query


def test_one_finding_per_workload_listing_its_pods() -> None:
    rs = "api-5d8f7c9b6d"
    names = [f"{rs}-{suffix}" for suffix in ("x2k9p", "m4q7z", "b8n3v", "r5t6w", "h7j2c")]
    kube = summary(
        tuple(
            replace(
                pod("payments", name, f"w{i}", restarts_=10, waiting="CrashLoopBackOff", last="OOMKilled"),
                owner_name=rs,
            )
            for i, name in enumerate(names)
        )
    )
    feed = restarts(
        *(restart("payments", name, r1h=10.02, waiting="CrashLoopBackOff", last="OOMKilled") for name in names)
    )
    found = run(healthy(restarts=feed, kube_summary=kube))
    [f] = [f for f in found if f.component is Component.WORKLOAD]
    assert f.id == "workload.crashloop_oom:payments/api" and f.subject == "payments/api"
    assert f.title.startswith("5 replicas of Deployment payments/api crash-looping, OOMKilled")
    counts = [e for e in f.evidence if "restarts of" in e.detail]
    assert sorted(e.detail.split()[2] for e in counts) == sorted(names)
    assert [e.value for e in counts] == [10.0] * 5  # whole restarts, not increase()'s 10.02
    # Without the kube API the owner comes from the controllers' pod naming.
    alone = [f for f in run(healthy(restarts=feed, kube_summary=None)) if f.component is Component.WORKLOAD]
    assert [f.id for f in alone] == ["workload.crashloop_oom:payments/api"]
    assert "5 replicas of Deployment payments/api" in alone[0].title
    web = restarts(*(restart("db", f"pg-{i}", r1h=4.0, waiting="CrashLoopBackOff") for i in range(3)))
    [sts] = [f for f in run(healthy(restarts=web, kube_summary=None)) if f.component is Component.WORKLOAD]
    assert sts.title.startswith("3 replicas of StatefulSet db/pg in CrashLoopBackOff")


def test_alert_on_a_findings_subject_is_its_evidence() -> None:
    firing = replace(
        alert("etcdHighFsyncDurations", severity="critical", instance="b:2379"),
        active_at=1_760_000_000.0 - 12 * 60,
        value="1.7495269766798667e+00",
    )
    snap = healthy(
        etcd=etcd(member("a:2379"), member("b:2379", fsync=0.045)),
        alerts=AlertsFacts((firing, alert("KubePodNotReady", severity="warning", namespace="x", pod="y")), True),
    )
    found = run(snap)
    assert not any(f.id.startswith("alert.etcdHighFsyncDurations") for f in found)
    [slow] = [f for f in found if f.component is Component.ETCD]
    assert slow.severity is Level.CRITICAL  # raised from warning by the critical alert
    [evidence] = [e for e in slow.evidence if e.query.startswith("ALERTS{")]
    assert evidence.value == pytest.approx(1.7495269766798667)  # a number, not a string
    assert "firing for 12m (since 2025-10-09T08:41:20Z)" in evidence.detail
    other = by_id(found)["alert.KubePodNotReady:x/y"]
    assert other.component is Component.WORKLOAD and other.severity is Level.WARNING


@pytest.mark.parametrize(
    ("name", "labels", "expression", "component"),
    [
        (
            "HighFsync",
            {},
            "histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m])) > 0.5",
            Component.ETCD,
        ),
        ("SlowBinds", {}, "rate(scheduler_schedule_attempts_total{result='error'}[5m]) > 0", Component.SCHEDULER),
        ("Whatever", {"job": "kube-etcd", "instance": "m1"}, "", Component.ETCD),
        ("DiskFull", {"node": "n1"}, "", Component.NODE),
        ("AppDown", {"namespace": "shop"}, "", Component.WORKLOAD),
        ("TargetDown", {}, "up == 0", Component.OTHER),
        ("CoreDNSDown", {}, "", Component.NETWORK),
    ],
)
def test_alert_component_from_name_expression_and_labels(
    name: str, labels: dict[str, str], expression: str, component: Component
) -> None:
    raised = replace(alert(name, **labels), expression=expression)
    [f] = [f for f in run(healthy(alerts=AlertsFacts((raised,), True))) if f.id.startswith("alert.")]
    assert f.component is component


def test_a_kpi_is_never_milder_than_a_firing_alert_on_its_signal() -> None:
    from k8stop.queries.rules.kpis import compute_kpis

    fsync = replace(
        alert("CustomFsync", severity="critical", instance="a"),
        expression="histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m])) > 0.05",
    )
    snap = healthy(etcd=etcd(member("a", fsync=0.02)), alerts=AlertsFacts((fsync,), True))
    kpis = {k.id: k for k in compute_kpis(snap, T)}
    assert kpis["etcd.wal_fsync_p99"].status is Level.FAIL and "CustomFsync" in kpis["etcd.wal_fsync_p99"].detail
    assert kpis["etcd.backend_commit_p99"].status is Level.OK
    pending = replace(fsync, state="pending")
    calm = {k.id: k for k in compute_kpis(replace(snap, alerts=AlertsFacts((pending,), True)), T)}
    assert calm["etcd.wal_fsync_p99"].status is Level.WARN  # 20 ms: the KPI's own grade


def test_a_rarely_called_slow_verb_is_at_most_info() -> None:
    rare = request("GET", "customresourcedefinitions", 14.0, rate=0.01)  # ~3 requests in 5 m
    busy = request("PUT", "configmaps", 1.5, rate=2.0)  # 600 requests in 5 m
    snap = healthy(apiserver=apiserver(healthy_requests() + (rare, busy)))
    found = by_id(run(snap))
    quiet = found["apiserver.latency:GET customresourcedefinitions"]
    assert quiet.severity is Level.INFO
    assert any("noise floor 100" in e.detail and "too few for a p99" in e.detail for e in quiet.evidence)
    loud = found["apiserver.latency:PUT configmaps"]
    assert loud.severity is Level.CRITICAL and any("noise floor 100: enough" in e.detail for e in loud.evidence)
    from k8stop.queries.rules.kpis import compute_kpis

    alone = {k.id: k for k in compute_kpis(healthy(apiserver=apiserver(healthy_requests() + (rare,))), T)}
    kpi = alone["apiserver.request_latency_p99"]
    assert kpi.status is Level.OK and "not graded (too few for a p99)" in kpi.detail


def test_advice_cites_sources_users_can_open() -> None:
    """Every recommendation links a public source (Kubernetes, etcd docs, the SLOs, the runbooks)."""
    reqs = (request("LIST", "pods", 2.5, rate=120.0, p50=1.2), request("POST", "pods", 1.8), request("GET", "x", 0.3))
    snaps = (
        healthy(
            etcd=etcd(member("a", fsync=0.6, commit=0.3, db=1.96 * GiB, quota=2 * GiB, leader_changes=5.0, rtt=0.2)),
            apiserver=apiserver(reqs, error_ratio=Value.of(0.05), inflight=(Inflight("readOnly", 398, 400),)),
            nodes=nodes(node("n1", cpu=0.97, memory=0.97, disk=0.97, load=3.0)),
            kube_summary=summary(
                (pod("s", "a-1", "w1", restarts_=9, waiting="CrashLoopBackOff", last="OOMKilled"),),
                not_ready=("n2",),
            ),
            control_plane=control_plane(
                pending=(("unschedulable", 4.0),),
                attempts=(("unschedulable", 1.0), ("error", 1.0)),
                queues=(WorkQueue("replicaset", 4500, 80.0, Value.of(7.0), Value.of(30.0)),),
                pod_start=Value.of(12.0),
                ops=(KubeletOp("pull_image", Value.of(2.0), 1.0, 0.2),),
            ),
            alerts=AlertsFacts((alert("SomethingElse", severity="warning"),), True),
        ),
    )
    for snap in snaps:
        found = run(snap)
        assert len({rule_of(f) for f in found}) >= 12
        for f in found:
            assert "https://" in f.recommendation, f.id


def test_ranking_never_drops_a_finding() -> None:
    from k8stop.queries.rules.diagnose import rank

    def finding(fid: str, cause: str | None, severity: Level = Level.WARNING) -> Finding:
        return Finding(fid, Component.OTHER, fid, severity, fid, (), "see https://example.org", cause)

    found = rank([finding("x:a", "x:b"), finding("x:b", "x:a"), finding("x:c", None), finding("x:d", "x:gone")])
    assert [f.id for f in found[:2]] == ["x:c", "x:d"]  # an unknown cause leaves its finding independent
    assert {f.id for f in found} == {"x:a", "x:b", "x:c", "x:d"}
