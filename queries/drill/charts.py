"""The drill-down charts, titled and thresholded in one place so a live drill-down (Prometheus
ranges) and a recorded one (the recorded updates) draw the same chart."""

from __future__ import annotations

from collections.abc import Iterable

from k8stop.queries.config import Thresholds
from k8stop.queries.drill.common import Chart, Line


def api_latency(verb: str, resource: str, lines: Iterable[Line], t: Thresholds) -> Chart:
    return Chart(f"{verb} {resource} latency", "s", tuple(lines), t.apiserver_p99_target, "p99 target (seed 1.1)")


def api_rate(verb: str, resource: str, lines: Iterable[Line]) -> Chart:
    return Chart(f"{verb} {resource} requests", "req/s", tuple(lines))


def etcd_disk(instance: str, lines: Iterable[Line], t: Thresholds) -> Chart:
    return Chart(
        f"etcd {instance} disk latency", "s", tuple(lines), t.etcd_wal_fsync_p99, "fsync target 10 ms (seed 1.1)"
    )


def etcd_db(instance: str, line: Line, quota: float | None) -> Chart:
    return Chart(f"etcd {instance} DB size", "bytes", (line,), quota, "quota")


def node_saturation(node: str, lines: Iterable[Line], t: Thresholds) -> Chart:
    return Chart(f"{node} saturation", "ratio", tuple(lines), t.node_saturation[1], "85 % (seed 8.1)")


def control_plane(
    pending: Iterable[Line],
    throughput: Iterable[Line],
    attempt_p99: Iterable[Line],
    depth: Iterable[Line],
    t: Thresholds,
) -> tuple[Chart, Chart, Chart, Chart]:
    """Scheduler queues, binding rate, attempt p99 and workqueue depth, in ControlPlaneHistory's order."""
    return (
        Chart("pending pods by queue", "count", tuple(pending)),
        Chart("pods bound per second", "pods/s", tuple(throughput), t.scheduler_throughput, "seed 1.1 capacity target"),
        Chart("scheduling attempt p99", "s", tuple(attempt_p99)),
        Chart("workqueue depth", "count", tuple(depth), t.workqueue_depth, "seed 1.1 < 1000"),
    )
