"""The scale bench still runs end to end (`python3 bench/run.py --smoke`, the smallest size) and prints every
figure the issue asks for. Figures are not asserted against targets: no timing assertions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_fixture import binaries_present

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "sync 1,500 pods: wall, vs kubectl -o json",
    "sync 1,500 pods: wall, vs client model path",
    "sync 1,500 pods: client CPU, vs model path",
    "sync 1,500 pods: peak RSS, vs kubectl",
    "sync 1,500 pods: peak RSS, vs model path",
    "RSS with 1,500 pods held, vs model path",
    "API cost of the initial 1,500-pod sync (paged list), vs kubectl get pods -A",
    "sync 1,500 pods: wall, vs the raw floor",
    "report --no-prometheus, 1,500 pods, kube ok: wall, vs the raw floor",
    "report --no-prometheus, 1,500 pods: peak RSS, vs the raw floor",
    "dashboard holding 1,500 pods: RSS, vs the raw floor",
    "sync 1,500 pods by streaming list (WatchList): wall / peak RSS",
    "API cost of the initial 1,500-pod sync (streaming list), vs kubectl get pods -A",
    "keypress to repaint during sync",
    "PromQL queries per refresh at 50 nodes",
    "bytes received per refresh at 50 nodes",
    "time to data per refresh, vs raw POSTs of the same queries",
    "first refresh (metric-name probe included)",
    "API cost per minute of steady state (50 pod events/s), vs kubectl get pods -A -w",
    "steady 50 events/s, 2 s refresh: CPU of one core",
    "steady 50 events/s: RSS with",
    "startup: first frame",
    "startup: first data",
    "k8stop --version",
    "slowest imports before the first frame",
    "terminal output at 80x24, idle",
    "terminal output at 200x60, idle",
    "terminal output at 80x24, 50 pod events/s",
    "terminal output at 200x60, 50 pod events/s",
)


@pytest.mark.skipif(
    not (binaries_present() and shutil.which("kubectl") and shutil.which("tmux")),
    reason="the bench needs prometheus, promtool, kubectl and tmux",
)
@pytest.mark.servers
def test_small_bench_prints_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {
        line.split(" | ")[0].lstrip("| "): line.split(" | ")
        for line in done.stdout.splitlines()
        if line.startswith("| ")
    }
    for figure in FIGURES:
        matches = [cells for name, cells in rows.items() if name.startswith(figure)]
        assert matches, f"{figure!r} missing from:\n{done.stdout}"
        measured = matches[0][2].strip()  # the k8stop column
        assert measured and measured != "none", f"{figure!r} has no k8stop figure: {matches[0]}"
