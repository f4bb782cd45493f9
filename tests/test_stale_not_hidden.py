"""Series that were there and stopped arriving are stale, with the last values kept and their
age shown; "not exposed" is only for a cluster that never had them (issue 12, point 5)."""

from __future__ import annotations

from faulty_proxy import Fault, FaultyProxy, Misbehaviour
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.model.status import FeedState
from k8stop.tui.app import K8sTopApp
from screen import screen_text, wait_for


async def test_etcd_series_that_stop_arriving_are_stale_not_hidden(prometheus) -> None:
    with FaultyProxy(prometheus.url) as proxy:
        app = K8sTopApp(Settings(prometheus_url=proxy.url, use_kube=False, refresh=0.5), LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            etcd = app.dashboard.panels()["etcd"]
            await wait_for(pilot, lambda: etcd.facts is not None and etcd.facts.members, what="etcd members")
            members = [m.instance for m in etcd.facts.members]
            # Every etcd series vanishes: Prometheus answers the etcd queries with no series.
            proxy.set(Fault(Misbehaviour.EMPTY, query_regex="etcd_disk_wal_fsync"))
            await wait_for(pilot, lambda: etcd.status.state is FeedState.STALE, what="etcd stale")
            assert "stopped arriving" in etcd.status.reason and "not exposed" in etcd.status.reason
            assert [m.instance for m in etcd.facts.members] == members  # the last values stay
            text = screen_text(app)
            assert "STALE data" in text and "stopped arriving" in text and members[0].split(":")[0] in text
            assert "managed control planes" not in text
            proxy.set(Fault(Misbehaviour.PASS))
            await wait_for(pilot, lambda: etcd.status.state is FeedState.OK, what="etcd back")
