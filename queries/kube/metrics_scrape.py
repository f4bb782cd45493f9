"""The API server's own /metrics, read through the kube connection when no Prometheus can
answer: what the API panel, the API server's view of etcd, KPIs and findings need.

One GET per refresh (read-only, the kubeconfig's auth, capped body). Only the families k8stop
uses are kept, line by line as the body streams in, and parsed by prometheus_client's text
parser; each scrape is then reduced to a few small tables. Rates and quantiles come from the
difference of two successive scrapes, as `rate()` would; the first scrape (or one from a
restarted or different server, told by `process_start_time_seconds`) uses the totals since
the process started, and says so. Behind a load balancer each scrape reaches one API server:
the figures are that instance's, not the cluster's.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from k8stop.queries.kube.connection import KubeConnection
from k8stop.queries.kube.errors import KubeApiError
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.facts import (
    SOURCE_APISERVER_METRICS,
    ApfLevel,
    ApiRequestStat,
    ApiserverFacts,
    EtcdFacts,
    EtcdRequestStat,
    Heatmap,
    HeatRow,
    Inflight,
    StoredObjects,
)
from k8stop.queries.model.quantile import histogram_quantile
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.values import NO_TRAFFIC, Value

METRICS_PATH = "/metrics"
RBAC_HINT = 'grant a ClusterRole rule nonResourceURLs: ["/metrics"], verbs: ["get"]'
# Newest first: 1.26+ _sli_, 1.23-1.25 _slo_, then the stable histogram that includes webhook time.
LATENCY_METRICS = (
    "apiserver_request_sli_duration_seconds",
    "apiserver_request_slo_duration_seconds",
    "apiserver_request_duration_seconds",
)
# The APF gauges and counter the panel reads, under both names across 1.30/1.31; not the
# family's large wait/execution histograms (flow schema x priority level x bucket).
APF_SERIES = (
    "apiserver_flowcontrol_current_executing_seats",
    "apiserver_flowcontrol_request_concurrency_in_use",
    "apiserver_flowcontrol_nominal_limit_seats",
    "apiserver_flowcontrol_request_concurrency_limit",
    "apiserver_flowcontrol_current_inqueue_requests",
    "apiserver_flowcontrol_rejected_requests_total",
)
EXACT = frozenset(
    {
        *APF_SERIES,
        "apiserver_request_total",
        "apiserver_current_inflight_requests",
        "apiserver_storage_objects",
        "apiserver_storage_size_bytes",
        "process_start_time_seconds",
        "etcd_request_duration_seconds_bucket",
        *(f"{m}_bucket" for m in LATENCY_METRICS),
    }
)
LONG_RUNNING_VERBS = frozenset({"WATCH", "CONNECT"})
LONG_RUNNING_SUBRESOURCES = frozenset({"proxy", "attach", "log", "exec", "portforward"})
Buckets = dict[float, float]  # upper bound -> cumulative count


def wanted(line: bytes) -> bool:
    """Keep a sample line or `# TYPE` line of a family k8stop reads; drop the rest unparsed."""
    if line.startswith(b"# TYPE "):
        name = line[7:].split(b" ", 1)[0]
        return name.decode("ascii", "replace") + "_bucket" in EXACT or _wanted_name(name)
    if not line or line.startswith(b"#"):
        return False
    end = len(line)
    for stop in (b"{", b" "):
        at = line.find(stop)
        if 0 <= at < end:
            end = at
    return _wanted_name(line[:end])


def _wanted_name(name: bytes) -> bool:
    return name.decode("ascii", "replace") in EXACT


@dataclass(slots=True)
class Scrape:
    """One scrape, reduced to what the panels need (counters as totals, gauges as values)."""

    at: float
    process_start: float | None = None
    requests: dict[tuple[str, str, str], float] = field(default_factory=lambda: defaultdict(float))
    latency_metric: str = ""
    latency: dict[tuple[str, str], Buckets] = field(default_factory=dict)
    inflight: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    apf_seats: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    apf_seats_metric: str = ""
    apf_limit: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    apf_inqueue: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    apf_rejected: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    etcd: dict[tuple[str, str], Buckets] = field(default_factory=dict)
    objects: dict[str, float] = field(default_factory=dict)
    size_bytes: dict[str, float] = field(default_factory=dict)
    bytes_read: int = 0


def code_class(code: str) -> str:
    """The classes the Prometheus path uses: 429 apart (APF / max-inflight), 4xx, 5xx, "" otherwise."""
    if code == "429":
        return "429"
    return f"{code[0]}xx" if len(code) == 3 and code[0] in "45" else ""


def _add_bucket(table: dict[tuple[str, str], Buckets], key: tuple[str, str], le: str, value: float) -> None:
    buckets = table.setdefault(key, {})
    bound = float(le)
    buckets[bound] = buckets.get(bound, 0.0) + value


def parse_scrape(lines: Iterable[bytes], at: float) -> Scrape:
    """The kept lines, parsed by prometheus_client (the text format, escaping included)."""
    from prometheus_client.parser import text_string_to_metric_families

    scrape = Scrape(at)
    text = b"\n".join(lines).decode("utf-8", "replace") + "\n"
    latency: dict[str, dict[tuple[str, str], Buckets]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, float(sample.value)
            if math.isnan(value):
                continue
            if name == "apiserver_request_total":
                request = (labels.get("verb", ""), labels.get("resource", ""), code_class(labels.get("code", "")))
                scrape.requests[request] += value
            elif name.endswith("_bucket") and name[: -len("_bucket")] in LATENCY_METRICS:
                if labels.get("verb") in LONG_RUNNING_VERBS or labels.get("subresource") in LONG_RUNNING_SUBRESOURCES:
                    continue
                key = (labels.get("verb", ""), labels.get("resource", ""))
                _add_bucket(latency[name[: -len("_bucket")]], key, labels.get("le", "+Inf"), value)
            elif name == "etcd_request_duration_seconds_bucket":
                key = (labels.get("operation", ""), labels.get("type", ""))
                _add_bucket(scrape.etcd, key, labels.get("le", "+Inf"), value)
            elif name == "apiserver_current_inflight_requests":
                scrape.inflight[labels.get("request_kind", "")] += value
            elif name == "process_start_time_seconds":
                scrape.process_start = value
            elif name == "apiserver_storage_objects":
                scrape.objects[labels.get("resource", "")] = value
            elif name == "apiserver_storage_size_bytes":
                # Labelled by storage cluster, not resource, on some versions: keep whichever it is.
                where = labels.get("resource") or labels.get("storage_cluster_id", "")
                scrape.size_bytes[where] = scrape.size_bytes.get(where, 0.0) + value
            else:
                _apf_sample(scrape, name, labels, value)
    scrape.latency_metric = next((m for m in LATENCY_METRICS if latency.get(m)), "")
    scrape.latency = latency.get(scrape.latency_metric, {})
    return scrape


def _apf_sample(scrape: Scrape, name: str, labels: Mapping[str, str], value: float) -> None:
    level = labels.get("priority_level", "")
    if name == "apiserver_flowcontrol_current_executing_seats":
        scrape.apf_seats[level] += value
        scrape.apf_seats_metric = name
    elif name == "apiserver_flowcontrol_request_concurrency_in_use" and scrape.apf_seats_metric != (
        "apiserver_flowcontrol_current_executing_seats"
    ):
        scrape.apf_seats[level] += value  # before 1.31
        scrape.apf_seats_metric = name
    elif name in ("apiserver_flowcontrol_nominal_limit_seats", "apiserver_flowcontrol_request_concurrency_limit"):
        scrape.apf_limit[level] = max(scrape.apf_limit[level], value)  # the two names are never summed
    elif name == "apiserver_flowcontrol_current_inqueue_requests":
        scrape.apf_inqueue[level] += value
    elif name == "apiserver_flowcontrol_rejected_requests_total":
        scrape.apf_rejected[level] += value


def _increase(now: float, before: float | None) -> float:
    """rate()'s reset rule: a counter that went down restarted from zero."""
    if before is None or now < before:
        return now
    return now - before


def _bucket_increase(now: Buckets, before: Buckets | None) -> Buckets:
    if before is None or now.get(math.inf, 0.0) < before.get(math.inf, 0.0):
        return dict(now)
    return {le: _increase(count, before.get(le)) for le, count in now.items()}


def quantile_value(q: float, buckets: Buckets) -> Value:
    """histogram_quantile, an answer in +Inf marked as a lower bound (the top finite bound)."""
    top = max((le for le in buckets if not math.isinf(le)), default=None)
    return Value.quantile(histogram_quantile(q, buckets.items()), top)


@dataclass(frozen=True, slots=True)
class Interval:
    """Two scrapes of the same server process, or one scrape since its process started."""

    now: Scrape
    before: Scrape | None
    seconds: float

    @property
    def note(self) -> str:
        if self.before is None:
            return "averages since the API server process started (first scrape)"
        return f"rates over the last {self.seconds:.0f} s"


def interval(now: Scrape, before: Scrape | None) -> Interval | None:
    """The span rates are over; None when it cannot be known (no start time on a first scrape)."""
    same = before is not None and before.process_start == now.process_start and now.at > before.at
    if same and before is not None:
        return Interval(now, before, now.at - before.at)
    if now.process_start is not None and now.at > now.process_start:
        return Interval(now, None, now.at - now.process_start)
    return None


def apiserver_from(span: Interval, limits: Mapping[str, float], server: str) -> ApiserverFacts:
    """The API panel's facts; the heatmap is added by the scraper, which keeps the columns."""
    now, before, seconds = span.now, span.before, span.seconds
    rates: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    total = errors = 0.0
    for (verb, resource, cls), count in now.requests.items():
        rate = _increase(count, before.requests.get((verb, resource, cls)) if before else None) / seconds
        rates[(verb, resource)][cls] += rate
        total += rate
        errors += rate if cls == "5xx" else 0.0
    requests = []
    pairs = {p for p in rates if p[0] not in LONG_RUNNING_VERBS} | set(now.latency)
    for verb, resource in pairs:
        buckets = _bucket_increase(
            now.latency.get((verb, resource), {}), before.latency.get((verb, resource)) if before else None
        )
        classes = rates.get((verb, resource), {})
        requests.append(
            ApiRequestStat(
                verb=verb,
                resource=resource,
                p50=quantile_value(0.5, buckets),
                p90=quantile_value(0.9, buckets),
                p99=quantile_value(0.99, buckets),
                rate=sum(classes.values()),
                rate_4xx=classes.get("4xx", 0.0),
                rate_429=classes.get("429", 0.0),
                rate_5xx=classes.get("5xx", 0.0),
            )
        )
    requests.sort(key=lambda r: (-r.rate, r.verb, r.resource))
    inflight = tuple(Inflight(kind, value, limits.get(kind)) for kind, value in sorted(now.inflight.items()))
    return replace(
        ApiserverFacts.measured(now.latency_metric, requests, (total, errors), inflight, _apf(span), None),
        apf_seats_metric=now.apf_seats_metric,
        source=SOURCE_APISERVER_METRICS,
        source_note=f"from whichever API server answered at {server}; {span.note}",
    )


def _apf(span: Interval) -> tuple[ApfLevel, ...]:
    now, before = span.now, span.before
    levels = set(now.apf_seats) | set(now.apf_limit) | set(now.apf_inqueue) | set(now.apf_rejected)
    out = [
        ApfLevel(
            priority_level=level,
            executing_seats=now.apf_seats.get(level, 0.0),
            limit_seats=now.apf_limit.get(level),
            inqueue=now.apf_inqueue.get(level, 0.0),
            rejected_rate=_increase(
                now.apf_rejected.get(level, 0.0), before.apf_rejected.get(level) if before else None
            )
            / span.seconds,
        )
        for level in levels
    ]

    def saturation(level: ApfLevel) -> float:
        return level.executing_seats / level.limit_seats if level.limit_seats else 0.0

    out.sort(key=lambda lv: (-saturation(lv), -lv.inqueue, lv.priority_level))
    return tuple(out)


ETCD_NOTE = (
    "etcd's own disk metrics (WAL fsync, backend commit, DB size) are not visible through the API "
    "server: shown is the API server's etcd request latency"
)


def etcd_from(span: Interval, server: str) -> EtcdFacts:
    now, before = span.now, span.before
    stats = []
    for key, buckets in now.etcd.items():
        increase = _bucket_increase(buckets, before.etcd.get(key) if before else None)
        stats.append(
            EtcdRequestStat(key[0], key[1], quantile_value(0.99, increase), increase.get(math.inf, 0.0) / span.seconds)
        )
    stats.sort(key=lambda s: (-(s.p99.number if s.p99.known else -1.0), -s.rate, s.operation, s.type))
    stored = sorted(
        (
            StoredObjects(r, n, Value.of(now.size_bytes[r]) if r in now.size_bytes else NO_TRAFFIC)
            for r, n in now.objects.items()
        ),
        key=lambda s: (-s.objects, s.resource),
    )
    return EtcdFacts(
        db_size_metric="",
        members=(),
        source=SOURCE_APISERVER_METRICS,
        source_note=f"{ETCD_NOTE}; from whichever API server answered at {server}; {span.note}",
        api_requests=tuple(stats),
        stored=tuple(stored),
    )


@dataclass(slots=True)
class ApiserverScraper:
    """Scrapes /metrics once per refresh and keeps the previous scrape and the heatmap columns.

    Shared by the apiserver and etcd feeds: whichever asks first in a refresh scrapes, the
    other reuses that scrape (`max_age`), so one refresh costs one GET.
    """

    connection: KubeConnection
    clock: Callable[[], float] = time.time
    columns: int = 30
    heat_rows: int = 12
    timeout: float = 30.0
    requests: int = field(default=0, init=False)
    bytes_read: int = field(default=0, init=False)
    _current: Scrape | None = field(default=None, init=False)
    _previous: Scrape | None = field(default=None, init=False)
    _heat: dict[tuple[str, str], list[Value]] = field(default_factory=dict, init=False)
    _heat_times: list[float] = field(default_factory=list, init=False)
    # Both feeds ask at the same moment: the second waits and reuses the first's scrape
    # (two scrapes milliseconds apart would make rates out of noise).
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    @property
    def server(self) -> str:
        return clean(self.connection.server)

    async def latest(self, max_age: float) -> Interval:
        """The interval ending at the newest scrape, scraping again if it is older than `max_age`."""
        async with self._lock:
            if self._current is None or self.clock() - self._current.at >= max_age:
                await self._scrape()
        assert self._current is not None
        span = interval(self._current, self._previous)
        if span is None:
            raise FeedError(f"{self.server}{METRICS_PATH}: no process_start_time_seconds; rates need a second scrape")
        return span

    async def _scrape(self) -> None:
        what = f"get {METRICS_PATH}"
        try:
            lines, read = await self.connection.get_lines(METRICS_PATH, wanted, what=what, timeout=self.timeout)
        except KubeApiError as exc:
            if exc.status == 403:
                raise FeedError(f"forbidden: RBAC does not allow {what} on the API server: {RBAC_HINT}") from None
            raise
        self.requests += 1
        self.bytes_read += read
        scrape = parse_scrape(lines, self.clock())
        scrape.bytes_read = read
        if not scrape.requests and not scrape.latency:
            raise FeedError(f"{self.server}{METRICS_PATH} has no apiserver_request_total: not an API server's metrics")
        self._previous, self._current = self._current, scrape

    def heatmap(self, facts: ApiserverFacts, span: Interval) -> Heatmap | None:
        """One column per scrape interval for the busiest pairs; a first scrape adds none."""
        if span.before is None:
            return None
        if not self._heat_times or self._heat_times[-1] != span.now.at:
            self._heat_times.append(span.now.at)
            p99 = {(r.verb, r.resource): r.p99 for r in facts.requests}
            for key in set(self._heat) | set(p99):
                column = self._heat.setdefault(key, [NO_TRAFFIC] * (len(self._heat_times) - 1))
                column.append(p99.get(key, NO_TRAFFIC))
            del self._heat_times[: -self.columns]
            for cells in self._heat.values():
                del cells[: -self.columns]
        busiest = [(r.verb, r.resource) for r in facts.requests if (r.verb, r.resource) in self._heat][: self.heat_rows]
        times = self._heat_times
        step = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else span.seconds
        rows = tuple(HeatRow(verb, resource, tuple(self._heat[(verb, resource)])) for verb, resource in busiest)
        return Heatmap(start=times[0], step=step, rows=rows)
