"""What every Prometheus fact builder needs: the client, the catalog, the probe, a clock,
and the kube API's node addresses when there is a kube feed."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from k8stop.queries.config import Settings
from k8stop.queries.prom.catalog import Catalog, cluster_matcher
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.probe import Probe


@dataclass(slots=True)
class PromContext:
    client: PromClient
    settings: Settings
    catalog: Catalog
    probe: Probe
    clock: Callable[[], float] = field(default=time.time)
    # Address -> node name from the kube API (KubeReads.node_addresses), when the kube feed
    # is there: names the targets Prometheus alone cannot.
    kube_nodes: Callable[[], Mapping[str, str]] | None = None

    @classmethod
    def create(
        cls,
        client: PromClient,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        kube_nodes: Callable[[], Mapping[str, str]] | None = None,
    ) -> PromContext:
        probe = Probe(client, scope=cluster_matcher(settings))
        return cls(client, settings, Catalog(settings), probe, clock, kube_nodes)
