"""Record k8stop's real feeds against the fixtures, replay through the dashboard, and the demo."""

from __future__ import annotations

import asyncio
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig
from screen import screen_text, wait_for

sys.path.insert(0, str(Path(__file__).parent / "tools"))
from k8stop.queries.config import PrometheusAuth, Settings
from k8stop.queries.feeds.recording import Recording, read_recording
from k8stop.queries.feeds.replay import ReplaySource
from k8stop.queries.model.units import fmt_seconds
from k8stop.tui.replay_app import DEMO_BANNER, ReplayApp
from k8stop.tui.replay_command import demo_path
from make_demo import demo_scenario, record_stepped, stepped_times

CANARIES = {
    "bearer": "CANARY-bearer-7f3a9c",
    "orgid": "CANARY-tenant-51d2",
    "kube": "CANARY-kube-token-c0ffee",
}
DASHBOARD_FEEDS = ("apiserver", "etcd", "nodes", "restarts")


@dataclass
class Recorded:
    recording: Recording
    path: Path
    scenario: object
    anchor: float


@pytest.fixture(scope="module")
def recorded(prometheus_for, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    scenario = demo_scenario()
    prom = prometheus_for(scenario)
    workdir = tmp_path_factory.mktemp("rec")
    token_file = workdir / "prom-token"
    token_file.write_text(CANARIES["bearer"])
    with ThreadedKubeApiServer(Cluster.small(), token=CANARIES["kube"]) as kube:
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", kube.url, kube.token, context="rec-test")
        settings = Settings(
            prometheus_url=prom.url,
            prometheus=PrometheusAuth(
                bearer_token_file=str(token_file), headers=(("X-Scope-OrgID", CANARIES["orgid"]),)
            ),
            kubeconfig=str(kubeconfig),
        )
        path = workdir / "incident.k8rec"
        # From before the incident (it starts 810 s before the anchor) to the anchor, every 60 s.
        times = stepped_times(prom.anchor, 15, 60)
        asyncio.run(record_stepped(settings, path, times))
    yield Recorded(read_recording(path), path, scenario, prom.anchor)


def test_recording_holds_the_scenario_and_no_secrets(recorded: Recorded) -> None:
    rec = recorded.recording
    assert rec.header.context == "rec-test" and rec.header.cluster_version == "v1.29.3"
    assert "127.0.0.1" in rec.header.prometheus and not rec.truncated
    end = rec.state_at(rec.last)
    assert set(DASHBOARD_FEEDS + ("kube",)) <= set(end)
    slow = recorded.scenario.etcd[1]
    first = end["etcd"].facts.members[0]
    assert slow.ip in first.instance
    assert first.wal_fsync_p99.number == pytest.approx(
        recorded.scenario.expected_etcd_quantile(slow.name, "wal_fsync"), rel=0.02
    )
    # Before the incident the same member was healthy: the recording moves through time.
    early = rec.state_at(rec.first)["etcd"].facts
    before = next(m for m in early.members if slow.ip in m.instance)
    assert before.wal_fsync_p99.number < 0.05
    raw = recorded.path.read_bytes()
    text = zlib.decompressobj(31).decompress(raw)
    for canary in CANARIES.values():
        assert canary.encode() not in text and canary.encode() not in raw


async def test_replay_shows_the_recorded_values_and_seeks(recorded: Recorded) -> None:
    rec = recorded.recording
    source = ReplaySource(rec, speed=1.0)
    app = ReplayApp(Settings(), source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: all(app.dashboard.panels()[f].facts is not None for f in DASHBOARD_FEEDS),
            what="data in every panel",
        )
        assert "REPLAY" in app.dashboard.query_one("#header").flags
        await pilot.press("right_curly_bracket")
        await pilot.pause(0.3)
        etcd = app.dashboard.panels()["etcd"]
        expected = rec.state_at(rec.last)["etcd"].facts
        assert etcd.facts == expected
        assert fmt_seconds(expected.members[0].wal_fsync_p99) in screen_text(app)
        bar = screen_text(app).splitlines()[-2:]
        assert any("15:00 / 15:00" in line for line in bar), bar

        await pilot.press("space", "left_curly_bracket")  # paused, at the start
        await pilot.pause(0.3)
        assert source.paused and source.now() == rec.first
        assert etcd.facts == rec.state_at(rec.first)["etcd"].facts != expected
        await pilot.press("right_square_bracket", "right_square_bracket", "shift+right")
        await pilot.pause(0.3)
        assert source.now() == rec.first + 180
        assert etcd.facts == rec.state_at(rec.first + 180)["etcd"].facts
        assert "3:00 / 15:00" in screen_text(app) and "paused" in screen_text(app)
        await pilot.press("left_square_bracket")
        await pilot.pause(0.1)
        assert source.now() == rec.first + 120
        await pilot.press("greater_than_sign", "full_stop")
        assert source.speed == 4.0
        await pilot.press("comma")
        assert source.speed == 2.0


async def test_truncated_recording_replays_up_to_its_end(recorded: Recorded, tmp_path: Path) -> None:
    raw = recorded.path.read_bytes()
    cut = tmp_path / "cut.k8rec"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    rec = read_recording(cut)
    assert rec.truncated and 0 < len(rec.updates) < len(recorded.recording.updates)
    assert rec.updates == recorded.recording.updates[: len(rec.updates)]
    source = ReplaySource(rec)
    app = ReplayApp(Settings(), source)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right_curly_bracket")
        await pilot.pause(0.3)
        assert source.now() == rec.updates[-1].at
        last_etcd = rec.state_at(rec.last).get("etcd")
        assert app.dashboard.panels()["etcd"].facts == (last_etcd.facts if last_etcd else None)


async def test_demo_starts_with_data_in_every_panel_and_a_banner() -> None:
    rec = read_recording(demo_path())
    assert demo_path().stat().st_size < 2 * 1024 * 1024 and not rec.truncated
    source = ReplaySource(rec, loop=True, demo=True, speed=8.0)
    app = ReplayApp(Settings(), source, banner=DEMO_BANNER)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot,
            lambda: all(app.dashboard.panels()[f].facts is not None for f in DASHBOARD_FEEDS),
            what="data in every panel",
        )
        await pilot.press("right_curly_bracket")  # a looping demo holds its last moment before starting over
        await pilot.pause(0.3)
        assert source.now() == rec.last
        text = screen_text(app)
        assert DEMO_BANNER[:30] in text and "DEMO" in app.dashboard.query_one("#header").flags
        assert "CrashLoopBackOff" in text
        etcd = app.dashboard.panels()["etcd"].facts
        assert etcd.members[0].wal_fsync_p99.number > 0.1  # the slow member leads
