"""One scenario served by the test Prometheus, collected into a snapshot as `k8stop report` does,
and the scenario edits the signal tests share."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from k8stop.queries.config import Settings
from k8stop.queries.feeds.collect import collect_snapshot
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState
from scenario import Scenario


def snapshot_for(prometheus_for, scenario: Scenario) -> tuple[ClusterSnapshot, Settings]:
    handle = prometheus_for(scenario)
    settings = Settings(prometheus_url=handle.url, use_kube=False)
    snap = asyncio.run(collect_snapshot(settings))
    assert snap.prometheus.state is SourceState.OK, snap.prometheus.detail
    return snap, settings


def with_node(base: Scenario, index: int, name: str | None = None, **changes: object) -> Scenario:
    """`base` (renamed `name` if given), its node `index` changed by `changes`, the others as they were."""
    nodes = tuple(replace(n, **changes) if i == index else n for i, n in enumerate(base.nodes))  # type: ignore[arg-type]
    return replace(base, name=name or base.name, nodes=nodes)
