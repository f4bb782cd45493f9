"""`:pods` at 80x24 over the kube-API test server: every synced pod, failing ones first,
filtered by words and columns, Enter opens the pod drill-down."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.pods_screen import PodsScreen
from k8stop.widgets.pod_table import PodTable
from kubeapi import Cluster
from kubeapi.selectors import Selector
from screen import screen_text, wait_for

GENERATED = (20, 700, 2)  # nodes, pods, seed


def generated() -> Cluster:
    nodes, pods, seed = GENERATED
    return Cluster.generate(nodes=nodes, pods=pods, seed=seed)


def cluster_pods() -> list[dict]:
    return [obj for _, obj in generated().stores["pods"].scan(Selector())]


def waiting(pod: dict) -> str:
    return next(
        (
            s["state"]["waiting"]["reason"]
            for s in pod["status"].get("containerStatuses", [])
            if "waiting" in s["state"]
        ),
        "",
    )


@pytest.mark.parametrize("kube_api", [generated], indirect=True)
async def test_pod_list_filters_and_drills_down(kube_api: object, kubeconfig_path: Path) -> None:
    pods = cluster_pods()
    app = K8sTopApp(Settings(kubeconfig=str(kubeconfig_path), use_prometheus=False), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        source = app.source
        await wait_for(
            pilot,
            lambda: isinstance(source, LiveSource) and source.kube is not None and source.kube.summary().synced,
            what="the pod sync",
        )
        await pilot.press("colon", *"pods", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PodsScreen) and app.screen.pods is not None, what=":pods")
        screen = app.screen
        await wait_for(pilot, lambda: f"{len(pods):,} of {len(pods):,} pods" in screen_text(app), what="the count")
        text = screen_text(app)
        assert "NAMESPACE" in text and "RST" in text and "REASON" in text and "AGE" in text

        # Failing pods first: the first row on screen is one the cluster has in CrashLoopBackOff.
        crashing = {p["metadata"]["name"] for p in pods if waiting(p) == "CrashLoopBackOff"}
        assert crashing
        first_row = text.splitlines()[4]
        top = app.screen.query_one(PodTable).selected
        assert top is not None and top.name in crashing and top.reason == "CrashLoopBackOff"
        assert top.name[:12] in first_row and "CrashLoopBackOff" in first_row, first_row
        obj = next(p for p in pods if p["metadata"]["name"] == top.name)
        restarts = sum(s["restartCount"] for s in obj["status"]["containerStatuses"])
        assert top.restarts == restarts and f" {restarts} " in first_row and obj["spec"]["nodeName"][:10] in first_row
        assert f"{len(crashing):,} failing now" in text

        # A column filter: one node's pods, as many as the cluster schedules there.
        node = next(p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName"))
        on_node = [p for p in pods if p["spec"].get("nodeName") == node]
        await pilot.press("slash", *f"node:{node}")
        await wait_for(pilot, lambda: f"{len(on_node):,} of {len(pods):,} pods" in screen_text(app), what="filtered")
        rows = screen_text(app).splitlines()[4:-1]
        assert all(node[:12] in row for row in rows if row.strip()), rows

        # Words narrow further; Enter leaves the filter for the table, Enter again drills down.
        target = on_node[0]["metadata"]
        await pilot.press(*f" {target['name']}", "enter")
        await wait_for(pilot, lambda: f"1 of {len(pods):,} pods" in screen_text(app), what="one pod")
        assert isinstance(app.focused, PodTable)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, what="drill-down")
        assert app.screen.heading.startswith(f"pod › {target['namespace']}/{target['name']}")
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_pod_list_without_kube_says_why(prometheus) -> None:
    app = K8sTopApp(Settings(prometheus_url=prometheus.url, use_kube=False), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"pods", "enter")
        await wait_for(pilot, lambda: "the pod list needs the kube API" in screen_text(app), what="the reason")
