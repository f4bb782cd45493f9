"""The `:pods` list under load: key to repaint at 150,000 pods beside a 1,500-pod baseline.

    python3 bench/pod_list.py [--pods 150000] [--baseline 1500] [--presses 20]

Pods are the kube-API test server's generated cluster (tests/kubeapi/generated.py), parsed by
k8stop's own parser into the records the kube feed holds, and served to the pod list through
the replay's record store (RecordedKube). Headless (Pilot, 80x24), each key is posted as the
terminal driver would and timed until Textual hands the updated screen over: a filter
keystroke (typing "crash", then deleting it), and page down. Target: a median under 100 ms
(the max is printed too: on a shared machine it is mostly other processes). Prints one JSON
line per size, then a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from k8stop.queries.kube.parse import node_record, pod_record
from k8stop.queries.kube.pod_list import PodList
from k8stop.queries.kube.recorded_objects import RecordedKube
from k8stop.queries.model.facts import KubeObjects, PodRecord
from k8stop.tui.screens.pods_screen import PodsScreen
from kubeapi import Cluster
from kubeapi.selectors import Selector
from textual import events
from textual.app import App

TARGET_MS = 100.0
SIZE = (80, 24)
FILTER = "crash"


class PodsOnly:
    """The one read the pod list makes of the drill-down data."""

    def __init__(self, kube: RecordedKube) -> None:
        self._kube = kube

    def pods(self) -> tuple[PodRecord, ...]:
        return self._kube.all_pods()


class BenchHost(App[None]):
    """Hosts the pod list alone: what the screen asks of k8stop's app (drill, now)."""

    def __init__(self, kube: RecordedKube) -> None:
        super().__init__()
        self._drill = PodsOnly(kube)

    def drill(self) -> PodsOnly:
        return self._drill

    def now(self) -> float:
        return time.time()

    def on_mount(self) -> None:
        self.push_screen(PodsScreen())


def cluster_records(pods: int) -> RecordedKube:
    cluster = Cluster.generate(nodes=max(1, pods // 30), pods=pods, seed=7)
    nodes = tuple(node_record(obj) for _, obj in cluster.stores["nodes"].scan(Selector()))
    records = tuple(pod_record(obj) for _, obj in cluster.stores["pods"].scan(Selector()))
    return RecordedKube(KubeObjects(nodes, records, ()))


async def measure(kube: RecordedKube, presses: int) -> dict[str, Any]:
    app = BenchHost(kube)
    painted = asyncio.Event()
    display = app._display

    def spy(screen: Any, renderable: Any) -> None:
        display(screen, renderable)  # headless: the hand-over of the update is the repaint
        if renderable is not None:
            painted.set()

    app._display = spy  # type: ignore[method-assign]
    timings: dict[str, list[float]] = {"filter": [], "page_down": []}
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        while not (isinstance(screen, PodsScreen) and screen.pods is not None):
            await pilot.pause(0.05)
            screen = app.screen
        total = len(screen.pods.rows)

        async def timed(key: str, what: str) -> None:
            await pilot.pause()
            painted.clear()
            begun = time.perf_counter()
            app.post_message(events.Key(key, key if len(key) == 1 else None))
            await painted.wait()
            timings[what].append(time.perf_counter() - begun)

        for _ in range(max(1, presses // (2 * len(FILTER)))):
            await pilot.press("slash")
            for char in FILTER:
                await timed(char, "filter")
            for _ in FILTER:
                await timed("backspace", "filter")
            await pilot.press("escape")  # back to the table
        for _ in range(presses):
            await timed("pagedown", "page_down")
        matched = len(screen.pods.filter(FILTER))
    started = time.perf_counter()
    PodList(kube.all_pods())  # what opening the list (or r) costs: rows, sort, search keys
    build_ms = (time.perf_counter() - started) * 1000
    return {
        "pods": total,
        "build_ms": round(build_ms, 1),
        "crash_matches": matched,
        **{f"{what}_median_ms": round(statistics.median(t) * 1000, 2) for what, t in timings.items()},
        **{f"{what}_p90_ms": round(statistics.quantiles(t, n=10)[-1] * 1000, 2) for what, t in timings.items()},
        **{f"{what}_max_ms": round(max(t) * 1000, 2) for what, t in timings.items()},
        "presses": {what: len(t) for what, t in timings.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--baseline", type=int, default=1_500)
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args(argv)
    results = []
    for pods in (args.baseline, args.pods):
        kube = cluster_records(pods)
        result = asyncio.run(measure(kube, args.presses))
        print(json.dumps(result), flush=True)
        results.append(result)
    base, big = results
    print(
        f"\n{'key to repaint':<24}{base['pods']:>14,} pods{big['pods']:>14,} pods   target: median < {TARGET_MS:.0f} ms"
    )
    misses = 0
    for what in ("filter", "page_down"):
        verdict = "PASS" if big[f"{what}_median_ms"] < TARGET_MS else "MISS"
        misses += verdict == "MISS"
        figures = [
            f"{r[f'{what}_median_ms']:.0f}/{r[f'{what}_p90_ms']:.0f}/{r[f'{what}_max_ms']:.0f} ms" for r in results
        ]
        print(f"{what + ' (median/p90/max)':<24}{figures[0]:>19}{figures[1]:>19}   {verdict}")
    print(
        f"{'open / r (build)':<24}{base['build_ms']:>16.0f} ms{big['build_ms']:>16.0f} ms   (in a thread, once per open)"
    )
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
