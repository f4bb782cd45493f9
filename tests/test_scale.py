"""A big cluster's first pod sync as the dashboard shows it: progress in the restarts panel
while pages arrive, both list paths (paged LIST and streaming WatchList)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.kube.feed import KubeFeed
from k8stop.tui.app import K8sTopApp
from kubeapi import Cluster, Fault, ThreadedKubeApiServer, write_kubeconfig
from screen import screen_text, wait_for

PODS = 3000  # six pages of 500
PAGE_DELAY = 0.4
PROGRESS = re.compile(r"syncing pods: ([\d,]+) / ~([\d,]+)")


def _kube(app: K8sTopApp) -> KubeFeed | None:
    """The app's kube feed, once its sources are open."""
    source = app.source
    return source.kube if isinstance(source, LiveSource) else None


def _synced(app: K8sTopApp) -> bool:
    kube = _kube(app)
    return kube is not None and kube.summary().synced


@pytest.mark.servers
async def test_restarts_panel_shows_the_first_pod_sync_progressing(tmp_path: Path) -> None:
    """Each page's count appears on screen with the server's estimate of the total, which is
    what the sync ends with; the line goes once every pod is held."""
    with ThreadedKubeApiServer(Cluster.generate(nodes=10, pods=PODS), token="test-token") as server:
        server.inject(Fault(r"^/api/v1/pods$", verbs=frozenset({"list"}), delay=PAGE_DELAY))
        kubeconfig = write_kubeconfig(tmp_path / "kc", server.url, server.token)
        app = K8sTopApp(Settings(kubeconfig=str(kubeconfig), use_prometheus=False, refresh=0.25), LiveSource)
        shown: list[tuple[int, int]] = []

        def progress_seen() -> bool:
            found = PROGRESS.search(screen_text(app))
            if found:
                shown.append((int(found[1].replace(",", "")), int(found[2].replace(",", ""))))
            return _synced(app)

        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, progress_seen, timeout=60, what="the pod sync to finish")
            kube = _kube(app)
            assert kube is not None
            total = kube.summary().pod_count
            await wait_for(pilot, lambda: "syncing pods" not in screen_text(app), what="the progress line to go")
    assert total >= PODS
    assert shown, "no progress line was drawn while the pods were listed"
    assert {expected for _, expected in shown} == {total}
    assert all(0 < so_far < total and so_far % 500 == 0 for so_far, _ in shown)
    assert [so_far for so_far, _ in shown] == sorted(so_far for so_far, _ in shown)
