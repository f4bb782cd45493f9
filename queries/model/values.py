"""A measured value that keeps its meaning: a number, no traffic, at least a bound, or absent.

A bare float cannot tell "0 ms" from "no requests" or from "beyond the histogram's last
bucket"; panels, findings and reports all read this instead so none of them can lie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NUMBER = "number"
    NO_TRAFFIC = "no_traffic"  # histogram_quantile over zero observations: NaN
    AT_LEAST = "at_least"  # quantile fell in the +Inf bucket: the true value is >= number
    INFINITE = "infinite"  # +Inf / -Inf from the server
    ABSENT = "absent"  # the series does not exist (metric not exposed, or no such target)


@dataclass(frozen=True, slots=True)
class Value:
    kind: Kind
    number: float = math.nan

    @classmethod
    def of(cls, number: float) -> Value:
        if math.isnan(number):
            return NO_TRAFFIC
        if math.isinf(number):
            return cls(Kind.INFINITE, number)
        return cls(Kind.NUMBER, number)

    @classmethod
    def quantile(cls, number: float, top_bucket: float | None) -> Value:
        """histogram_quantile returns the highest finite bound when the rank is in +Inf."""
        value = cls.of(number)
        if value.kind is Kind.NUMBER and top_bucket is not None and number >= top_bucket:
            return cls(Kind.AT_LEAST, top_bucket)
        return value

    @property
    def known(self) -> bool:
        """True when `number` is a usable lower bound or exact figure."""
        return self.kind in (Kind.NUMBER, Kind.AT_LEAST) or (self.kind is Kind.INFINITE and self.number > 0)

    def at_least(self, threshold: float) -> bool:
        """True only when the value is known to be >= threshold."""
        return self.known and self.number >= threshold

    def or_none(self) -> float | None:
        return self.number if self.known else None


NO_TRAFFIC = Value(Kind.NO_TRAFFIC)
ABSENT = Value(Kind.ABSENT)
