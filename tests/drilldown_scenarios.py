"""Scenarios shared by the drill-down tests (queries and screens)."""

from __future__ import annotations

from dataclasses import replace

from scenario import ApiRequest, Scenario


def incidents() -> Scenario:
    """The same incidents as test_prom_feeds (equal values share one pooled server)."""
    storm = Scenario.list_storm()
    huge_list = ApiRequest("LIST", "secrets", 1.0, 75.0, scope="cluster")
    return replace(
        storm,
        name="incidents",
        requests=storm.requests + (huge_list,),
        etcd=Scenario.slow_etcd_member().etcd,
        nodes=Scenario.cpu_saturated_node().nodes,
        pods=Scenario.crashloop().pods,
    )


DB_GROWTH = 50_000.0  # bytes/s on every member


def growing() -> Scenario:
    """The incidents with a growing etcd DB, served with the seed's rules."""
    base = incidents()
    return replace(base, name="growing", etcd=tuple(replace(m, db_growth_bytes_per_s=DB_GROWTH) for m in base.etcd))


# The seed's three rules (§6.1) without `for`, so they fire as soon as Prometheus evaluates.
SEED_RULES = """
groups:
  - name: seed
    rules:
      - alert: APIServerLatencyHigh
        expr: histogram_quantile(0.99, sum by (verb, resource, le) (rate(apiserver_request_sli_duration_seconds_bucket{verb!~"WATCH|CONNECT", subresource!~"proxy|attach|log|exec|portforward"}[5m]))) > 1
        labels: {severity: warning}
        annotations: {summary: "API Server latency high"}
      - alert: EtcdDiskLatencyHigh
        expr: histogram_quantile(0.99, sum by (instance, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m]))) > 0.01
        labels: {severity: critical}
        annotations: {summary: "etcd disk latency high"}
      - alert: NodeCPUHigh
        expr: (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])) by (instance)) * 100 > 80
        for: 1h
        labels: {severity: warning}
        annotations: {summary: "node CPU high"}
"""
