"""Human formats: numbers read naturally, and unknowns never turn into numbers."""

from __future__ import annotations

import math

from k8stop.queries.model.units import fmt_bytes, fmt_count, fmt_rate, fmt_ratio, fmt_seconds
from k8stop.queries.model.values import ABSENT, NO_TRAFFIC, Kind, Value
from k8stop.queries.rules.kpis import fmt_value


def test_seconds() -> None:
    assert fmt_seconds(Value.of(0.0082)) == "8.2 ms"
    assert fmt_seconds(Value.of(1.25)) == "1.25 s"
    assert fmt_seconds(Value.of(0.0004)) == "400 µs"
    assert fmt_seconds(Value.quantile(60.0, 60.0)) == ">= 60 s"


def test_unknowns_stay_unknown() -> None:
    assert fmt_seconds(NO_TRAFFIC) == "no traffic"
    assert fmt_seconds(Value.of(math.nan)) == "no traffic"
    assert fmt_seconds(ABSENT) == "n/a"
    assert fmt_ratio(ABSENT) == "n/a"
    assert fmt_bytes(ABSENT) == "n/a"
    assert fmt_seconds(Value.of(math.inf)) == "+Inf"


def test_bytes_ratio_rate_count() -> None:
    assert fmt_bytes(Value.of(1.5 * 1024**3)) == "1.5 GiB"
    assert fmt_bytes(Value.of(512)) == "512 B"
    assert fmt_ratio(Value.of(0.87)) == "87 %"
    assert fmt_rate(1234.0) == "1,234/s"
    assert fmt_rate(0.0) == "0/s"
    assert fmt_count(4980) == "4,980"


def test_kpi_values_by_unit() -> None:
    assert fmt_value(Value.of(1234.0), "req/s") == "1,234 req/s"
    assert fmt_value(Value.of(2.5), "pods/s") == "2.5 pods/s"
    assert fmt_value(Value(Kind.AT_LEAST, 8.192), "s") == ">= 8.19 s"
    assert fmt_value(Value.of(4980), "items") == "4,980"
    assert fmt_value(NO_TRAFFIC, "req/s") == "no traffic"
    assert fmt_value(ABSENT, "items") == "n/a"
