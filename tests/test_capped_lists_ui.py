"""Capped lists on the dashboard: failing pods first, "N more" for what does not fit, and a
maximised panel fills the screen. Against the kube-API test server (kube-only mode) and a
real Prometheus (kube-state-metrics)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.registry import Feed
from k8stop.queries.model.facts import RestartsFacts
from k8stop.tui.app import K8sTopApp
from kubeapi import write_kubeconfig
from kubeapi.objects import Obj, now_stamp
from kubeapi.scenario import CRASHLOOP_PODS, small_cluster_objects
from scenario import Scenario
from screen import screen_lines, wait_for

MORE = re.compile(r"↓(\d+) more")


def restarted_once_and_running(pod: Obj) -> None:
    """One restart a moment ago, running and ready again: restarted, not failing now."""
    status = pod["status"]["containerStatuses"][0]
    status["restartCount"] += 1
    status["ready"] = True
    status["state"] = {"running": {"startedAt": now_stamp()}}
    status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now_stamp()}}


def crash_looping_since_long(restarts: int) -> Callable[[Obj], None]:
    def change(pod: Obj) -> None:
        status = pod["status"]["containerStatuses"][0]
        status["restartCount"] = restarts
        status["lastState"]["terminated"]["finishedAt"] = "2025-01-01T00:00:00Z"  # outside k8stop's hour

    return change


def restarts_panel_lines(app: K8sTopApp) -> list[str]:
    panel = app.dashboard.panels()["restarts"]
    top = panel.region.y
    return screen_lines(app)[top : top + panel.region.height]


async def test_kube_only_puts_failing_pods_first_and_counts_the_rest(kube_api, tmp_path: Path) -> None:
    cluster = kube_api.cluster
    crashing = CRASHLOOP_PODS[0]
    cluster.update("pods", "shop", crashing, crash_looping_since_long(14))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_api.url, kube_api.token)
    app = K8sTopApp(Settings(use_prometheus=False, kubeconfig=str(kubeconfig), refresh=0.5), LiveSource)
    healthy = [
        (obj["metadata"]["namespace"], obj["metadata"]["name"])
        for resource, obj in small_cluster_objects()
        if resource == "pods" and obj["metadata"]["name"] not in CRASHLOOP_PODS and obj["status"]["phase"] == "Running"
    ][:12]
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: bool(app.latest.get("kube") and app.latest["kube"].facts and app.latest["kube"].facts.synced),
            what="kube synced",
        )
        for namespace, name in healthy:  # restarted once while k8stop watched: 1 restart in the hour each
            cluster.update("pods", namespace, name, restarted_once_and_running)

        def facts() -> RestartsFacts | None:
            update = app.latest.get("restarts")
            return update.facts if update is not None else None

        expected_total = len(healthy) + len(CRASHLOOP_PODS)
        await wait_for(pilot, lambda: (f := facts()) is not None and f.total == expected_total, what="all restarts")
        await pilot.pause(0.3)
        got = facts()
        assert got is not None and got.source == "kube-api"
        # Failing now first, whatever the counts: the 14-restart crash loop has 0 restarts
        # k8stop could see in its hour, the healthy pods 1 each
        assert {row.pod for row in got.top[:3]} == set(CRASHLOOP_PODS)
        assert all(row.waiting_reason == "CrashLoopBackOff" for row in got.top[:3])
        assert all(row.restarts_1h == 1 and not row.failing_now for row in got.top[3:])
        lines = restarts_panel_lines(app)
        rows = [line for line in lines if "/" in line and ("CrashLoopBackOff" in line or " / Error" in line)]
        shown_pods = [next(p for p in CRASHLOOP_PODS + tuple(n for _, n in healthy) if p in row) for row in rows]
        assert any(crashing in row and "CrashLoopBackOff" in row for row in rows), "\n".join(lines)
        assert len(rows) >= 2 and shown_pods == [row.pod for row in got.top[: len(rows)]]
        assert set(shown_pods) <= set(CRASHLOOP_PODS)  # no pod that merely restarted pushes them out
        # What does not fit is counted, exactly
        more = [int(m.group(1)) for line in lines if (m := MORE.search(line))]
        assert more == [expected_total - len(rows)], "\n".join(lines)

        # Maximised (z), the panel fills the screen: every row fits at 80x24, no "more"
        app.dashboard.focus_panel(Feed.RESTARTS)
        await pilot.press("z")
        await pilot.pause(0.3)
        lines = restarts_panel_lines(app)
        text = "\n".join(lines)
        for namespace, name in healthy:
            assert f"{namespace}/{name}" in text or name[-12:] in text, text
        assert crashing in text and not MORE.search(text)


async def test_prometheus_picks_failing_containers_before_busier_restarters(prometheus_for) -> None:
    """kube-state-metrics: a crash loop restarting once an hour outranks pods restarting 20
    times an hour that run fine now, even when the list is capped below their number."""
    base = Scenario.healthy()
    crashing = base.pods[0]
    pods = tuple(
        replace(
            p,
            containers=tuple(
                replace(c, restarts_per_hour=1.0, waiting_reason="CrashLoopBackOff", last_terminated_reason="Error")
                if p is crashing
                else replace(c, restarts_per_hour=20.0, last_terminated_reason="Error")
                for c in p.containers
            ),
        )
        for p in base.pods
    )
    scenario = replace(base, name="failing-first", pods=pods)
    prom = prometheus_for(scenario)
    settings = Settings(prometheus_url=prom.url, use_kube=False, refresh=0.5)
    app = K8sTopApp(settings, LiveSource)
    containers = sum(len(p.containers) for p in pods)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: app.dashboard.panels()["restarts"].facts is not None, what="restarts from Prometheus"
        )
        await pilot.pause(0.3)
        facts = app.dashboard.panels()["restarts"].facts
        assert facts.total == containers
        first = facts.top[0]
        assert (first.namespace, first.pod, first.waiting_reason) == (
            crashing.namespace,
            crashing.name,
            "CrashLoopBackOff",
        )
        assert all(row.restarts_1h > first.restarts_1h for row in facts.top[1:])
        lines = restarts_panel_lines(app)
        rows = [line for line in lines if " / Error" in line]
        assert crashing.name in rows[0]
        more = [int(m.group(1)) for line in lines if (m := MORE.search(line))]
        assert more == [containers - len(rows)], "\n".join(lines)


def test_capped_drill_down_lists_say_how_many_more() -> None:
    """The request path screen's APF flows, stored objects and DNS lists are capped: each says
    how many it leaves out, exactly, and nothing when none is left out."""
    from k8stop.queries.model.request_path import DnsServerStat, DnsUpstream, FlowStat, ObjectCount, RequestPathFacts
    from k8stop.queries.model.values import Value
    from k8stop.tui.screens.detail_screen import TextBlock
    from k8stop.tui.screens.request_path import FLOWS_SHOWN, OBJECTS_SHOWN, dns_block, flow_block, objects_block

    flows = tuple(FlowStat(f"level-{i}", f"schema-{i}", 10.0, 0.0, Value.of(0.01), 0.0) for i in range(FLOWS_SHOWN + 5))
    objects = tuple(ObjectCount(f"resource-{i}", 100.0 - i) for i in range(OBJECTS_SHOWN + 3))
    dns = tuple(
        DnsServerStat(f"dns://:{i}", ".", Value.of(0.01), 5.0, Value.of(0.0), Value.of(0.0), Value.of(0.9))
        for i in range(6)
    )
    upstreams = tuple(DnsUpstream(f"10.0.0.{i}:53", Value.of(0.02)) for i in range(3))
    facts = RequestPathFacts((), (), "", flows=flows, objects=objects, dns=dns, dns_upstreams=upstreams)

    def text(block: TextBlock) -> str:
        return block.plain

    assert "and 5 more" in text(flow_block(facts, 0.01, 1.0))
    assert "and 3 more" in text(objects_block(facts))
    shown = text(dns_block(facts))
    assert "and 2 more DNS servers" in shown and "upstreams" not in shown.split("and 2 more DNS servers")[1]
    few = RequestPathFacts((), (), "", flows=flows[:FLOWS_SHOWN], objects=objects[:2])
    assert "more" not in text(flow_block(few, 0.01, 1.0)) and "more" not in text(objects_block(few))
