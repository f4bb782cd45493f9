"""Recording the live app: `R` starts it, the kube records drill-downs need are in the file."""

from __future__ import annotations

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.recording import read_recording
from k8stop.tui.app import K8sTopApp
from screen import wait_for, wait_for_facts


def recorded_nodes(app: K8sTopApp) -> bool:
    update = app.latest.get("kube_objects")
    return update is not None and update.facts is not None and bool(update.facts.nodes)


@pytest.mark.parametrize("size", [(80, 24)])
async def test_r_records_feeds_and_kube_records(prometheus, kubeconfig_path, tmp_path, monkeypatch, size) -> None:
    monkeypatch.chdir(tmp_path)  # `R` records to a timestamped file in the current directory
    settings = Settings(prometheus_url=prometheus.url, kubeconfig=str(kubeconfig_path), refresh=0.5)
    app = K8sTopApp(settings, LiveSource)
    async with app.run_test(size=size) as pilot:
        source = app.source
        await wait_for_facts(pilot, "kube")
        assert source.pollers["kube_objects"].paused  # not built unless recording
        await pilot.press("R")
        assert app.recording.active and "REC" in app.dashboard.header.flags
        # The first frame can come before the feed has built its records (they are built only
        # while recording): wait for one that holds the nodes
        await wait_for(pilot, lambda: recorded_nodes(app), timeout=10, what="kube records with the nodes")
        await pilot.pause(1.5)  # a few refreshes of every dashboard feed
        await pilot.press("R")
        assert not app.recording.active and source.pollers["kube_objects"].paused
    files = list(tmp_path.glob("*.k8rec"))
    assert len(files) == 1
    recording = read_recording(files[0])
    feeds = {u.feed for u in recording.updates}
    assert {"apiserver", "etcd", "kube", "kube_objects"} <= feeds
    objects = [u.facts for u in recording.updates if u.feed == "kube_objects" and u.facts is not None][-1]
    summary = app.latest["kube"].facts
    assert len(objects.nodes) == summary.node_count
