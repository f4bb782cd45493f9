"""PrometheusFacts: every Prometheus-backed fact, each method shaped for `Poller`.

Each method returns `(facts, warnings)` and raises `NotExposed` when the metrics are
absent. Per dashboard refresh, apiserver + etcd + nodes + restarts cost 5 instant
queries (each feed's catalog expressions travel as one combined request; nodes need
two; node names ride inside the node and etcd queries, queries/prom/node_names.py),
plus one range query each for the API heatmap and etcd history when `with_history` is
true, plus the name probe once every few minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from k8stop.queries.config import Settings
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.facts import (
    RESTARTS_SHOWN,
    AlertsFacts,
    ApiserverFacts,
    ControlPlaneFacts,
    EtcdFacts,
    NodesFacts,
    RestartsFacts,
    WorkloadsFacts,
)
from k8stop.queries.model.node_addresses import NodeAddresses
from k8stop.queries.model.request_path import RequestPathFacts
from k8stop.queries.prom.alerts import AlertsSource
from k8stop.queries.prom.apiserver import apiserver_facts
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.control_plane import control_plane_facts
from k8stop.queries.prom.etcd import etcd_facts
from k8stop.queries.prom.nodes import nodes_facts
from k8stop.queries.prom.request_path import request_path_facts
from k8stop.queries.prom.restarts import restarts_facts
from k8stop.queries.prom.scope import in_scope
from k8stop.queries.prom.targets import targets_down
from k8stop.queries.prom.workloads import workloads_facts

Warnings = tuple[str, ...]


class PrometheusFacts:
    def __init__(
        self,
        client: PromClient,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        kube_nodes: Callable[[], NodeAddresses] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self._ctx = PromContext(client, settings, clock, kube_nodes)
        self._alerts = AlertsSource(client, keep=lambda alert: in_scope(alert.labels, settings))

    @property
    def context(self) -> PromContext:
        """Client, catalog and probe, for drill-downs that build their own queries."""
        return self._ctx

    def forget_probe(self) -> None:
        """Re-detect metric names on the next call (e.g. after the user reconnects)."""
        self._ctx.probe.invalidate()

    async def apiserver(
        self, columns: int = 30, window: float = 1800.0, with_history: bool = True, heat_rows: int = 12
    ) -> tuple[ApiserverFacts, Warnings]:
        return await apiserver_facts(self._ctx, columns, window, with_history, heat_rows)

    async def etcd(
        self, columns: int = 30, window: float = 1800.0, with_history: bool = True
    ) -> tuple[EtcdFacts, Warnings]:
        return await etcd_facts(self._ctx, columns, window, with_history)

    async def nodes(self, top: int | None = None) -> tuple[NodesFacts, Warnings]:
        return await nodes_facts(self._ctx, self.settings.top_nodes if top is None else top)

    async def restarts(self, top: int = RESTARTS_SHOWN) -> tuple[RestartsFacts, Warnings]:
        return await restarts_facts(self._ctx, top)

    async def workloads(self, top: int = 10) -> tuple[WorkloadsFacts, Warnings]:
        return await workloads_facts(self._ctx, top)

    async def control_plane(self) -> tuple[ControlPlaneFacts, Warnings]:
        return await control_plane_facts(self._ctx)

    async def request_path(self, with_burn: bool = True) -> tuple[RequestPathFacts, Warnings]:
        return await request_path_facts(self._ctx, with_burn)

    async def alerts(self) -> tuple[AlertsFacts, Warnings]:
        facts, warnings = await self._alerts.facts()
        try:
            down = await targets_down(self._ctx)
        except FeedError as exc:  # the alerts are the news; target health only explains them
            return facts, (*warnings, f"scrape target health unknown ({exc})")
        return replace(facts, targets_down=down), warnings

    async def cluster_version(self) -> str | None:
        """The API servers' version as Prometheus knows it; the most common one if they differ."""
        vector = await self.client.query(self._ctx.catalog.render("apiserver.version"))
        counts = [(v.number, labels.get("git_version", "")) for labels, v in vector.samples if v.known]
        return max(counts)[1] or None if counts else None
