"""Fleets: one query backend (Thanos, Mimir, Cortex, VictoriaMetrics) holding many clusters,
told apart by an external label (`cluster` by default, `cluster_label` / `--cluster-label`).

Scoping is one matcher, `<label>="<name>"`, that the catalog puts into every selector it
renders (catalog.Catalog.render), so KPIs, evidence, drill-downs and built-in alert checks all
inherit it; the probe and the alerts list are narrowed the same way here. Cluster names come
from the backend: they are cleaned for display (model/sanitize.py) and escaped for PromQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from k8stop.queries.config import Settings
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.sanitize import clean

if TYPE_CHECKING:  # the client brings aiohttp: not before the first frame
    from k8stop.queries.prom.client import PromClient

# The label-values call looks back this far: a cluster that stopped reporting an hour ago is
# not part of the fleet any more, and a bounded range keeps the call cheap on Thanos/Mimir.
LOOKBACK = 3600.0


def in_scope(labels: Iterable[tuple[str, str]], settings: Settings) -> bool:
    """Whether an alert (or any labelled item) belongs to the scoped cluster; all do unscoped."""
    if not settings.cluster or not settings.cluster_label:
        return True
    return dict(labels).get(settings.cluster_label) == settings.cluster


async def fleet_clusters(
    client: PromClient, settings: Settings, clock: Callable[[], float] = time.time
) -> tuple[str, ...]:
    """The clusters the backend holds, sorted; () when there is no cluster label configured.

    One cheap call: the label's values over the last LOOKBACK seconds."""
    if not settings.cluster_label:
        return ()
    now = clock()
    envelope = await client.label_values(settings.cluster_label, now - LOOKBACK, now)
    if not isinstance(envelope.data, list):
        raise FeedError(f"malformed response: label {settings.cluster_label} values are not a list")
    return tuple(sorted({clean(str(v)) for v in envelope.data if str(v)}))


def scoped(settings: Settings, cluster: str | None) -> Settings:
    """Settings scoped to one cluster (None: unscoped), the paired kube context with it."""
    if cluster is None:
        return replace(settings, cluster=None)
    context = settings.context_of(cluster)
    return replace(settings, cluster=cluster, context=context or settings.context)
