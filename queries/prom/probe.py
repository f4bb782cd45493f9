"""Which metric names exist: one cheap query, cached.

Renamed metrics (sli vs duration histograms, APF seats, etcd db size, ...) are resolved
by asking `count by (__name__) ({__name__=~"a|b|..."})` once every few minutes instead
of running every candidate query on every refresh.

Node naming is not probed: every node query joins the server-side name map of
queries/prom/node_names.py, so a relabelled or re-deployed exporter is named right at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from k8stop.queries.prom.catalog import CatalogEntry, probe_names, regex_alternatives, series_name
from k8stop.queries.prom.client import PromClient

PROBE_TTL = 300.0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    names: frozenset[str]
    warnings: tuple[str, ...]

    def has(self, name: str) -> bool:
        return name in self.names

    def pick(self, entry: CatalogEntry) -> str | None:
        """The first fallback family that exists, or None when none does."""
        for family in entry.fallbacks:
            if series_name(entry, family) in self.names:
                return family
        return None


class Probe:
    def __init__(
        self,
        client: PromClient,
        ttl: float = PROBE_TTL,
        clock: Callable[[], float] = time.monotonic,
        scope: str = "",
    ) -> None:
        self._client = client
        # The cluster matcher of a fleet session (catalog.cluster_matcher): clusters of one
        # fleet run different releases, so which names exist is asked of this cluster alone.
        self._scope = f"{scope}, " if scope else ""
        self._ttl = ttl
        self._clock = clock
        self._cached: ProbeResult | None = None
        self._at = 0.0

    def invalidate(self) -> None:
        self._cached = None

    def query(self) -> str:
        return f'count by (__name__) ({{{self._scope}__name__=~"{regex_alternatives(probe_names())}"}})'

    async def get(self) -> ProbeResult:
        now = self._clock()
        if self._cached is not None and now - self._at < self._ttl:
            return self._cached
        vector = await self._client.query(self.query())
        names = frozenset(labels["__name__"] for labels, _value in vector.samples if "__name__" in labels)
        self._cached = ProbeResult(names, vector.warnings)
        self._at = now
        return self._cached
