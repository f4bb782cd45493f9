"""What every Prometheus fact builder needs: the client, the catalog, the probe, a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from k8stop.queries.config import Settings
from k8stop.queries.prom.catalog import Catalog
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.probe import Probe


@dataclass(slots=True)
class PromContext:
    client: PromClient
    settings: Settings
    catalog: Catalog
    probe: Probe
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def create(cls, client: PromClient, settings: Settings, clock: Callable[[], float] = time.time) -> PromContext:
        return cls(client, settings, Catalog(settings), Probe(client, settings), clock)
