"""Per-refresh cost of the API panel and the etcd panel, Prometheus path against the direct
path (the API server's own /metrics through the kube API): python3 bench/direct_refresh.py [UNRELATED] [ROUNDS].

Both paths read the same scenario (tests/scenario.py): a real Prometheus backfilled with it,
and the kube-API test server serving one API server instance's /metrics for it, padded with
UNRELATED series of a family k8stop does not read (a real /metrics is several MB). Prints
one JSON line: requests and bytes per refresh for each path, and for the direct path the
lines and bytes kept after the streaming filter (what is held and parsed; the rest of the
body is dropped chunk by chunk) and the time to scrape and compute the facts.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from k8stop.queries.config import Settings
from k8stop.queries.kube.connection import connect
from k8stop.queries.kube.metrics_scrape import ApiserverScraper, apiserver_from, etcd_from, wanted
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from kubeapi import ThreadedKubeApiServer, write_kubeconfig
from kubeapi.from_scenario import cluster_from_scenario
from prometheus_fixture import start_prometheus
from scenario import Scenario


async def prometheus_path(url: str, rounds: int) -> dict[str, float]:
    client = PromClient(url)
    facts = PrometheusFacts(client, Settings(prometheus_url=url))
    await asyncio.gather(facts.apiserver(with_history=False), facts.etcd(with_history=False))  # warm-up probe
    queries, received = [], []
    for _ in range(rounds):
        sent, got = client.queries_sent, client.bytes_received
        await asyncio.gather(facts.apiserver(with_history=False), facts.etcd(with_history=False))
        queries.append(client.queries_sent - sent)
        received.append(client.bytes_received - got)
    await client.close()
    return {"requests": statistics.median(queries), "bytes": statistics.median(received)}


async def direct_path(kubeconfig: Path, rounds: int) -> dict[str, float]:
    connection = await connect(str(kubeconfig))
    scraper = ApiserverScraper(connection)
    times: list[float] = []
    try:
        await scraper.latest(max_age=0)
        for _ in range(rounds):
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            span = await scraper.latest(max_age=0)
            apiserver_from(span, {}, scraper.server)
            etcd_from(span, scraper.server)
            times.append(time.perf_counter() - started)
        lines, _ = await connection.get_lines("/metrics", wanted, what="get /metrics")
    finally:
        await connection.close()
    return {
        "requests": scraper.requests / (rounds + 1),
        "bytes": scraper.bytes_read / (rounds + 1),
        "kept_lines": len(lines),
        "kept_bytes": sum(len(line) + 1 for line in lines),
        "scrape_and_facts_s": statistics.median(times),
    }


def main() -> None:
    unrelated = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    scenario = Scenario.healthy(kubelet_exposed=False)
    handle = start_prometheus(scenario)
    try:
        prometheus = asyncio.run(prometheus_path(handle.url, rounds))
    finally:
        handle.stop()
    with ThreadedKubeApiServer(cluster_from_scenario(scenario)) as server, tempfile.TemporaryDirectory() as tmp:
        server.apiserver_metrics.unrelated_series = unrelated
        direct = asyncio.run(direct_path(write_kubeconfig(Path(tmp) / "kc", server.url, server.token), rounds))
        verbs = sorted(server.verbs())
    print(json.dumps({"unrelated_series": unrelated, "prometheus": prometheus, "direct": direct, "verbs": verbs}))


if __name__ == "__main__":
    main()
