"""`histogram_quantile` as Prometheus computes it, for histograms k8stop reads itself
(the API server's /metrics scraped directly, without a Prometheus to ask).

Same rules as promql/quantile.go `bucketQuantile`: cumulative buckets sorted by upper
bound, a `+Inf` bucket required, the lowest bucket's lower bound taken as 0, linear
interpolation inside the bucket the rank falls in, a rank in the `+Inf` bucket answered
with the highest finite bound (so the answer is a lower bound), NaN without observations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """The q-quantile of cumulative `(upper bound, count)` buckets; equal bounds are summed."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    bounds = [bound for bound, _ in ordered]
    # Counters scraped a moment apart can disagree slightly: force monotonicity, as Prometheus does.
    counts: list[float] = []
    for _, count in ordered:
        counts.append(max(count, counts[-1]) if counts else count)
    observations = counts[-1]
    if observations <= 0 or math.isnan(observations):
        return math.nan
    rank = q * observations
    b = next(i for i, count in enumerate(counts) if count >= rank)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count) if count > 0 else math.nan
