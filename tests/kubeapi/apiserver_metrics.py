"""The test server's own `/metrics`: what one kube-apiserver instance exposes, in the
Prometheus text format, for k8stop's direct path (no Prometheus anywhere).

The numbers are the Prometheus scenario's (tests/scenario.py, via series_writer.apiserver with
no target labels): this instance's 1/n share of every request counter and histogram, its
inflight gauges and APF levels. Counters grow linearly from `process_start_time_seconds`, so
two scrapes `dt` apart differ by rate x dt; switching scenario (e.g. to `Scenario.list_storm()`,
the LIST-storm knob) keeps every counter monotonic. Families a real server adds and the
scenario has no field for follow fixed rules:

- etcd_request_duration_seconds{operation,type}: one per request, type "/registry/<resource>",
  operation get/list/create/update/delete by verb, this instance's share of its rate; writes
  wait for the slowest member's WAL fsync + backend commit, LISTs half the request's p99
  (reading and decoding the objects), GETs the slowest member's fsync;
- apiserver_storage_objects{resource}: the objects the cluster holds, per kind;
- a few unrelated families (go_*, rest_client_*) that a client must skip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from .cluster import KINDS
from .selectors import Selector

if TYPE_CHECKING:
    from scenario import Scenario
    from series_writer import Series

    from .cluster import Cluster

ETCD_OPERATIONS = {"GET": "get", "LIST": "listWithCount", "POST": "create", "PUT": "update", "PATCH": "update"}
NOISE = (
    "# HELP go_goroutines Number of goroutines that currently exist.\n"
    "# TYPE go_goroutines gauge\ngo_goroutines 873\n"
    "# TYPE rest_client_requests_total counter\n"
    'rest_client_requests_total{code="200",host="[::1]:6443",method="GET"} 81234\n'
)


class ApiserverMetrics:
    """Counter totals kept across scenario switches; rendered on each GET /metrics."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.started = clock() - 600.0  # a process up for ten minutes
        self._scenario: Scenario | None = None
        self._since = self.started
        self._base: dict[tuple[str, str], float] = {}
        # Series of families k8stop does not read, as a real server has thousands (bench/: a big /metrics)
        self.unrelated_series = 0

    @property
    def scenario(self) -> Scenario:
        if self._scenario is None:
            from scenario import Scenario

            self._scenario = Scenario.healthy()
        return self._scenario

    def set_scenario(self, scenario: Scenario) -> None:
        """From now on serve `scenario`'s rates; totals so far stay (counters never go down)."""
        now = self._clock()
        for s in self._series(self.scenario):
            if s.kind == "rate":
                key = (s.name, s.labels)
                self._base[key] = self._base.get(key, 0.0) + s.value * (now - self._since)
        self._since = now
        self._scenario = scenario

    def list_storm(self) -> None:
        """The knob: this scenario's cluster under a LIST storm (Scenario.list_storm's rules)."""
        from scenario import Scenario

        s = self.scenario
        storm = Scenario.list_storm(convention=s.convention, apiserver_histogram=s.apiserver_histogram)
        self.set_scenario(replace(storm, apiserver_ips=s.apiserver_ips))

    def _series(self, s: Scenario) -> Iterator[Series]:
        import histograms as h
        from series_writer import apiserver, histogram

        yield from apiserver(s, targets=[()])
        n = len(s.apiserver_ips)
        write = max((m.wal_fsync_p99 + m.backend_commit_p99 for m in s.etcd), default=0.01)
        fsync = max((m.wal_fsync_p99 for m in s.etcd), default=0.002)
        for r in s.all_requests():
            operation = ETCD_OPERATIONS.get(r.verb, "delete" if r.verb == "DELETE" else "")
            if not operation or r.excluded:
                continue
            p99 = write if r.verb in ("POST", "PUT", "PATCH", "DELETE") else (r.p99 / 2 if r.verb == "LIST" else fsync)
            labels = (("operation", operation), ("type", f"/registry/{r.resource}"))
            dist = h.distribution(h.APISERVER_LEGACY_BUCKETS, max(p99, 0.001))
            yield from histogram("etcd_request_duration_seconds", labels, r.qps / n, dist)

    def render(self, cluster: Cluster) -> bytes:
        if self._scenario is None and cluster.scenario is not None:
            self._scenario = cluster.scenario  # built from a scenario: its API server numbers
        now = self._clock()
        lines: list[str] = [
            "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
            "# TYPE process_start_time_seconds gauge",
            f"process_start_time_seconds {self.started!r}",
        ]
        family = ""
        for s in self._series(self.scenario):
            if s.family in ("up", "kubernetes_build_info"):
                continue  # Prometheus' target health and a kube-prometheus rule, not the server's own
            if s.family != family:
                lines.append(f"# TYPE {s.family} {s.type}")
                family = s.family
            if s.kind == "rate":
                value = self._base.get((s.name, s.labels), 0.0) + s.value * (now - self._since)
            else:
                value = s.value
            labels = "" if s.labels == "{}" else s.labels
            lines.append(f"{s.name}{labels} {value!r}")
        lines.append("# TYPE apiserver_storage_objects gauge")
        for resource in sorted(KINDS):
            count = sum(1 for _ in cluster.stores[resource].scan(Selector()))
            lines.append(f'apiserver_storage_objects{{resource="{resource}"}} {count}')
        lines.append("# TYPE apiserver_watch_cache_events_received_total counter")
        lines.extend(
            f'apiserver_watch_cache_events_received_total{{resource="r{i}.example.io"}} {i}'
            for i in range(self.unrelated_series)
        )
        return ("\n".join(lines) + "\n" + NOISE).encode()
