"""The dashboard under load, headless (Textual's Pilot), in its own process.

  python3 bench/app_bench.py keys KUBECONFIG PRESSES
      Keypress to repaint while the initial pod sync runs: tab (focus moves to the next
      panel, whose title bar changes colour), timed from the key reaching the app until a
      screen update showing the new focus; only presses made before the sync ended count.
  python3 bench/app_bench.py steady KUBECONFIG PROMETHEUS_URL SECONDS
      After the initial sync, k8stop's CPU time over SECONDS of wall time at a 2 s refresh
      (server churn supplies the pod events), its RSS at the end, and the requests and bytes
      it asked of the kube API server in that time (the test server counts them).
  python3 bench/app_bench.py held KUBECONFIG
      The dashboard (kube API only) once the initial pod sync is done: RSS with the pods
      held, and the peak RSS of the whole run.
Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import statistics
import sys
import time
from typing import Any

from fixtures import cost, rss_mib, traffic
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.tui.app import K8sTopApp
from textual import events

SIZE = (160, 48)
SYNC_TIMEOUT = 1800.0  # a loaded machine can take many minutes for 150,000 pods


def kube_synced(app: K8sTopApp) -> bool:
    source = app.source
    return isinstance(source, LiveSource) and source.kube is not None and source.kube.summary().synced


async def wait_synced(app: K8sTopApp, pilot: Any) -> None:
    deadline = time.monotonic() + SYNC_TIMEOUT
    while not kube_synced(app):
        if time.monotonic() > deadline:
            raise TimeoutError("the kube feed did not sync")
        await pilot.pause(0.2)


async def keys(kubeconfig: str, presses: int) -> dict[str, Any]:
    app = K8sTopApp(Settings(kubeconfig=kubeconfig, use_prometheus=False), LiveSource)
    latencies: list[float] = []
    painted = asyncio.Event()
    display = app._display

    def spy(screen: Any, renderable: Any) -> None:
        # Headless, Textual computes the update and stops short of writing it: the
        # moment it is handed over is the repaint
        display(screen, renderable)
        if renderable is not None:
            painted.set()

    app._display = spy  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        # Let the sync get going: the first pages are in flight once pods are counted
        while not (isinstance(app.source, LiveSource) and app.source.kube and app.source.kube.summary().pod_count):
            await pilot.pause(0.05)
        while len(latencies) < presses and not kube_synced(app):
            before = app.focused
            # The key arrives as the terminal driver delivers it: a Key message to the app.
            # (Pilot.press waits for the process to go idle, which it is not while syncing.)
            started = time.perf_counter()
            app.post_message(events.Key("tab", None))
            while True:
                painted.clear()
                await painted.wait()
                if app.focused is not before:
                    break
            elapsed = time.perf_counter() - started
            if not kube_synced(app):
                latencies.append(elapsed)
            await asyncio.sleep(0.25)
        pods = app.source.kube.summary().pod_count if isinstance(app.source, LiveSource) and app.source.kube else 0
    return {
        "presses": len(latencies),
        "median_ms": statistics.median(latencies) * 1000 if latencies else None,
        "max_ms": max(latencies) * 1000 if latencies else None,
        "pods_when_done": pods,
    }


async def steady(kubeconfig: str, prometheus_url: str, seconds: float) -> dict[str, Any]:
    settings = Settings(kubeconfig=kubeconfig, prometheus_url=prometheus_url, refresh=2.0)
    app = K8sTopApp(settings, LiveSource)
    async with app.run_test(size=SIZE) as pilot:
        await wait_synced(app, pilot)
        gc.collect()
        await pilot.pause(2.0)  # the first post-sync refresh and heatmap range queries are not steady state
        before = await asyncio.to_thread(traffic, kubeconfig)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        api_requests, api_bytes = cost(before, await asyncio.to_thread(traffic, kubeconfig), "k8stop")
        source = app.source
        assert isinstance(source, LiveSource) and source.kube is not None
        summary = source.kube.summary()
        requests = dict(source.kube.requests)
        rss = rss_mib()
    return {
        "cpu_share": cpu / wall,
        "wall_s": wall,
        "rss_mib": rss,
        "pods": summary.pod_count,
        "kube_requests": requests,
        "api_requests": api_requests,
        "api_bytes": api_bytes,
    }


async def held(kubeconfig: str) -> dict[str, Any]:
    app = K8sTopApp(Settings(kubeconfig=kubeconfig, use_prometheus=False), LiveSource)
    async with app.run_test(size=SIZE) as pilot:
        await wait_synced(app, pilot)
        await pilot.pause(3.0)  # a few refreshes with every pod held
        gc.collect()
        source = app.source
        assert isinstance(source, LiveSource) and source.kube is not None
        pods = source.kube.summary().pod_count
        rss = rss_mib()
    return {"rss_mib": rss, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "pods": pods}


def main() -> None:
    mode = sys.argv[1]
    if mode == "keys":
        result = asyncio.run(keys(sys.argv[2], int(sys.argv[3])))
    elif mode == "held":
        result = asyncio.run(held(sys.argv[2]))
    else:
        result = asyncio.run(steady(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
