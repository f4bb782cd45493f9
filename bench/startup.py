"""Startup against local fixtures: python3 bench/startup.py KUBECONFIG PROMETHEUS_URL [RUNS].

Runs `k8stop` in a tmux pane and polls capture-pane: the first frame is the dashboard's
API panel title on screen, first data is the node panel's source line ("N nodes ·
node-exporter"), which needs both Prometheus answers and a painted panel. Also times
`k8stop --version` and lists the slowest imports on the first-frame path. Prints one JSON line.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures import k8stop_env, wait_for

FRAME_MARK = "API server p99"
DATA_MARK = re.compile(r"\d+ nodes · node-exporter")
FIRST_FRAME_MODULES = "import k8stop.tui.cli, k8stop.tui.live_command, k8stop.tui.app, k8stop.queries.feeds.live"
TIMEOUT = 30.0


def pane(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def one_start(kubeconfig: str, prometheus_url: str) -> tuple[float | None, float | None]:
    session = f"k8stop-bench-{uuid.uuid4().hex[:8]}"
    command = f"k8stop --kubeconfig {kubeconfig} --prometheus-url {prometheus_url}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", command], check=True, env=k8stop_env()
    )
    try:
        frame = wait_for(lambda: FRAME_MARK in pane(session), TIMEOUT)
        data = wait_for(lambda: DATA_MARK.search(pane(session)) is not None, TIMEOUT)
        # wait_for's clock starts where the previous wait ended: first data counts from the launch
        return frame, None if data is None or frame is None else frame + data
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def version_time(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["k8stop", "--version"], check=True, capture_output=True, env=k8stop_env())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_offenders(top: int = 5) -> list[tuple[str, float]]:
    """Cumulative import time (ms) of the slowest top-level packages on the first-frame path."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", FIRST_FRAME_MODULES], capture_output=True, text=True, check=True
    ).stderr
    total_us: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].strip()
        if "." not in name or name.startswith("k8stop."):  # top-level packages and k8stop's own modules
            total_us[name] = max(total_us.get(name, 0), int(parts[1]))
    ranked = sorted(total_us.items(), key=lambda item: -item[1])
    return [(name, us / 1000) for name, us in ranked[:top]]


def main() -> None:
    kubeconfig, prometheus_url = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    frames, datas = [], []
    for _ in range(runs):
        frame, data = one_start(kubeconfig, prometheus_url)
        if frame is not None:
            frames.append(frame)
        if data is not None:
            datas.append(data)
    print(
        json.dumps(
            {
                "first_frame_s": statistics.median(frames) if frames else None,
                "first_data_s": statistics.median(datas) if datas else None,
                "version_s": version_time(5),
                "imports_ms": import_offenders(),
            }
        )
    )


if __name__ == "__main__":
    main()
