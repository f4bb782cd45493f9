"""What every Prometheus fact builder needs: the client, the catalog, the probe, a clock,
and the kube API's node addresses when there is a kube feed."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from k8stop.queries.config import Settings
from k8stop.queries.model.errors import NotExposed
from k8stop.queries.model.node_addresses import NodeAddresses
from k8stop.queries.prom.catalog import Catalog, cluster_matcher
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.probe import Probe, ProbeResult


@dataclass(slots=True)
class PromContext:
    client: PromClient
    settings: Settings
    clock: Callable[[], float] = field(default=time.time)
    # Address -> node name from the kube API (KubeReads.node_addresses), when the kube feed
    # is there: names the targets Prometheus alone cannot.
    kube_nodes: Callable[[], NodeAddresses] | None = None
    catalog: Catalog = field(init=False)
    probe: Probe = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = Catalog(self.settings)
        self.probe = Probe(self.client, scope=cluster_matcher(self.settings))

    def with_catalog(self, catalog: Catalog) -> PromContext:
        """The same context (its probe's answers shared) rendering through `catalog`."""
        other = copy.copy(self)
        other.catalog = catalog
        return other

    async def require(self, metric: str, missing: str) -> ProbeResult:
        """The probe's answer, or NotExposed(missing) when Prometheus has no `metric` series."""
        probe = await self.probe.get()
        if not probe.has(metric):
            raise NotExposed(missing)
        return probe
