"""k8stop at scale, against its baselines: python3 bench/run.py [--small] [--results FILE].

Starts the local fixtures (the kube-API test server with a generated cluster, a backfilled
Prometheus), runs every measurement in its own process and prints one table, ratios first,
with the issue's targets marked PASS/MISS. Full size: 5,000 nodes, 150,000 pods, a minute of
steady state (many minutes in all: the kubectl and model baselines are slow). --small: 500
nodes, 15,000 pods, 10 s, for CI. A full run also writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

from fixtures import KubeApiProcess, cost, traffic  # noqa: E402
from prometheus_fixture import start_prometheus  # noqa: E402
from scenario import Scenario  # noqa: E402

NOTES = "## Misses, and why"
README = BENCH.parent / "README.md"
README_SECTION = "## Performance and scale"
CHURN = 50.0  # pod watch events per second in steady state
KEY_PRESSES = 15
TERMINAL_SIZES = ((80, 24), (200, 60))
TERMINAL_CLUSTER = (100, 3000)  # nodes, pods of the churning cluster the terminal is measured on


@dataclass(frozen=True)
class Size:
    nodes: int
    pods: int
    steady_seconds: float
    terminal_seconds: float  # idle; half that under churn. A minute sees the heatmap's columns move once
    terminal_warmup: float = 20.0  # start-up and the first sync, not counted


FULL = Size(5000, 150_000, 60.0, 60.0)
SMALL = Size(500, 15_000, 10.0, 10.0)
# The test suite's check that every figure is still produced (tests/test_bench_smoke.py)
SMOKE = Size(50, 1_500, 3.0, 4.0, terminal_warmup=4.0)


@dataclass(frozen=True)
class Row:
    figure: str
    k8stop: str
    baseline: str
    ratio: str
    target: str
    verdict: str  # PASS / MISS by how much / "" when the figure has no target


def measure(script: str, *args: object) -> dict[str, Any]:
    """Run one bench script in a fresh process; its last stdout line is its JSON result."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", str(BENCH / script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=BENCH.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(map(str, args))} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


Cost = tuple[int, int]  # requests, response bytes


def fastest(runs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The run with the least wall time: noise on a shared machine only ever adds time."""
    return min(runs, key=lambda run: float(run["wall_s"]))


def measure_cost(kubeconfig: str, client: str, script: str, *args: object) -> tuple[dict[str, Any], Cost, Cost]:
    """measure(), plus what `client` asked of the kube-API test server meanwhile: its pods
    requests, and all its requests."""
    before = traffic(kubeconfig)
    result = measure(script, *args)
    after = traffic(kubeconfig)
    return result, cost(before, after, client, resource="pods"), cost(before, after, client)


def cost_row(figure: str, ours: Cost, theirs: Cost, *target: str) -> Row:
    def api(requests: int, sent: int) -> str:
        return f"{requests:,} req / {sent / 2**20:,.1f} MiB"

    goal, verdict = target or ("", "")
    return Row(figure, api(*ours), api(*theirs), f"{theirs[1] / max(ours[1], 1):.2f}x fewer bytes", goal, verdict)


def at_most(value: float, limit: float, unit: str, digits: int = 0) -> str:
    if value <= limit:
        return "PASS"
    return f"MISS by {value - limit:.{digits}f}{unit} ({value / limit:.1f}x the target)"


def at_least(value: float, floor: float, unit: str = "x") -> str:
    return "PASS" if value >= floor else f"MISS by {floor - value:.1f}{unit}"


def mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def secs(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def ms(value: float) -> str:
    return f"{value:.0f} ms"


def compared(figure: str, fmt: Callable[[float], str], ours: float, base: float, ratio: str, *target: str) -> Row:
    """A figure beside its baseline; target is (target, verdict) or nothing when it has none."""
    goal, verdict = target or ("", "")
    return Row(figure, fmt(ours), fmt(base), ratio, goal, verdict)


def alone(figure: str, value: str, *target: str) -> Row:
    """A figure with no baseline to compare against."""
    goal, verdict = target or ("", "")
    return Row(figure, value, "-", "-", goal, verdict)


def initial_sync(size: Size, kubeconfig: str) -> tuple[list[Row], Cost]:
    """Rows for the paged initial sync, and what kubectl asked for the same pods."""
    # The raw floor first: it also warms the server, so the first client measured is not the
    # one that pays for it. k8stop and the floor are then each the faster of two runs.
    raw = fastest(measure("kube_sync.py", "raw", kubeconfig) for _ in range(2))
    ours, our_pods, _ = min(
        (measure_cost(kubeconfig, "k8stop", "kube_sync.py", "k8stop", kubeconfig) for _ in range(2)),
        key=lambda run: float(run[0]["wall_s"]),
    )
    kubectl, _, kubectl_all = measure_cost(kubeconfig, "kubectl", "kube_sync.py", "kubectl", kubeconfig)
    model = measure("kube_sync.py", "model", kubeconfig)
    pods = f"{size.pods:,}"
    vs_kubectl = kubectl["wall_s"] / ours["wall_s"]
    vs_model = model["wall_s"] / ours["wall_s"]

    def less(key: str, fmt: Callable[[float], str], figure: str, base: dict[str, Any]) -> Row:
        return compared(figure, fmt, ours[key], base[key], f"{base[key] / ours[key]:.1f}x less")

    rows = [
        compared(
            f"sync {pods} pods: wall, vs kubectl -o json",
            secs,
            ours["wall_s"],
            kubectl["wall_s"],
            f"{vs_kubectl:.1f}x faster",
            "no slower than kubectl",
            at_least(vs_kubectl, 1.0),
        ),
        compared(
            f"sync {pods} pods: wall, vs client model path",
            secs,
            ours["wall_s"],
            model["wall_s"],
            f"{vs_model:.1f}x faster",
            ">= 10x faster",
            at_least(vs_model, 10.0),
        ),
        less("cpu_s", secs, f"sync {pods} pods: client CPU, vs model path", model),
        less("peak_rss_mib", mib, f"sync {pods} pods: peak RSS, vs kubectl", kubectl),
        less("peak_rss_mib", mib, f"sync {pods} pods: peak RSS, vs model path", model),
        compared(
            f"RSS with {pods} pods held, vs model path",
            mib,
            ours["held_rss_mib"],
            model["held_rss_mib"],
            f"{model['held_rss_mib'] / ours['held_rss_mib']:.1f}x less",
            "<= 400 MB",
            at_most(ours["held_rss_mib"] * 2**20 / 1e6, 400.0, " MB"),
        ),
    ]
    if ours["pods"] != size.pods or ours["list_path"] != "paged list":
        raise RuntimeError(f"k8stop synced {ours['pods']} pods by {ours['list_path']!r}, the server holds {size.pods}")
    # kubectl's figure is all it asked (API discovery too); k8stop's is its pods only
    # (its sync lists nodes and Warning events as well)
    rows.append(
        cost_row(f"API cost of the initial {pods}-pod sync (paged list), vs kubectl get pods -A", our_pods, kubectl_all)
    )
    return rows + memory(size, kubeconfig, ours, raw), kubectl_all


def streaming_sync(size: Size, kubeconfig: str, kubectl: Cost) -> list[Row]:
    """The same sync against a server that serves streaming lists (KEP-3157 WatchList)."""
    ours, our_pods, _ = measure_cost(kubeconfig, "k8stop", "kube_sync.py", "k8stop", kubeconfig)
    if ours["pods"] != size.pods or ours["list_path"] != "streaming list (WatchList)":
        raise RuntimeError(f"k8stop synced {ours['pods']} pods by {ours['list_path']!r}, expected a streaming list")
    pods = f"{size.pods:,}"
    return [
        alone(
            f"sync {pods} pods by streaming list (WatchList): wall / peak RSS",
            f"{secs(ours['wall_s'])} / {mib(ours['peak_rss_mib'])}",
        ),
        cost_row(
            f"API cost of the initial {pods}-pod sync (streaming list), vs kubectl get pods -A", our_pods, kubectl
        ),
    ]


def memory(size: Size, kubeconfig: str, ours: dict[str, Any], raw: dict[str, Any]) -> list[Row]:
    """Peak RSS of the headless report and RSS of the dashboard holding every pod, beside the
    floor `raw`: the same paged fetch parsed with orjson into a slim tuple per pod."""
    report = measure("kube_sync.py", "report", kubeconfig)
    tui = measure("app_bench.py", "held", kubeconfig)
    pods = f"{size.pods:,}"

    def floor(figure: str, fmt: Callable[[float], str], value: float, base: float, limit: str, verdict: str) -> Row:
        return compared(f"{figure}, vs the raw floor", fmt, value, base, f"{value / base:.2f}x", limit, verdict)

    return [
        floor(
            f"sync {pods} pods: wall",
            secs,
            ours["wall_s"],
            raw["wall_s"],
            "<= 1.6x",
            at_most(ours["wall_s"] / raw["wall_s"], 1.6, "x", 2),
        ),
        floor(
            f"report --no-prometheus, {pods} pods, kube ok: wall",
            secs,
            report["wall_s"],
            raw["wall_s"],
            "<= 1.6x",
            at_most(report["wall_s"] / raw["wall_s"], 1.6, "x", 2)
            if report["kube_status"] == "ok"
            else f"MISS (kube source {report['kube_status']})",
        ),
        floor(
            f"report --no-prometheus, {pods} pods: peak RSS",
            mib,
            report["peak_rss_mib"],
            raw["peak_rss_mib"],
            "<= 160 MiB",
            at_most(report["peak_rss_mib"], 160.0, " MiB"),
        ),
        floor(
            f"dashboard holding {pods} pods: RSS",
            mib,
            tui["rss_mib"],
            raw["held_rss_mib"],
            "<= 200 MiB",
            at_most(tui["rss_mib"], 200.0, " MiB"),
        ),
    ]


def keypress(kubeconfig: str) -> list[Row]:
    keys = measure("app_bench.py", "keys", kubeconfig, KEY_PRESSES)
    if not keys["presses"]:
        raise RuntimeError("the sync ended before any key was pressed")
    return [
        alone(
            f"keypress to repaint during sync ({keys['presses']} keys): median / max",
            f"{ms(keys['median_ms'])} / {ms(keys['max_ms'])}",
            "< 100 ms",
            at_most(keys["max_ms"], 100.0, " ms"),
        )
    ]


@contextlib.contextmanager
def kubectl_watching(kubeconfig: str) -> Iterator[Callable[[], Cost]]:
    """`kubectl get pods -A -w` running beside k8stop on the same event stream; yields a
    function giving its requests and bytes per minute since its watch began."""
    with open(os.devnull, "wb") as null:
        child = subprocess.Popen(
            ["kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-A", "-w", "--watch-only", "-o", "name"],
            stdout=null,
            stderr=null,
        )
    try:
        deadline = time.monotonic() + 600
        while not cost({}, traffic(kubeconfig), "kubectl", ("watch",))[0]:
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("kubectl get pods -w did not start watching")
            time.sleep(1.0)
        before, started = traffic(kubeconfig), time.monotonic()

        def per_minute() -> Cost:
            requests, sent = cost(before, traffic(kubeconfig), "kubectl")
            scale = 60.0 / (time.monotonic() - started)
            return round(requests * scale), round(sent * scale)

        yield per_minute
    finally:
        child.terminate()
        child.wait()


def steady(size: Size, kubeconfig: str, prometheus_url: str) -> list[Row]:
    with kubectl_watching(kubeconfig) as kubectl:
        result = measure("app_bench.py", "steady", kubeconfig, prometheus_url, size.steady_seconds)
        theirs = kubectl()
    share = result["cpu_share"] * 100
    per_minute = 60.0 / result["wall_s"]
    ours = (round(result["api_requests"] * per_minute), round(result["api_bytes"] * per_minute))
    return [
        cost_row(
            f"API cost per minute of steady state ({CHURN:g} pod events/s), vs kubectl get pods -A -w", ours, theirs
        ),
        alone(
            f"steady {CHURN:g} events/s, 2 s refresh: CPU of one core ({result['wall_s']:.0f} s)",
            f"{share:.1f} %",
            "<= 5 %",
            at_most(share, 5.0, " points", 1),
        ),
        alone(f"steady {CHURN:g} events/s: RSS with {result['pods']:,} pods", mib(result["rss_mib"])),
    ]


def prometheus_refresh(size: Size) -> list[Row]:
    result = measure("prom_refresh.py", size.nodes, size.pods)
    overhead = (result["k8stop_s"] / result["raw_s"] - 1) * 100
    kib = result["bytes"] / 1024
    return [
        alone(
            f"PromQL queries per refresh at {size.nodes:,} nodes",
            str(result["queries"]),
            "<= 10",
            at_most(result["queries"], 10, " queries"),
        ),
        Row(
            f"bytes received per refresh at {size.nodes:,} nodes",
            f"{kib:.1f} KiB",
            f"{result['raw_bytes'] / 1024:.1f} KiB raw",
            "1.0x",
            "<= 250 KB",
            at_most(result["bytes"] / 1000, 250.0, " KB"),
        ),
        compared(
            "time to data per refresh, vs raw POSTs of the same queries",
            ms,
            result["k8stop_s"] * 1000,
            result["raw_s"] * 1000,
            f"{overhead:+.0f} % overhead",
            "< 20 %",
            at_most(overhead, 20.0, " points"),
        ),
        alone("first refresh (metric-name probe included)", ms(result["first_s"] * 1000)),
    ]


def startup(kubeconfig: str, prometheus_url: str) -> list[Row]:
    result = measure("startup.py", kubeconfig, prometheus_url)
    imports = ", ".join(f"{name} {ms_:.0f} ms" for name, ms_ in result["imports_ms"])

    def first(what: str, limit: float) -> Row:
        took = result[f"first_{what}_s"]
        verdict = at_most(took, limit, " s", 2) if took else f"MISS (no {what})"
        return alone(f"startup: first {what}", secs(took) if took else "none", f"< {limit:g} s", verdict)

    return [
        first("frame", 0.5),
        first("data", 1.5),
        alone("k8stop --version", secs(result["version_s"])),
        alone("slowest imports before the first frame", imports),
    ]


def terminal(kubeconfig: str, prometheus_url: str, size: Size, seconds: float, when: str) -> list[Row]:
    rows = []
    for columns, lines in TERMINAL_SIZES:
        result = measure("terminal_bytes.py", kubeconfig, prometheus_url, columns, lines, seconds, size.terminal_warmup)
        rate = result["bytes_per_s"]
        target = ("< 1 KiB/s", at_most(rate / 1024, 1.0, " KiB/s", 2)) if when == "idle" else ()
        rows.append(alone(f"terminal output at {columns}x{lines}, {when}", f"{rate:,.0f} B/s", *target))
    return rows


def guarded(what: str, group: Callable[[], list[Row]]) -> list[Row]:
    """One group's rows, or one row saying why it failed: a fixture overwhelmed on a loaded
    machine must not lose the rest of a long run."""
    try:
        return group()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return [alone(f"{what}: not measured", last[:200], "-", "MISS (failed)")]


class Rows(list[Row]):
    """The rows so far; each group is printed as it is measured, so a run that fails late
    (or is stopped) still shows what it measured."""

    def __iadd__(self, more: Iterable[Row]) -> Rows:  # type: ignore[override,misc]
        more = list(more)
        for row in more:
            print(f"  {row.figure}: {row.k8stop} (baseline {row.baseline}) {row.verdict}", flush=True)
        self.extend(more)
        return self


def table(rows: list[Row]) -> str:
    header = ("figure", "ratio", "k8stop", "baseline", "target", "verdict")
    cells = [header] + [(r.figure, r.ratio, r.k8stop, r.baseline, r.target, r.verdict) for r in rows]
    lines = ["| " + " | ".join(c) + " |" for c in cells]
    lines.insert(1, "|" + "---|" * len(header))
    return "\n".join(lines)


def update_readme(text: str, stamp: str) -> None:
    """Put a full run's table in place of the one in the README's performance section, and its date."""
    readme = README.read_text(encoding="utf-8")
    start = readme.index(README_SECTION)
    lines = readme[start:].split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("| "))
    last = next(i for i in range(first, len(lines)) if not lines[i].startswith("|"))
    section = "\n".join(lines[:first] + text.split("\n") + lines[last:])
    section = re.sub(
        r"(`python3 bench/run.py` \(.*?\) on )\d{4}-\d\d-\d\d", rf"\g<1>{stamp[:10]}", section, count=1, flags=re.S
    )
    README.write_text(readme[:start] + section, encoding="utf-8")


def machine() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            platform.processor(),
        )
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.splitlines()[1].split()[1]
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 bench/run.py", description=__doc__)
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"{SMALL.nodes} nodes / {SMALL.pods} pods / {SMALL.steady_seconds:g} s steady state",
    )
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE.nodes} nodes / {SMOKE.pods} pods: every figure, quickly (tests)"
    )
    parser.add_argument("--results", help="write the markdown table here (full runs: bench/RESULTS.md)")
    args = parser.parse_args()
    size = SMOKE if args.smoke else SMALL if args.small else FULL
    results = args.results or (None if args.small or args.smoke else str(BENCH / "RESULTS.md"))
    rows = Rows()
    with tempfile.TemporaryDirectory(prefix="k8stop-bench-") as tmp:
        work = Path(tmp)
        print(f"# k8stop bench: {size.nodes:,} nodes, {size.pods:,} pods — {machine()}", flush=True)
        with KubeApiProcess(work, size.nodes, size.pods) as big:
            synced, kubectl = initial_sync(size, big.kubeconfig)
            rows += synced
            rows += guarded("keypress", lambda: keypress(big.kubeconfig))
        with KubeApiProcess(work, size.nodes, size.pods, watch_list="on") as streaming:
            rows += guarded("streaming list", lambda: streaming_sync(size, streaming.kubeconfig, kubectl))
        rows += guarded("Prometheus refresh", lambda: prometheus_refresh(size))
        prometheus = start_prometheus(Scenario())
        try:
            with KubeApiProcess(work, size.nodes, size.pods, churn=CHURN) as churning:
                rows += guarded("steady state", lambda: steady(size, churning.kubeconfig, prometheus.url))
            with KubeApiProcess(work) as small:
                rows += guarded("startup", lambda: startup(small.kubeconfig, prometheus.url))
                rows += guarded(
                    "terminal output, idle",
                    lambda: terminal(small.kubeconfig, prometheus.url, size, size.terminal_seconds, "idle"),
                )
            with KubeApiProcess(work, *TERMINAL_CLUSTER, churn=CHURN) as churning:
                churn = f"{CHURN:g} pod events/s"
                rows += guarded(
                    "terminal output, churn",
                    lambda: terminal(churning.kubeconfig, prometheus.url, size, size.terminal_seconds / 2, churn),
                )
        finally:
            prometheus.stop()
    text = table(rows)
    print(text)
    if results:
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        # The written analysis below the table (misses and why, before/after) is kept.
        previous = Path(results).read_text(encoding="utf-8") if Path(results).exists() else ""
        notes = previous[previous.index(NOTES) :] if NOTES in previous else ""
        if size is FULL:
            update_readme(text, stamp)
        Path(results).write_text(
            f"# k8stop bench results\n\n`python3 bench/run.py{' --small' if args.small else ' --smoke' if args.smoke else ''}` on {stamp}: "
            f"{size.nodes:,} nodes, {size.pods:,} pods; {machine()}.\n\n{text}\n" + (f"\n{notes}" if notes else ""),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
