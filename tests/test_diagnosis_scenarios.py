"""The findings engine end to end: a real Prometheus holds a scenario, `collect_snapshot` reads
it, and the top finding names the component and subject the scenario broke.

Label conventions and API histogram names vary across scenarios so the rules are exercised on
every shape the data layer accepts. Thresholds are the defaults: nothing is tuned per scenario.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import replace

import pytest
from k8stop.queries.config import Selectors, Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.model.finding import Component, Finding
from k8stop.queries.model.level import Level
from k8stop.queries.model.snapshot import SourceState
from k8stop.queries.report import Report, make_report, render_json, render_text
from scenario import ApiRequest, Scenario, default_requests


def cpu_and_oom(**overrides: object) -> Scenario:
    """node-3 CPU-saturated and node-5 out of memory at once."""
    cpu = Scenario.cpu_saturated_node(node=2, **overrides)
    oom = Scenario.oom_node(node=4, **overrides)
    nodes = tuple(o if i == 4 else c for i, (c, o) in enumerate(zip(cpu.nodes, oom.nodes)))
    return replace(oom, name="cpu-and-oom", nodes=nodes)


def report_for(prometheus_for, scenario: Scenario) -> Report:
    handle = prometheus_for(scenario)
    settings = Settings(prometheus_url=handle.url, use_kube=False)
    snap = asyncio.run(collect_snapshot(settings))
    assert snap.prometheus.state is SourceState.OK, snap.prometheus.detail
    assert snap.kube.state is SourceState.DISABLED
    return make_report(snap, settings)


def serious(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.severity is not Level.INFO]


def test_slow_etcd_member(prometheus_for) -> None:
    scenario = Scenario.slow_etcd_member(member=1, convention="generic", apiserver_histogram="sli")
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.component is Component.ETCD and top.severity is Level.CRITICAL
    slow = scenario.etcd[1]
    assert top.subject.startswith(slow.name)
    # Every etcd finding is about the slow member, never the healthy two.
    assert {f.subject for f in report.findings if f.component is Component.ETCD} == {top.subject}
    # One finding for the member, with its fsync and its commit evidence.
    [member] = [f for f in report.findings if f.component is Component.ETCD]
    assert any("wal_fsync" in e.query for e in member.evidence)
    assert any("backend_commit" in e.query for e in member.evidence)
    measured = {e.value for f in report.findings for e in f.evidence if isinstance(e.value, float)}
    assert any(v == pytest.approx(scenario.expected_etcd_quantile(slow.name, "wal_fsync"), rel=0.02) for v in measured)
    assert "disk" in top.recommendation.lower()


def test_list_storm_with_apf_rejections(prometheus_for) -> None:
    scenario = Scenario.list_storm(convention="kube-prometheus", apiserver_histogram="legacy")
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.component is Component.APISERVER and top.severity is Level.CRITICAL
    # Who sends it comes first: the flow schema and priority level APF rejects (test_request_path).
    assert top.subject == "flowschema/service-accounts"
    storm = next(f for f in report.findings if f.id.startswith("apiserver.heavy_traffic"))
    assert storm.subject == "LIST pods" and storm.severity is Level.CRITICAL and storm.caused_by == top.id
    # The saturation finding is a symptom naming the storm as its cause.
    saturated = next(f for f in report.findings if f.id.startswith("apiserver.saturated"))
    assert saturated.caused_by == storm.id
    assert report.findings.index(saturated) > report.findings.index(storm) > report.findings.index(top)


@pytest.mark.parametrize("convention", ["generic", "kube-prometheus"])
def test_cpu_saturated_node(prometheus_for, convention: str) -> None:
    scenario = Scenario.cpu_saturated_node(node=2, convention=convention)
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.NODE, scenario.nodes[2].name)
    assert "CPU" in top.title
    assert {f.subject for f in serious(report)} == {scenario.nodes[2].name}
    # CPU and load on that node are one finding carrying both measurements.
    assert len(serious(report)) == 1 and "also load saturated" in top.title
    assert any("node_load1" in e.query for e in top.evidence)


def test_oom_node(prometheus_for) -> None:
    scenario = Scenario.oom_node(node=3, apiserver_histogram="legacy")
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert (top.component, top.subject) == (Component.NODE, scenario.nodes[3].name)
    assert "memory" in top.title.lower()
    for f in report.findings:
        if f.component is Component.WORKLOAD:
            assert f.caused_by == top.id, f.title  # pods restarting there are its symptoms


def test_cpu_and_oom_nodes_together(prometheus_for) -> None:
    scenario = cpu_and_oom(convention="generic")
    report = report_for(prometheus_for, scenario)
    hot, full = scenario.nodes[2].name, scenario.nodes[4].name
    top = report.findings[0]
    assert top.component is Component.NODE and top.subject in (hot, full)
    critical = {
        (f.subject, "cpu" if "CPU" in f.title else "memory") for f in report.findings if f.severity is Level.CRITICAL
    }
    assert critical == {(hot, "cpu"), (full, "memory")}


def test_crashloop_killed_by_oom(prometheus_for) -> None:
    scenario = Scenario.crashloop(convention="generic", apiserver_histogram="legacy")
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.component is Component.WORKLOAD and top.subject == "shop/checkout"
    assert "OOMKilled" in top.title and "memory" in top.recommendation.lower()
    # One finding for the Deployment, listing every crashing replica with whole restart counts.
    assert [f.subject for f in serious(report)] == ["shop/checkout"]
    pods = [p.name for p in scenario.pods if p.owner_name.startswith("checkout-")]
    assert top.title.startswith(f"{len(pods)} replicas of Deployment shop/checkout crash-looping, OOMKilled")
    counts = {e.detail.split()[2]: e.value for e in top.evidence if e.detail.startswith("restarts of")}
    assert set(counts) == set(pods)
    assert all(v == round(v) and v >= 1 for v in counts.values())


def test_scheduler_backlog(prometheus_for) -> None:
    scenario = Scenario.scheduler_backlog(convention="kube-prometheus", apiserver_histogram="sli")
    report = report_for(prometheus_for, scenario)
    top = report.findings[0]
    assert top.component is Component.SCHEDULER
    assert f"{scenario.scheduler.pending_unschedulable:.0f} pods unschedulable" in top.title
    assert all(f.component is Component.SCHEDULER for f in serious(report))


@pytest.mark.parametrize("convention,histogram", [("generic", "legacy"), ("kube-prometheus", "sli")])
def test_healthy_cluster_has_no_warning(prometheus_for, convention: str, histogram: str) -> None:
    report = report_for(prometheus_for, Scenario.healthy(convention=convention, apiserver_histogram=histogram))
    assert serious(report) == []
    assert report.kpis and not any(str(k.status) == "fail" for k in report.kpis)


@pytest.mark.parametrize("histogram", ["sli", "legacy"])
def test_evidence_is_what_was_queried(prometheus_for, histogram: str) -> None:
    """Each finding's PromQL, run as shown, answers the value shown: selectors, the metric the
    probe picked and the subject's matchers are all in it."""
    scenario = Scenario.slow_etcd_member(member=1, convention="kube-prometheus", apiserver_histogram=histogram)
    handle = prometheus_for(scenario)
    convention = scenario.labels
    selectors = Selectors(etcd=f'job="{convention.etcd_job}"', apiserver=f'job="{convention.apiserver_job}"')
    settings = Settings(prometheus_url=handle.url, use_kube=False, selectors=selectors)
    snap = asyncio.run(collect_snapshot(settings))
    report = make_report(snap, settings)
    picked = snap.apiserver.latency_metric if snap.apiserver else ""
    assert (picked == "apiserver_request_duration_seconds") is (histogram == "legacy")
    checked = []
    for f in report.findings:
        for e in f.evidence:
            if not isinstance(e.value, float) or e.query.startswith("/") or "(" not in e.query:
                continue
            if f.id.startswith("apiserver.errors_5xx") and e is f.evidence[0]:
                continue  # a ratio of the rates that query returns
            answer = sum(float(r["value"][1]) for r in handle.query(e.query, at=snap.taken_at))  # type: ignore[index]
            assert answer == pytest.approx(e.value, rel=0.05), (f.id, e.query)
            checked.append(e.query)
    assert any(f'job="{convention.etcd_job}"' in q and "wal_fsync" in q for q in checked)
    writes = [f for f in report.findings if "mutating" in f.label_values("kind")]
    assert writes and len(checked) >= 5
    for f in writes:
        assert picked in f.evidence[0].query
        excludes = "excludes webhook time" in f.recommendation
        assert excludes is (histogram != "legacy")


def test_independent_causes_lead_their_symptoms(prometheus_for) -> None:
    """A slow etcd member slowing every write, and an unrelated crash-looping deployment: both
    causes come before any symptom, each cause lists its symptoms, and they follow it."""
    scenario = Scenario.slow_etcd_member(member=2, write_p99=2.5, convention="generic").also(
        Scenario.crashloop(namespace="shop", deployment="checkout", convention="generic")
    )
    report = report_for(prometheus_for, scenario)
    causes = [f for f in report.findings if f.caused_by is None]
    assert list(report.findings[: len(causes)]) == causes  # every independent finding first
    slow = scenario.etcd[2].name
    etcd = next(f for f in causes if f.component is Component.ETCD)
    assert etcd.subject.startswith(slow) and etcd.severity is Level.CRITICAL
    assert any(f.component is Component.WORKLOAD and "checkout" in f.subject for f in causes)
    writes = [f for f in report.findings if "mutating" in f.label_values("kind")]
    mutating = {(r.verb, r.resource) for r in scenario.requests if r.verb in ("POST", "PUT", "PATCH", "DELETE")}
    assert {(f.label_values("verb")[0], f.label_values("resource")[0]) for f in writes} == mutating
    assert all(f.caused_by == etcd.id for f in writes)
    by_id = {f.id: f for f in report.findings}
    # The slow writes burn the API's latency error budget: that burn is the member's symptom too.
    burns = [f.id for f in report.findings if f.id.startswith("apiserver.error_budget_burn")]
    assert set(etcd.symptoms) == {f.id for f in writes} | set(burns)
    assert all(by_id[b].caused_by == etcd.id for b in burns)
    # The symptoms come after every cause, under their own cause.
    ids = [f.id for f in report.findings]
    assert min(ids.index(f.id) for f in writes) >= len(causes)
    assert report.findings[len(causes)].caused_by == etcd.id
    doc = json.loads(render_json(report))
    assert [f["id"] for f in doc["findings"]] == ids
    assert doc["findings"][ids.index(etcd.id)]["symptoms"] == list(etcd.symptoms)


# Rules as a cluster would ship them: names k8stop does not know, the subject in labels and
# expressions; `for: 0s` so they fire at the first evaluation.
INCIDENT_RULES = """
groups:
  - name: incident
    rules:
      - alert: DiskSyncSlow
        expr: histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m]))) > 0.1
        labels: {severity: critical}
        annotations: {summary: "fsync is slow"}
      - alert: BindErrors
        expr: sum(rate(scheduler_schedule_attempts_total{result="error"}[5m])) > 100
        labels: {severity: warning}
      - alert: AlwaysPaging
        expr: vector(1.7495269766798667)
        labels: {severity: critical}
"""


def test_alerts_keep_severity_and_land_on_their_subject(prometheus_for) -> None:
    scenario = Scenario.slow_etcd_member(member=1, fsync_p99=0.2, convention="kube-prometheus")
    handle = prometheus_for(scenario, rules=INCIDENT_RULES)
    settings = Settings(prometheus_url=handle.url, use_kube=False)
    for _ in range(100):  # the first rule evaluation comes a few seconds after start
        snap = asyncio.run(collect_snapshot(settings))
        if snap.alerts is not None and {a.name for a in snap.alerts.alerts} >= {"DiskSyncSlow", "AlwaysPaging"}:
            break
        time.sleep(0.2)
    report = make_report(snap, settings)
    slow = scenario.etcd[1]
    [member] = [f for f in report.findings if f.component is Component.ETCD]
    assert member.subject.startswith(slow.ip) and member.severity is Level.CRITICAL
    [alert] = [e for e in member.evidence if e.query.startswith('ALERTS{alertname="DiskSyncSlow"')]
    assert isinstance(alert.value, float) and alert.value == pytest.approx(0.2, rel=0.05)
    assert re.search(r"firing for \d+s \(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", alert.detail)
    assert not any(f.id.startswith("alert.DiskSyncSlow") for f in report.findings)
    paging = next(f for f in report.findings if f.id.startswith("alert.AlwaysPaging"))
    assert paging.severity is Level.CRITICAL and paging.component is Component.OTHER
    assert paging.evidence[0].value == pytest.approx(1.7495269766798667)
    doc = json.loads(render_json(report))
    values = [e["value"] for f in doc["findings"] for e in f["evidence"] if e["query"].startswith("ALERTS{")]
    assert values and all(isinstance(v, float) for v in values)
    kpi = next(k for k in report.kpis if k.id == "etcd.wal_fsync_p99")
    assert kpi.status is Level.FAIL and "DiskSyncSlow" in kpi.detail  # 200 ms alone would only warn


def test_a_rarely_used_slow_verb_raises_no_alarm(prometheus_for) -> None:
    rare = ApiRequest("GET", "customresourcedefinitions", 0.01, 14.0, scope="resource", group="apiextensions.k8s.io")
    scenario = Scenario.healthy(name="rare-slow-verb", requests=default_requests() + (rare,))
    report = report_for(prometheus_for, scenario)
    assert serious(report) == []
    [quiet] = [f for f in report.findings if f.subject == "GET customresourcedefinitions"]
    assert quiet.severity is Level.INFO
    assert any("too few for a p99" in e.detail for e in quiet.evidence)
    kpi = next(k for k in report.kpis if k.id == "apiserver.request_latency_p99")
    assert kpi.status is not Level.FAIL


def test_one_target_down_is_named_and_with_a_rare_slow_verb_raises_no_alarm(prometheus_for) -> None:
    """A healthy cluster where one node-exporter cannot be scraped and one verb is rare and slow:
    the down target is named (job, instance, share of its job), and nothing is critical."""
    base = Scenario.healthy()
    worker = base.nodes[-1]
    target = dict(base.labels.node_exporter(worker.name, worker.ip))
    rare = ApiRequest("GET", "customresourcedefinitions", 0.01, 14.0, scope="resource", group="apiextensions.k8s.io")
    scenario = Scenario.healthy(
        name="target-down",
        requests=default_requests() + (rare,),
        down_targets=((target["job"], target["instance"]),),
    )
    report = report_for(prometheus_for, scenario)
    assert [f for f in report.findings if f.severity is Level.CRITICAL] == []
    [down] = [f for f in report.findings if f.id.startswith("targets.down:")]
    assert down.component is Component.NODE and down.subject == target["job"]
    assert f"job {target['job']}, {target['instance']} (1 of {len(base.nodes)})" in down.title
    # 1 of 6 node-exporters is over TargetDown's 10 %: a warning, not a page
    assert down.severity is (Level.WARNING if len(base.nodes) < 10 else Level.INFO)
    [evidence] = down.evidence
    assert f'instance="{target["instance"]}"' in evidence.query and evidence.value == 0.0
    assert not any(f.id.startswith("targets.down:") and f is not down for f in report.findings)


def test_a_down_etcd_target_is_named(prometheus_for) -> None:
    base = Scenario.healthy()
    member = base.etcd[2]
    target = dict(base.labels.etcd(member.name, member.ip))
    scenario = Scenario.healthy(name="etcd-target-down", down_targets=((target["job"], target["instance"]),))
    report = report_for(prometheus_for, scenario)
    [down] = [f for f in report.findings if f.id.startswith("targets.down:")]
    assert down.component is Component.ETCD and target["instance"] in down.title
    assert "(1 of 3)" in down.title and down.severity is Level.WARNING
    text = render_text(report)
    assert f"scrape target down: job {target['job']}, {target['instance']}" in text
