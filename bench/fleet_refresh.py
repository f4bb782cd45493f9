"""What a fleet costs per refresh: python3 bench/fleet_refresh.py [CLUSTERS ...] (default 1 3 50).

For each size, backfills one real Prometheus with that many small clusters told apart by a
`cluster` label (tests/scenario.py Fleet, identical instance names in each), then counts the
requests and bytes of:
- the fleet overview's refresh (queries/prom/fleet.py: by-cluster aggregates + the alerts list),
  which must not grow with the number of clusters;
- the dashboard's refresh scoped to one cluster (--cluster: apiserver, etcd, nodes and restarts
  feeds, as prom_refresh.py measures them), the single-cluster baseline.
The metric-name probe runs once before (it is cached for minutes, not run per refresh).
Prints one JSON line per size.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from k8stop.queries.config import Settings
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.context import PromContext
from k8stop.queries.prom.facts_source import PrometheusFacts
from k8stop.queries.prom.fleet import fleet_measures
from k8stop.queries.prom.scope import fleet_clusters
from k8stop.queries.rules.fleet import fleet_rows
from prom_refresh import refresh
from prometheus_fixture import start_prometheus
from scenario import Fleet, Scenario, default_pods, make_nodes

ROUNDS = 5


def fleet(clusters: int) -> Fleet:
    """Small clusters (3 nodes and their default pods, kubelet and cAdvisor off), ten minutes of history."""
    nodes = make_nodes(3)
    small = Scenario(
        nodes=nodes,
        pods=default_pods(nodes),
        kubelet_exposed=False,
        cadvisor_exposed=False,
        history=600.0,
        step=60.0,
    )
    return Fleet(tuple((f"cluster-{i:02d}", small) for i in range(clusters)))


async def measure(url: str) -> dict[str, float]:
    settings = Settings(prometheus_url=url)
    async with PromClient(url) as client:
        clusters = await fleet_clusters(client, settings)
        ctx = PromContext(client, settings)
        await fleet_measures(ctx)  # warm-up: the probe
        queries = received = 0
        times = []
        for _ in range(ROUNDS):
            sent, got = client.queries_sent, client.bytes_received
            started = time.perf_counter()
            rows = fleet_rows(await fleet_measures(ctx), clusters, settings.thresholds).rows
            times.append(time.perf_counter() - started)
            queries, received = client.queries_sent - sent, client.bytes_received - got
        assert len(rows) == len(clusters), (len(rows), len(clusters))
    scoped = Settings(prometheus_url=url, cluster=clusters[0])
    async with PromClient(url) as client:
        facts = PrometheusFacts(client, scoped)
        await refresh(facts)  # warm-up: the probe
        sent, got = client.queries_sent, client.bytes_received
        await refresh(facts)
        one_queries, one_bytes = client.queries_sent - sent, client.bytes_received - got
    return {
        "clusters": len(clusters),
        "fleet_queries_per_refresh": queries,
        "fleet_bytes_per_refresh": received,
        "fleet_refresh_s": statistics.median(times),
        "scoped_dashboard_queries_per_refresh": one_queries,
        "scoped_dashboard_bytes_per_refresh": one_bytes,
    }


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1, 3, 50]
    for size in sizes:
        started = time.perf_counter()
        handle = start_prometheus(fleet(size))
        setup = time.perf_counter() - started
        try:
            result = asyncio.run(measure(handle.url))
        finally:
            handle.stop()
        print(json.dumps({**result, "setup_s": round(setup, 1)}), flush=True)


if __name__ == "__main__":
    main()
