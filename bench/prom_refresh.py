"""Per-refresh Prometheus cost at scale: python3 bench/prom_refresh.py NODES PODS [ROUNDS].

Backfills a real Prometheus with NODES node-exporter targets and PODS kube-state-metrics pods
(tests/scenario.py), then runs k8stop's dashboard refresh (the apiserver, etcd, nodes and
restarts feeds concurrently, as the pollers do between heatmap columns) through a PromClient
whose session records every request. The recorded requests are replayed with plain aiohttp,
same bodies and concurrency: the physical limit k8stop's time to data is compared with.
Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from k8stop.queries.config import Settings
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from prometheus_fixture import start_prometheus
from scenario import Container, Pod, Scenario, make_nodes

INFLIGHT = 4  # PromClient's default max_inflight
Recorded = list[tuple[str, str, Any]]  # (method, url, form or params)


def scenario(nodes: int, pods: int) -> Scenario:
    node_list = make_nodes(nodes)
    per_deployment = 30
    pod_list = tuple(
        Pod(
            f"ns-{d % 50}",
            f"app-{d}-7d9f8b6c5d-{i:05d}",
            node_list[(d * per_deployment + i) % nodes].name,
            (Container("app", restarts_base=float((d + i) % 3)),),
            owner_name=f"app-{d}-7d9f8b6c5d",
        )
        for d in range((pods + per_deployment - 1) // per_deployment)
        for i in range(per_deployment)
    )[:pods]
    return Scenario(nodes=node_list, pods=pod_list, kubelet_exposed=False, history=600.0, future=FUTURE, step=60.0)


QUERY_TIMEOUT = 60.0
# Data past the moment the scenario is made: at 5,000 nodes the backfill and start take 5-11
# minutes on 2 cores, and the refreshes must still find live series after that.
FUTURE = 1800.0


class RecordingSession(aiohttp.ClientSession):
    """Remembers what PromClient sent, to replay it byte for byte without k8stop."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorded: Recorded = []

    def post(self, url: Any, **kwargs: Any) -> Any:
        self.recorded.append(("POST", str(url), kwargs.get("data")))
        return super().post(url, **kwargs)

    def get(self, url: Any, **kwargs: Any) -> Any:
        self.recorded.append(("GET", str(url), kwargs.get("params")))
        return super().get(url, **kwargs)


async def refresh(facts: PrometheusFacts) -> None:
    await asyncio.gather(
        facts.apiserver(with_history=False),
        facts.etcd(with_history=False),
        facts.nodes(),
        facts.restarts(),
    )


async def replay(session: aiohttp.ClientSession, recorded: Recorded) -> int:
    gate = asyncio.Semaphore(INFLIGHT)

    async def one(method: str, url: str, payload: Any) -> int:
        async with gate:
            if method == "POST":
                request = session.post(url, data=payload)
            else:
                request = session.get(url, params=payload)
            async with request as response:
                return len(await response.read())

    sizes = await asyncio.gather(*(one(*r) for r in recorded))
    return sum(sizes)


async def measure(url: str, rounds: int) -> dict[str, float]:
    session = RecordingSession(connector=aiohttp.TCPConnector(limit=INFLIGHT))
    try:
        return await measure_with(session, url, rounds)
    finally:  # closed on failure too, so the error is the last thing on stderr
        await session.close()


async def measure_with(session: RecordingSession, url: str, rounds: int) -> dict[str, float]:
    # At 5,000 nodes and 150,000 pods a query can take longer than the default 10 s on a small
    # machine: the bench measures what a refresh costs, as a user of a Prometheus this size
    # would run it (`query_timeout` raised), and reports the first refresh on its own.
    client = PromClient(url, session=session, timeout=QUERY_TIMEOUT)
    facts = PrometheusFacts(client, Settings(prometheus_url=url, query_timeout=QUERY_TIMEOUT))
    started = time.perf_counter()
    await refresh(facts)  # the metric-name probe runs once per few minutes, not per refresh
    first_s = time.perf_counter() - started
    k8stop_times, raw_times = [], []
    queries = received = 0
    raw_bytes = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=INFLIGHT)) as raw:
        for _ in range(rounds):
            session.recorded.clear()
            sent, got = client.queries_sent, client.bytes_received
            started = time.perf_counter()
            await refresh(facts)
            k8stop_times.append(time.perf_counter() - started)
            queries, received = client.queries_sent - sent, client.bytes_received - got
            recorded = list(session.recorded)
            started = time.perf_counter()
            raw_bytes = await replay(raw, recorded)
            raw_times.append(time.perf_counter() - started)
    return {
        "queries": queries,
        "bytes": received,
        "raw_bytes": raw_bytes,
        "first_s": first_s,
        "k8stop_s": statistics.median(k8stop_times),
        "raw_s": statistics.median(raw_times),
    }


def main() -> None:
    nodes, pods = int(sys.argv[1]), int(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    started = time.perf_counter()
    handle = start_prometheus(scenario(nodes, pods))
    setup = time.perf_counter() - started
    try:
        result = asyncio.run(measure(handle.url, rounds))
    finally:
        handle.stop()
    print(json.dumps({"nodes": nodes, "pods": pods, "setup_s": setup, **result}))


if __name__ == "__main__":
    main()
