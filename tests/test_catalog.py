"""The PromQL catalog: documented entries, selectors only from config, overrides, fallbacks."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
from k8stop.queries.config import ConfigError, Selectors, Settings, load_config_file
from k8stop.queries.prom.catalog import CATALOG, Catalog, probe_names, regex_alternatives
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.node_names import host_of, known_names, names_by_host
from k8stop.queries.prom.probe import ProbeResult

PARAMS = {"q": "0.99", "window": "300s", "verbs": "GET", "resources": "pods", "disk": "wal_fsync", "for": "5m"}
PARAMS |= {"res": "30s", "threshold": "0.9", "rcodes": "SERVFAIL", "cl": "cluster", "min_requests": "100"}
SELECTOR = re.compile(r"[A-Za-z_:][\w:]*\{")


def test_every_entry_is_documented_and_cites_a_source() -> None:
    components = {f.name for f in fields(Selectors)} - {"node_labels"}
    for entry_id, entry in CATALOG.items():
        assert entry.id == entry_id and re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", entry_id)
        assert len(entry.description) > 10, entry_id
        assert entry.component in components, entry_id
        assert set(entry.joins) <= components - {entry.component}, entry_id
        assert re.search(r"seed|KM|EM|NM|KSM|CL2|SLO|k8s|etcd|mixin|kubernetes", entry.source), entry_id
        uses_metric = "$metric" in entry.template or "${metric}" in entry.template
        assert uses_metric == bool(entry.fallbacks), entry_id


def test_no_job_matcher_unless_configured() -> None:
    plain = Catalog(Settings())
    for entry_id in CATALOG:
        # No job matcher (charts disagree on job names); scrape health groups by job, never matches one.
        assert not re.search(r"\bjob\s*!?[=~]", plain.render(entry_id, **PARAMS)), entry_id

    configured = Selectors(**{f.name: f'job="{f.name}-x"' for f in fields(Selectors) if f.name != "node_labels"})
    settings = Settings(selectors=configured)
    catalog = Catalog(settings)
    # Entries composed from others get those parts, rendered as node_names.py renders them.
    ctx = PromContext(None, settings)  # type: ignore[arg-type]  # rendering only, no queries
    composed = {
        "label": "node",
        "label_names": catalog.render("node.names_by_label", label="node") + " or on (instance) ",
        "names": known_names(ctx),
        "by_host": names_by_host(ctx),
        "wanted": "vector(1)",
    }
    for entry_id, entry in CATALOG.items():
        promql = catalog.render(entry_id, **PARAMS, **composed)
        filled = r"\$\{?(names|by_host|label_names|label|host_regex|sel\w*)\b"
        assert not re.search(filled, promql), (entry_id, promql)
        # No placeholder is left for Prometheus to reject ("$1" in label_replace is PromQL's own).
        assert not re.search(r"\$\{?[A-Za-z_]", promql), (entry_id, promql)
        matchers = [getattr(configured, c) for c in (entry.component, *entry.joins)]
        # Every selector of the entry carries its component's matcher (or the matcher of a
        # component it joins, e.g. kube_node_info in node.names), and only that one.
        counts = [promql.count(m) for m in matchers]
        assert sum(counts) == len(SELECTOR.findall(promql)) > 0 and all(counts), (entry_id, promql)
        assert len(re.findall(r"job=", promql)) == sum(counts), entry_id


def test_a_cluster_scope_reaches_every_selector_escaped() -> None:
    """--cluster: one matcher in Catalog.render, so every entry (KPIs, evidence, drill-downs,
    built-in alert checks) and the pieces composed into them read that cluster alone."""
    settings = Settings(cluster='eu "1"\\x', cluster_label="tenant_cluster")
    matcher = 'tenant_cluster="eu \\"1\\"\\\\x"'  # the value escaped for a PromQL string
    ctx = PromContext(None, settings)  # type: ignore[arg-type]  # rendering only, no queries
    composed = {
        "label": "node",
        "label_names": ctx.catalog.render("node.names_by_label", label="node") + " or on (instance) ",
        "names": known_names(ctx),
        "by_host": names_by_host(ctx),
        "wanted": "vector(1)",
    }
    for entry_id in CATALOG:
        promql = ctx.catalog.render(entry_id, **PARAMS, **composed)
        assert promql.count(matcher) == len(SELECTOR.findall(promql)) > 0, (entry_id, promql)
    assert matcher in ctx.probe.query()
    # Unscoped (no --cluster, or no cluster label), nothing changes.
    for unscoped in (Settings(), Settings(cluster="eu", cluster_label="")):
        assert "cluster" not in Catalog(unscoped).render("etcd.wal_fsync_p99")
        assert "cluster" not in PromContext(None, unscoped).probe.query()  # type: ignore[arg-type]


def test_overrides_replace_templates_and_unknown_ids_fail() -> None:
    settings = Settings(
        query_overrides=(("etcd.quota", "max by (instance) (my_quota{$sel})"),), selectors=Selectors(etcd='cluster="a"')
    )
    catalog = Catalog(settings)
    assert catalog.render("etcd.quota") == 'max by (instance) (my_quota{cluster="a", })'
    assert catalog.overridden("etcd.quota") and not catalog.overridden("etcd.is_leader")
    with pytest.raises(ConfigError, match="unknown query id"):
        Catalog(Settings(query_overrides=(("etcd.nope", "up"),)))


def test_fallbacks_prefer_the_current_names() -> None:
    expected = {
        "apiserver.latency_quantile": "apiserver_request_sli_duration_seconds",
        "scheduler.attempt_p99": "scheduler_scheduling_attempt_duration_seconds",
        "etcd.db_size": "etcd_mvcc_db_total_size_in_bytes",
        "apiserver.apf_limit_seats": "apiserver_flowcontrol_nominal_limit_seats",
        "apiserver.apf_executing_seats": "apiserver_flowcontrol_current_executing_seats",
        "kubelet.pod_start_p99": "kubelet_pod_start_sli_duration_seconds",
    }
    for entry_id, name in expected.items():
        assert CATALOG[entry_id].fallbacks[0] == name
        # apiserver latency: _sli_ (1.26+), _slo_ (1.23-1.25), then the original histogram.
        assert len(CATALOG[entry_id].fallbacks) == (3 if entry_id == "apiserver.latency_quantile" else 2)
    names = set(probe_names())
    both = ProbeResult(frozenset(names), ())
    assert both.pick(CATALOG["apiserver.latency_quantile"]) == "apiserver_request_sli_duration_seconds"
    old_only = ProbeResult(
        frozenset({"apiserver_request_duration_seconds_bucket", "etcd_debugging_mvcc_db_total_size_in_bytes"}),
        (),
    )
    assert old_only.pick(CATALOG["apiserver.latency_quantile"]) == "apiserver_request_duration_seconds"
    assert old_only.pick(CATALOG["etcd.db_size"]) == "etcd_debugging_mvcc_db_total_size_in_bytes"
    assert old_only.pick(CATALOG["scheduler.attempt_p99"]) is None


def test_latency_excludes_long_running_requests() -> None:
    promql = Catalog(Settings()).render("apiserver.latency_quantile", q="0.99")
    assert 'verb!~"WATCH|CONNECT"' in promql
    assert 'subresource!~"proxy|attach|log|exec|portforward"' in promql
    assert promql.startswith("histogram_quantile(0.99, sum by (verb, resource, le)")


def test_hosts_of_instances_and_regex_escaping() -> None:
    # host_of is catalog.HOST_REGEX in Python: what kube_node_info and the kube API match on.
    assert host_of("10.0.0.1:9100") == "10.0.0.1"
    assert host_of("node-1") == "node-1"
    assert host_of("[fd00::1]:9100") == "fd00::1"
    assert host_of("ip-10-0-1-11.ec2.internal:10250") == "ip-10-0-1-11.ec2.internal"
    assert regex_alternatives(["10.0.0.1:9100", 'a"b']) == '10\\\\.0\\\\.0\\\\.1:9100|a\\"b'


def test_node_labels_come_from_the_config_file(tmp_path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("selectors:\n  node_labels: [kubernetes_node, node]\n", encoding="utf-8")
    settings = load_config_file(path)
    assert settings.selectors.node_labels == ("kubernetes_node", "node")
    # The name map tries them in that order, before node_uname_info.
    promql = known_names(PromContext(None, settings))  # type: ignore[arg-type]
    assert promql.index('"label kubernetes_node"') < promql.index('"label node"') < promql.index("node_uname_info")
    for bad in ("node", "[1, 2]", '["not a label"]'):
        path.write_text(f"selectors:\n  node_labels: {bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="node_labels: expected a list of label names"):
            load_config_file(path)
