"""The documented `k8stop report --format json` schema (README, "JSON (--format json)"), shared by
the tests of the report renderer and of the report command so both hold it to the same keys."""

from __future__ import annotations

TOP_KEYS = {"generated_at", "cluster", "sources", "kpis", "findings", "config", "fleet"}
KPI_KEYS = {"cluster", "id", "name", "value", "unit", "target", "status", "detail"}
FINDING_KEYS = {
    "cluster",
    "id",
    "component",
    "subject",
    "severity",
    "title",
    "evidence",
    "recommendation",
    "caused_by",
    "symptoms",
}
# The scorecard's headline KPIs: every report and every KPI computation must carry them.
HEADLINE_KPIS = (
    "apiserver.request_latency_p99",
    "apiserver.qps",
    "etcd.wal_fsync_p99",
    "etcd.backend_commit_p99",
    "scheduler.throughput",
    "node.cpu_utilisation_max",
    "node.memory_utilisation_max",
    "kubelet.pod_startup_p99",
)
