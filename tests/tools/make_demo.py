"""Regenerate the bundled demo recording, tui/data/demo.k8rec, with k8stop's own feeds.

    python3 tests/tools/make_demo.py [--out FILE] [--minutes 15] [--step 5]

A real Prometheus serves the backfilled incident (tests/scenario.py) and the kube-API test
server the same cluster (kubeapi/from_scenario.py: the scenario's nodes and pods as the API
holds them at the end of the incident); `LiveSource` polls both while a stepped clock walks
through the history, so a 15-minute incident records in well under a minute. Each step also
records the kube feed's records (the "kube_objects" feed, every few steps) so the replay's node and pod drill-downs
show conditions, pods and events. The incident, from 90 s
in: one etcd member's disk turns slow and the API server's mutating
verbs follow, a node's CPU saturates, and shop/checkout crash-loops (OOMKilled).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from k8stop.queries.config import Settings  # noqa: E402
from k8stop.queries.feeds.live import LiveSource  # noqa: E402
from k8stop.queries.feeds.recording import Recorder  # noqa: E402
from k8stop.queries.feeds.registry import FEEDS, SLOW_FEED_FACTOR  # noqa: E402
from k8stop.queries.feeds.source import SourceInfo  # noqa: E402
from k8stop.queries.model.status import FeedUpdate  # noqa: E402
from scenario import Scenario  # noqa: E402

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEMO_OUT = TESTS.parent / "tui" / "data" / "demo.k8rec"
DEMO_PROMETHEUS = "prometheus-k8s.monitoring (k8stop test fixture)"


def demo_scenario(minutes: float = 15.0) -> Scenario:
    """The incident at the anchor; healthy only for the first 10 % of `minutes`, so a demo soon shows it."""
    base = Scenario.healthy()
    requests = tuple(
        replace(r, p99=r.p99 * 8, p90=r.p99 * 3, p50=r.p99) if r.verb in MUTATING and not r.excluded else r
        for r in base.requests
    )
    incident = replace(
        base,
        name="demo-incident",
        etcd=Scenario.slow_etcd_member(member=1, fsync_p99=0.25, commit_p99=0.4).etcd,
        nodes=Scenario.cpu_saturated_node(node=2).nodes,
        pods=Scenario.crashloop(restarts_per_hour=30.0).pods,
        requests=requests,
    )
    return incident.starting(minutes * 60 * 0.9)


class SteppedClock:
    """Recording time: stands still between steps, so every feed of a step shares one instant."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


async def record_stepped(
    settings: Settings,
    path: Path,
    times: Sequence[float],
    prometheus_label: str | None = None,
) -> SourceInfo:
    """Poll every feed at each of `times` (slow feeds every SLOW_FEED_FACTOR steps) into `path`."""
    clock = SteppedClock(times[0])
    source = LiveSource(settings, clock=clock)
    infos: list[SourceInfo] = []
    await source.connect(infos.append)
    info = infos[-1]
    if prometheus_label is not None:
        info = replace(info, prometheus=prometheus_label)
    recorder = Recorder(path, info, start=times[0])
    try:
        if source.prom_client is not None:
            source.prom_client.evaluation_clock = clock
        source.make_pollers(recorder.write)
        if source.kube is not None:
            await asyncio.wait_for(source.kube.wait_settled(), 30)
        for step, at in enumerate(times):
            clock.at = at
            for feed, poller in source.pollers.items():
                if FEEDS[feed].slow and step % SLOW_FEED_FACTOR:
                    continue
                update: FeedUpdate[object] = await poller.poll_once()
                if update.status.state.value == "error":
                    raise RuntimeError(f"{feed} failed at step {step}: {update.status.reason}")
    finally:
        recorder.close(end=times[-1])
        await source.sources.close()
    return info


def stepped_times(end: float, minutes: float, step: float) -> list[float]:
    count = int(minutes * 60 / step)
    return [end - (count - i) * step for i in range(count + 1)]


def main(argv: list[str] | None = None) -> int:
    from kubeapi import ThreadedKubeApiServer, write_kubeconfig
    from kubeapi.from_scenario import cluster_from_scenario
    from prometheus_fixture import start_prometheus

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEMO_OUT)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--step", type=float, default=5.0, help="seconds between polls (recording time)")
    args = parser.parse_args(argv)

    scenario = demo_scenario(args.minutes)
    prometheus = start_prometheus(scenario)
    try:
        cluster = cluster_from_scenario(scenario, anchor=prometheus.anchor)
        with ThreadedKubeApiServer(cluster, token="demo-token") as kube, tempfile.TemporaryDirectory() as workdir:
            kubeconfig = write_kubeconfig(Path(workdir) / "kubeconfig", kube.url, kube.token, context="demo")
            settings = Settings(prometheus_url=prometheus.url, kubeconfig=str(kubeconfig))
            partial = args.out.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            times = stepped_times(prometheus.anchor, args.minutes, args.step)
            asyncio.run(record_stepped(settings, partial, times, DEMO_PROMETHEUS))
            partial.replace(args.out)
    finally:
        prometheus.stop()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
