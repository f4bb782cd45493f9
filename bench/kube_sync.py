"""One initial pod sync, measured in its own process: python3 bench/kube_sync.py MODE KUBECONFIG.

MODE is `k8stop` (the kube feed), `model` (the kubernetes client's list_pod_for_all_namespaces,
paged like k8stop so the server does the same work), `raw` (the floor: the same paged GETs with
aiohttp, each page parsed with orjson into a slim tuple per pod and nothing else), `kubectl`
(`kubectl get pods -A -o json` to /dev/null, run as a child) or `report` (`k8stop report
--no-prometheus --format json`, run as a child: the whole headless report). Prints one JSON
line: wall seconds, pods, peak RSS and, for the in-process paths, RSS while the pods are held.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from fixtures import rss_mib

PAGE = 500


def peak_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


async def k8stop_sync(kubeconfig: str) -> tuple[int, object, str]:
    from k8stop.queries.kube.connection import connect
    from k8stop.queries.kube.feed import KubeFeed

    connection = await connect(kubeconfig)
    feed = KubeFeed(connection)
    feed.start()
    await feed.wait_settled()
    summary = feed.summary()
    await feed.stop()
    await connection.close()
    return summary.pod_count, feed, summary.list_path


def model_sync(kubeconfig: str) -> tuple[int, object]:
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    pods: list[object] = []
    token = None
    while True:
        page = api.list_pod_for_all_namespaces(limit=PAGE, _continue=token)
        pods.extend(page.items)
        token = page.metadata._continue
        if not token:
            return len(pods), pods


def server_and_token(kubeconfig: str) -> tuple[str, str]:
    import yaml

    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
    return config["clusters"][0]["cluster"]["server"], config["users"][0]["user"]["token"]


async def raw_sync(server: str, token: str) -> tuple[int, object]:
    """What any client must do at least: fetch the pages, parse them, keep a few fields a pod."""
    import aiohttp
    import orjson

    held: list[tuple[object, ...]] = []
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=False)) as session:
        params: dict[str, str | int] = {"limit": PAGE, "resourceVersion": "0"}
        while True:
            async with session.get(f"{server}/api/v1/pods", params=params) as response:
                page = orjson.loads(await response.read())
            for pod in page["items"]:
                meta, spec, status = pod["metadata"], pod["spec"], pod["status"]
                held.append(
                    (
                        meta["namespace"],
                        meta["name"],
                        spec.get("nodeName"),
                        status.get("phase"),
                        tuple(c.get("restartCount", 0) for c in status.get("containerStatuses") or ()),
                    )
                )
            token_ = page["metadata"].get("continue")
            if not token_:
                return len(held), held
            params = {"limit": PAGE, "continue": token_}


def main() -> None:
    mode, kubeconfig = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    held: object = None
    path = ""  # how k8stop's feed listed the pods: streaming (WatchList) or paged
    kube_status = ""  # the report's kube source: ok once every pod arrived
    if mode in ("kubectl", "report"):
        command = (
            ["kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-A", "-o", "json"]
            if mode == "kubectl"
            else [sys.executable, "-m", "k8stop.tui.cli", "report", "--no-prometheus", "--format", "json"]
            + ["--kubeconfig", kubeconfig]
        )
        if mode == "kubectl":
            with open("/dev/null", "wb") as null:
                subprocess.run(command, stdout=null, check=True)
        else:  # the report's own verdict on the kube source: ok once every pod has arrived
            done = subprocess.run(command, stdout=subprocess.PIPE, check=False)
            kube_status = json.loads(done.stdout)["sources"]["kube"]["status"]
        wall, count, peak, held_rss = time.perf_counter() - started, -1, peak_mib(resource.RUSAGE_CHILDREN), None
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    else:
        if mode == "k8stop":
            count, held, path = asyncio.run(k8stop_sync(kubeconfig))
        elif mode == "raw":
            count, held = asyncio.run(raw_sync(*server_and_token(kubeconfig)))
        else:
            count, held = model_sync(kubeconfig)
        wall = time.perf_counter() - started
        gc.collect()
        peak, held_rss = peak_mib(), rss_mib()
        usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "mode": mode,
                "wall_s": wall,
                "pods": count,
                "peak_rss_mib": peak,
                "held_rss_mib": held_rss,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "list_path": path,
                "kube_status": kube_status,
            }
        )
    )
    del held


if __name__ == "__main__":
    main()
