"""Which metric names exist, and which label names the nodes: one cheap query, cached.

Renamed metrics (sli vs duration histograms, APF seats, etcd db size, ...) are resolved
by asking `count by (__name__) ({__name__=~"a|b|..."})` once every few minutes instead
of running every candidate query on every refresh.

Node naming: a `node_label` other than "instance" in the config is used as given. With
the default, k8stop looks for a `node` label on node-exporter series (the "generic"
relabelling many charts use, where instance is "ip:9100") and uses it when present;
otherwise it uses `instance` with any `:port` suffix stripped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from k8stop.queries.config import Settings
from k8stop.queries.prom.catalog import CatalogEntry, probe_names, regex_alternatives, selector_prefix, series_name
from k8stop.queries.prom.client import PromClient

PROBE_TTL = 300.0
_NODE_PROBE = "k8stop_probe"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    names: frozenset[str]
    node_label: str
    warnings: tuple[str, ...]

    def has(self, name: str) -> bool:
        return name in self.names

    def pick(self, entry: CatalogEntry) -> str | None:
        """The first fallback family that exists, or None when none does."""
        for family in entry.fallbacks:
            if series_name(entry, family) in self.names:
                return family
        return None

    @property
    def strip_port(self) -> bool:
        return self.node_label == "instance"


class Probe:
    def __init__(
        self,
        client: PromClient,
        settings: Settings,
        ttl: float = PROBE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings
        self._ttl = ttl
        self._clock = clock
        self._cached: ProbeResult | None = None
        self._at = 0.0

    def invalidate(self) -> None:
        self._cached = None

    def query(self) -> str:
        names = regex_alternatives(probe_names())
        sel = selector_prefix(self._settings.selectors.node)
        return (
            f'count by (__name__) ({{__name__=~"{names}"}})'
            f' or label_replace(count(node_cpu_seconds_total{{{sel}node!=""}}),'
            f' "{_NODE_PROBE}", "node_label", "", "")'
        )

    async def get(self) -> ProbeResult:
        now = self._clock()
        if self._cached is not None and now - self._at < self._ttl:
            return self._cached
        vector = await self._client.query(self.query())
        names: set[str] = set()
        has_node_label = False
        for labels, _value in vector.samples:
            if labels.get(_NODE_PROBE) == "node_label":
                has_node_label = True
            elif "__name__" in labels:
                names.add(labels["__name__"])
        configured = self._settings.selectors.node_label
        if configured != "instance":
            node_label = configured
        else:
            node_label = "node" if has_node_label else "instance"
        self._cached = ProbeResult(frozenset(names), node_label, vector.warnings)
        self._at = now
        return self._cached
