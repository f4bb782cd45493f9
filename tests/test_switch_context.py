"""`:ctx` and `:ns` rebuild the live sources: the header and the kube feed follow."""

from __future__ import annotations

from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.status import FeedState
from k8stop.tui.app import K8sTopApp
from kubeapi import write_kubeconfig
from screen import wait_for


async def test_ctx_and_ns_switch_the_live_sources(prometheus, kube_api, tmp_path, monkeypatch) -> None:
    good = write_kubeconfig(tmp_path / "good", kube_api.url, kube_api.token, context="prod")
    bad = write_kubeconfig(tmp_path / "bad", kube_api.url, "expired-token", context="stale")
    monkeypatch.setenv("KUBECONFIG", f"{good}:{bad}")
    app = K8sTopApp(Settings(prometheus_url=prometheus.url, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:

        def kube_state() -> FeedState | None:
            update = app.latest.get("kube")
            return update.status.state if update else None

        def synced() -> bool:
            update = app.latest.get("kube")
            return bool(update and update.facts and update.facts.synced)

        await wait_for(pilot, lambda: kube_state() is FeedState.OK and synced(), what="kube synced on prod")
        all_pods = app.latest["kube"].facts.pod_count
        assert app.dashboard.header.context == "prod"

        await pilot.press("colon", *"ns kube-system", "enter")
        await wait_for(
            pilot,
            lambda: app.source.settings.namespace == "kube-system" and synced(),
            what="kube synced in kube-system",
        )
        assert 0 < app.latest["kube"].facts.pod_count < all_pods

        await pilot.press("colon", *"ctx stale", "enter")
        # ERROR, or STALE when a waiting-for-sync summary was published before the 401 came back.
        await wait_for(
            pilot, lambda: kube_state() in (FeedState.ERROR, FeedState.STALE), what="401 on the stale context"
        )
        assert app.dashboard.header.context == "stale"
        assert "token" in app.latest["kube"].status.reason
        # Prometheus panels keep working whatever the kube context does.
        await wait_for(
            pilot, lambda: "etcd" in app.latest and app.latest["etcd"].status.state is FeedState.OK, what="etcd ok"
        )
