"""Bucket layouts, synthetic bucket distributions, and Prometheus's histogram_quantile.

The generator writes cumulative bucket counters whose rates are `rate * fraction(le)`;
`expected_quantile` reproduces Prometheus 2.x `bucketQuantile` (promql/quantile.go) on
those fractions, so a test can compare what k8stop shows with what the server computes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

INF = math.inf

# k8s.io/apiserver endpoints/metrics/metrics.go
APISERVER_SLI_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)  # fmt: skip
APISERVER_LEGACY_BUCKETS: tuple[float, ...] = tuple(sorted((0.005, 0.025) + APISERVER_SLI_BUCKETS))
# k8s.io/apiserver admission metrics.go webhook admission latency buckets
WEBHOOK_BUCKETS: tuple[float, ...] = (0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10.0, 25.0)
# k8s.io/apiserver flowcontrol metrics.go queue wait buckets
APF_WAIT_BUCKETS: tuple[float, ...] = (0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0)
# CoreDNS plugin.TimeBuckets ExponentialBuckets(0.00025, 2, 16): 0.25 ms .. 8.192 s
DNS_BUCKETS: tuple[float, ...] = tuple(0.00025 * 2**n for n in range(16))
# kube-proxy network programming (pkg/proxy/metrics): 0.25, 0.5, 1..59, 60..115 by 5, 120..300 by 30
PROXY_PROGRAMMING_BUCKETS: tuple[float, ...] = (
    (0.25, 0.5)
    + tuple(float(s) for s in range(1, 60))
    + tuple(float(s) for s in range(60, 120, 5))
    + tuple(float(s) for s in range(120, 301, 30))
)
# etcd ExponentialBuckets(0.001, 2, 14): 1 ms .. 8.192 s
ETCD_DISK_BUCKETS: tuple[float, ...] = tuple(0.001 * 2**n for n in range(14))
# etcd peer RTT ExponentialBuckets(0.0001, 2, 16)
ETCD_PEER_RTT_BUCKETS: tuple[float, ...] = tuple(0.0001 * 2**n for n in range(16))
# scheduler ExponentialBuckets(0.001, 2, 15): 1 ms .. 16.384 s
SCHEDULER_BUCKETS: tuple[float, ...] = tuple(0.001 * 2**n for n in range(15))
# workqueue ExponentialBuckets(10e-7, 10, 10): 1 us .. 1000 s
WORKQUEUE_BUCKETS: tuple[float, ...] = tuple(1e-6 * 10**n for n in range(10))
# kubelet pod start SLI (pkg/kubelet/metrics/metrics.go, 0.5 .. 3600 s)
POD_START_BUCKETS: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 480.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0)  # fmt: skip
# kubelet runtime operations ExponentialBuckets(.005, 2.5, 14)
# component-base DefBuckets (kubelet_pleg_relist_duration_seconds)
DEF_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RUNTIME_OPS_BUCKETS: tuple[float, ...] = tuple(0.005 * 2.5**n for n in range(14))

# Cumulative fraction of observations at each bound, the last one being +Inf (always 1.0).
Distribution = tuple[tuple[float, float], ...]


def format_le(bound: float) -> str:
    """The `le` label text as client_golang writes it (e.g. "0.05", "1", "+Inf")."""
    if bound == INF:
        return "+Inf"
    text = repr(float(bound))
    return text[:-2] if text.endswith(".0") else text


def _interpolate(knots: Sequence[tuple[float, float]], x: float) -> float:
    """Piecewise-linear CDF through knots, flat at 1.0 past the last one."""
    prev_x, prev_y = 0.0, 0.0
    for kx, ky in knots:
        if x <= kx:
            if kx == prev_x:
                return ky
            return prev_y + (ky - prev_y) * (x - prev_x) / (kx - prev_x)
        prev_x, prev_y = kx, ky
    return 1.0


def distribution(
    bounds: Sequence[float], p99: float, p50: float | None = None, p90: float | None = None
) -> Distribution:
    """Cumulative fractions per bucket such that histogram_quantile(0.99) == p99.

    The bucket (L, U] holding p99 gets a linear CDF from c_L to c_U chosen so that
    interpolation lands exactly on p99; lower buckets follow a CDF through p50/p90
    (defaults p99/4, p99/2), so those two are right only to within a bucket.
    p99 beyond the top finite bound puts 2 % of observations in +Inf: Prometheus then
    answers the top finite bound. p99 below 0.99 x the first bound cannot be expressed
    (interpolation from 0 in the first bucket): `expected_quantile` gives what shows.
    """
    p50 = p99 / 4 if p50 is None else p50
    p90 = p99 / 2 if p90 is None else p90
    if not 0 < p50 <= p90 <= p99:
        raise ValueError(f"need 0 < p50 <= p90 <= p99, got {p50}, {p90}, {p99}")
    knots = ((p50, 0.5), (p90, 0.9), (p99, 0.99))
    top = bounds[-1]
    if p99 > top:
        cum = [min(_interpolate(knots, b), 0.98) for b in bounds]
        return tuple(zip(bounds, cum, strict=True)) + ((INF, 1.0),)
    upper_index = next(i for i, b in enumerate(bounds) if p99 <= b)
    upper = bounds[upper_index]
    lower = bounds[upper_index - 1] if upper_index > 0 else 0.0
    f = (p99 - lower) / (upper - lower)
    c_lower = _interpolate(knots, lower) if upper_index > 0 else 0.0
    if f >= 1.0:
        c_upper = 0.99
    else:
        # c_upper = c_lower + (0.99 - c_lower) / f must stay <= 1: raise c_lower if needed.
        c_lower = max(c_lower, (0.99 - f) / (1 - f)) if upper_index > 0 else 0.0
        c_upper = min(1.0, c_lower + (0.99 - c_lower) / f) if f > 0 else 1.0
    cum: list[float] = []
    for i, b in enumerate(bounds):
        if i < upper_index - 1:
            cum.append(min(_interpolate(knots, b), c_lower))
        elif i == upper_index - 1:
            cum.append(c_lower)
        elif i == upper_index:
            cum.append(c_upper)
        else:
            # The tail beyond p99's bucket: the rest lands in the next bucket.
            cum.append(1.0)
    return tuple(zip(bounds, cum, strict=True)) + ((INF, 1.0),)


def merge(parts: Iterable[tuple[float, Distribution]]) -> tuple[tuple[float, float], ...]:
    """Sum rate-weighted distributions (same bounds) into cumulative bucket rates."""
    totals: dict[float, float] = {}
    for rate, dist in parts:
        for le, frac in dist:
            totals[le] = totals.get(le, 0.0) + rate * frac
    return tuple(sorted(totals.items()))


def expected_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus 2.42 bucketQuantile over (upper bound, cumulative count) pairs.

    Returns NaN for no observations, the top finite bound when the rank is in +Inf.
    """
    if q < 0:
        return -INF
    if q > 1:
        return INF
    ordered = sorted(buckets)
    if len(ordered) < 2 or ordered[-1][0] != INF:
        return math.nan
    # ensureMonotonic: a cumulative count never decreases
    fixed: list[tuple[float, float]] = []
    running = -INF
    for le, count in ordered:
        running = max(running, count)
        fixed.append((le, running))
    observations = fixed[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    index = next(i for i, (_, c) in enumerate(fixed) if c >= rank)
    if index == len(fixed) - 1:
        return fixed[-2][0]
    if index == 0 and fixed[0][0] <= 0:
        return fixed[0][0]
    start = 0.0
    end, count = fixed[index]
    if index > 0:
        start = fixed[index - 1][0]
        count -= fixed[index - 1][1]
        rank -= fixed[index - 1][1]
    return start + (end - start) * (rank / count)
