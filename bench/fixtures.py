"""Local fixtures the bench runs k8stop against: the kube-API test server and Prometheus."""

from __future__ import annotations

import collections
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0


def rss_mib() -> float:
    """This process's resident memory now, in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


Traffic = dict[tuple[str, str, str], tuple[int, int]]  # (client, verb, resource) -> (requests, bytes)


def server_of(kubeconfig: str) -> str:
    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
    return str(config["clusters"][0]["cluster"]["server"])


def traffic(kubeconfig: str) -> Traffic:
    """What each client has asked of the kube-API test server so far (its /_test/traffic)."""
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    with urllib.request.urlopen(f"{server_of(kubeconfig)}/_test/traffic", context=insecure, timeout=300) as answer:
        rows = json.load(answer)
    return {(client, verb, resource): (requests, sent) for client, verb, resource, requests, sent in rows}


def cost(
    before: Traffic, after: Traffic, client: str, verbs: tuple[str, ...] = (), resource: str = ""
) -> tuple[int, int]:
    """Requests and response bytes `client` asked for between two traffic readings, optionally
    only of some verbs or one resource."""
    requests = sent = 0
    for (who, verb, what), (n, size) in after.items():
        if who == client and (not verbs or verb in verbs) and (not resource or what == resource):
            was = before.get((who, verb, what), (0, 0))
            requests, sent = requests + n - was[0], sent + size - was[1]
    return requests, sent


class KubeApiProcess:
    """`python -m tests.kubeapi` in its own process, so its CPU is not k8stop's."""

    def __init__(
        self,
        workdir: Path,
        nodes: int = 0,
        pods: int = 0,
        churn: float = 0.0,
        prometheus_url: str | None = None,
        watch_list: str = "reject",
    ) -> None:
        self.kubeconfig = str(workdir / f"kubeconfig-{nodes}-{pods}-{churn:g}-{watch_list}.yaml")
        args = [
            sys.executable,
            "-m",
            "tests.kubeapi",
            "--nodes",
            str(nodes),
            "--pods",
            str(pods),
            "--churn",
            str(churn),
            "--kubeconfig",
            self.kubeconfig,
            "--watch-list",
            watch_list,
        ]
        if prometheus_url:
            args += ["--prometheus-url", prometheus_url]
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "serving URL ..." once the kubeconfig is written
        if not line.startswith("serving "):
            self.stop()
            raise RuntimeError(f"kube-API test server did not start: {line.strip()}")
        self.url = line.split()[1]
        # The server logs every client that hangs up mid-answer (the baselines are cut short on
        # purpose); a pipe nobody reads fills up and the server blocks on its next log line.
        self.log: collections.deque[str] = collections.deque(maxlen=200)
        threading.Thread(target=self.log.extend, args=(self.process.stdout,), daemon=True).start()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> KubeApiProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def k8stop_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env.pop("K8STOP_PROMETHEUS_URL", None)
    return env


def wait_for(predicate: object, timeout: float, step: float = 0.01) -> float | None:
    """Seconds until `predicate()` held (polled every `step`), None on timeout."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if predicate():  # type: ignore[operator]
            return time.perf_counter() - started
        time.sleep(step)
    return None
