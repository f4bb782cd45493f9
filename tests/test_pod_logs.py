"""Evidence at hand from the pod drill-down: the previous container's last log lines and the
pod's Warning events, read from the kube-API test server at 80x24; a 403 names the permission;
hostile log text is shown as text, never as markup or terminal control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.registry import Feed
from k8stop.queries.model.keys import PodKey
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.pod_detail import PodScreen
from kubeapi.faults import Fault
from kubeapi.from_scenario import cluster_from_scenario
from kubeapi.kubeconfig import write_kubeconfig
from kubeapi.server import KubeApiServer
from scenario import Pod, Scenario
from screen import screen_text, wait_for, wait_for_facts
from textual.pilot import Pilot

TOKEN = "logs-token"
LOG = tuple(f"2026-11-30T20:00:{i:02d}Z INFO handled order {i}" for i in range(60)) + (
    "panic: runtime error: invalid memory address [b]nil[/b]",
    "\x1b]52;c;aGk=\x07goroutine 1 [running]:",
)


def scenario() -> Scenario:
    crash = Scenario.crashloop("shop", "checkout")
    pods = tuple(
        replace(p, containers=tuple(replace(c, previous_log=LOG) for c in p.containers))
        if p.owner_name.startswith("checkout-")
        else p
        for p in crash.pods
    )
    return replace(crash, name="crashloop-with-logs", pods=pods)


@asynccontextmanager
async def pod_drilldown(
    prometheus_for, tmp_path: Path, owner: str, container: str, *faults: Fault
) -> AsyncIterator[tuple[PodScreen, Pilot, KubeApiServer, Pod]]:
    """The pod drill-down, loaded at 80x24, of the first pod `owner` runs in the scenario, read
    from the kube-API test server (with `faults` injected) and Prometheus."""
    s = scenario()
    [pod, *_] = [p for p in s.pods if p.owner_name.startswith(f"{owner}-")]
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    for fault in faults:
        server.inject(fault)
    try:
        url = await server.start()
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, TOKEN)
        settings = Settings(prometheus_url=prometheus_for(s).url, kubeconfig=str(kubeconfig), refresh=1.0)
        app = K8sTopApp(settings, LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_facts(pilot, Feed.KUBE, what="kube")
            app.push_screen(PodScreen(PodKey(pod.namespace, pod.name, container)))
            await wait_for(
                pilot, lambda: isinstance(app.screen, PodScreen) and app.screen.loaded, what="the pod drill-down"
            )
            screen = app.screen
            assert isinstance(screen, PodScreen)
            yield screen, pilot, server, pod
    finally:
        await server.stop()


async def test_previous_log_and_warning_events(prometheus_for, tmp_path: Path) -> None:
    async with pod_drilldown(prometheus_for, tmp_path, "checkout", "app") as (screen, pilot, server, _):
        text = screen.text_of()
        assert "previous log of container app (last 40 lines, read live, never recorded):" in text
        # The log block, up to the next commands that end every drill-down.
        shown = text.split("never recorded):\n", 1)[1].split("\nnext commands (", 1)[0].splitlines()
        # The last 40 lines of the previous run, in order; markup stays literal, the OSC 52
        # escape is written out, never sent to the terminal.
        assert shown[0] == f"  {LOG[-40]}" and len(shown) == 40
        assert "  panic: runtime error: invalid memory address [b]nil[/b]" in shown
        assert "\x1b" not in text and "\\x1b]52;c;aGk=\\x07goroutine 1 [running]:" in shown[-1]
        # The pod's Warning events from the same server.
        assert "recent Warning events:" in text and "BackOff" in text
        # The request was the read-only log GET with the previous run and the tail.
        [log] = [r for r in server.requests if r.path.endswith("/log")]
        assert log.verb == "get" and log.query["previous"] == "true" and log.query["tailLines"] == "40"
        assert log.query["container"] == "app"
        await pilot.press("end")
        assert "goroutine 1 [running]" in screen_text(pilot.app)


async def test_forbidden_log_names_the_permission(prometheus_for, tmp_path: Path) -> None:
    forbidden = Fault(r"/pods/[^/]+/log$", status=403)
    async with pod_drilldown(prometheus_for, tmp_path, "checkout", "", forbidden) as (screen, _, _, pod):
        text = screen.text_of()
        # No container in the key: the one that restarted is read.
        assert "previous log of container app " in text
        assert f"forbidden: RBAC does not allow get pods/log in namespace {pod.namespace}" in text
        # Events still show: only the log was refused.
        assert "BackOff" in text


async def test_no_previous_run_says_so(prometheus_for, tmp_path: Path) -> None:
    async with pod_drilldown(prometheus_for, tmp_path, "frontend", "web") as (screen, _, _, _):
        text = screen.text_of()
        assert 'previous terminated container "web" in pod' in text and "not found" in text
