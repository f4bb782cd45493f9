"""Evidence at hand from the pod drill-down: the previous container's last log lines and the
pod's Warning events, read from the kube-API test server at 80x24; a 403 names the permission;
hostile log text is shown as text, never as markup or terminal control."""

from __future__ import annotations

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
from scenario import Scenario
from screen import screen_text, wait_for

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


async def open_app(prometheus_for, tmp_path: Path, server: KubeApiServer) -> K8sTopApp:
    url = await server.start()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, TOKEN)
    settings = Settings(prometheus_url=prometheus_for(scenario()).url, kubeconfig=str(kubeconfig), refresh=1.0)
    return K8sTopApp(settings, LiveSource)


async def _pod_text(app: K8sTopApp, pilot: object, pod: PodKey) -> PodScreen:
    await wait_for(pilot, lambda: Feed.KUBE in app.latest and app.latest[Feed.KUBE].facts is not None, what="kube")
    app.push_screen(PodScreen(pod))
    await wait_for(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen.loaded, what="the pod drill-down")
    screen = app.screen
    assert isinstance(screen, PodScreen)
    return screen


async def test_previous_log_and_warning_events(prometheus_for, tmp_path: Path) -> None:
    s = scenario()
    [pod, *_] = [p for p in s.pods if p.owner_name.startswith("checkout-")]
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    try:
        app = await open_app(prometheus_for, tmp_path, server)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _pod_text(app, pilot, PodKey(pod.namespace, pod.name, "app"))
            text = screen.text_of()
            assert "previous log of container app (last 40 lines, read live, never recorded):" in text
            shown = text.split("never recorded):\n", 1)[1].splitlines()
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
            assert "goroutine 1 [running]" in screen_text(app)
    finally:
        await server.stop()


async def test_forbidden_log_names_the_permission(prometheus_for, tmp_path: Path) -> None:
    s = scenario()
    [pod, *_] = [p for p in s.pods if p.owner_name.startswith("checkout-")]
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    server.inject(Fault(r"/pods/[^/]+/log$", status=403))
    try:
        app = await open_app(prometheus_for, tmp_path, server)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _pod_text(app, pilot, PodKey(pod.namespace, pod.name, ""))
            text = screen.text_of()
            # No container in the key: the one that restarted is read.
            assert "previous log of container app " in text
            assert f"forbidden: RBAC does not allow get pods/log in namespace {pod.namespace}" in text
            # Events still show: only the log was refused.
            assert "BackOff" in text
    finally:
        await server.stop()


async def test_no_previous_run_says_so(prometheus_for, tmp_path: Path) -> None:
    s = scenario()
    [pod, *_] = [p for p in s.pods if p.owner_name.startswith("frontend-")]
    server = KubeApiServer(cluster_from_scenario(s), token=TOKEN)
    try:
        app = await open_app(prometheus_for, tmp_path, server)
        async with app.run_test(size=(80, 24)) as pilot:
            text = (await _pod_text(app, pilot, PodKey(pod.namespace, pod.name, "web"))).text_of()
            assert 'previous terminated container "web" in pod' in text and "not found" in text
    finally:
        await server.stop()
