"""Hostile text stays inert (issue 20, items 1, 2, 8, 10a).

Terminal escapes, C1 controls, bidi/zero-width characters and Textual markup in every string
a tenant controls, through the real parts: the kube-API test server serving a hostile cluster
(kubeapi/hostile.py), a real Prometheus backfilled with hostile label values and a rule whose
annotation quotes them, recordings, `k8stop report` in every format, and the app at 80x24.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_terminal
from faulty_proxy import Fault, FaultyProxy, Misbehaviour
from hostile import (
    ALERT_SUMMARY,
    CLICK,
    DSR,
    ESCAPES,
    FILESYSTEM,
    HOSTILE_CONTAINER,
    HOSTILE_NAMESPACE,
    HOSTILE_RULES,
    HOSTILE_TERMINATED,
    HOSTILE_WAITING,
    LINK,
    OSC52,
    PROD,
    RLO,
    assert_inert,
    assert_no_raw_sequences,
    hostile_scenario,
    visible,
)
from k8stop.queries.config import Settings
from k8stop.queries.feeds.live import LiveSource
from k8stop.queries.feeds.recording import Recorder, read_recording
from k8stop.queries.feeds.source import SourceInfo
from k8stop.queries.kube.parse import event_record, node_record, pod_record
from k8stop.queries.model.codec import CODEC
from k8stop.queries.model.facts import ContainerRestarts, RestartsFacts
from k8stop.queries.model.keys import NodeKey, PodKey
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate
from k8stop.queries.private_files import PrivateFileError
from k8stop.queries.prom.alerts import parse_alert
from k8stop.queries.prom.client import PromClient
from k8stop.queries.report import make_report
from k8stop.queries.rules.guided import export_markdown, report_filename
from k8stop.tui.app import K8sTopApp
from k8stop.tui.screens.alerts_screen import AlertsScreen
from k8stop.tui.screens.detail_screen import DetailScreen
from k8stop.tui.screens.diagnosis import DiagnosisScreen
from k8stop.tui.screens.node_detail import NodeScreen
from k8stop.tui.screens.pod_detail import PodScreen
from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig
from kubeapi import Fault as KubeFault
from kubeapi import hostile as kube
from screen import screen_lines, screen_text, wait_for
from test_terminal import ENTER_ALT_SCREEN

READ_VERBS = {"get", "list", "watch"}


def strings_of(obj: Any) -> Iterator[str]:
    """Every string inside a facts object (dataclasses, tuples, enums' values aside)."""
    if isinstance(obj, str):
        yield obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from strings_of(getattr(obj, f.name))
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from strings_of(item)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from strings_of(key)
            yield from strings_of(value)


# --- the sanitiser ---------------------------------------------------------------------------


def test_clean_makes_controls_bidi_and_zero_width_visible() -> None:
    assert clean("a\x1b[6nb") == "a\\x1b[6nb"
    assert clean("\x00\x07\x08\x0b\x0c\r\x1f\x7f\x80\x9b\x9f") == (
        "\\x00\\x07\\x08\\x0b\\x0c\\x0d\\x1f\\x7f\\x80\\x9b\\x9f"
    )
    for code in (*range(0x200B, 0x2010), *range(0x202A, 0x202F), 0x2060, *range(0x2066, 0x206A), 0xFEFF):
        assert clean(f"a{chr(code)}b") == f"aU+{code:04X}b"
    # Newlines and tabs stay; printable non-ASCII and separators such as NBSP are not controls.
    for text in ("line 1\nline 2\tend", "café 中文 ✖ ● — … ▲", "10\u00a0ms", "", "[prod] x"):
        assert clean(text) == text
    name = "checkout-6d9f7b8c4-k2x7p"
    assert clean(name) is name  # the fast path hands back the same object
    once = clean(ESCAPES)
    assert clean(once) == once == visible(ESCAPES)


def test_no_control_or_format_character_survives() -> None:
    """Every code point: what comes out holds no C0 but newline/tab, DEL, C1, bidi or zero-width."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    out = clean(everything)
    controls = {c for c in out if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F} - {"\n", "\t"}
    assert not controls
    invisible = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
    for c in invisible:
        assert c not in out
    # One at a time, each takes the fast path (str.isprintable) first: it must not let one through.
    for c in (*(chr(n) for n in range(0xA0) if n < 0x20 or n >= 0x7F), *invisible):
        if c not in "\n\t":
            assert clean(f"name{c}") != f"name{c}", hex(ord(c))


# --- where strings become facts --------------------------------------------------------------


def test_kube_records_are_inert() -> None:
    objects = kube.hostile_cluster_objects()
    pod = next(o for k, o in objects if k == "pods" and o["metadata"]["name"] == kube.POD)
    record = pod_record(pod)
    assert (record.namespace, record.name, record.node) == (PROD, visible(kube.POD), visible(kube.NODE))
    container = record.containers[0]
    assert container.name == visible(kube.CONTAINER) == f"app{LINK}"
    assert container.waiting_reason == visible(kube.WAITING) == "CrashLoopBackOff\\x9b6n"
    assert container.last_terminated_reason == "OOMKilled" + "U+202E"
    assert container.restarts == kube.RESTARTS
    event = event_record(next(o for k, o in objects if k == "events" and o["reason"] == kube.EVENT_REASON))
    assert event.reason == "BackOff\\x1b[2J"
    assert event.message == visible(kube.EVENT_MESSAGE)
    assert FILESYSTEM in event.message and CLICK in event.message  # markup is data: kept as typed
    node = node_record(next(o for k, o in objects if k == "nodes" and o["metadata"]["name"] == kube.NODE))
    assert node.name == "workerU+200B\\x1b[6n"
    records = [pod_record(o) for k, o in objects if k == "pods"] + [
        event_record(o) for k, o in objects if k == "events"
    ]
    assert_inert(strings_of(records))


def hostile_recording(path: Path) -> Path:
    """A recording of one restarting container whose every string carries escapes, as anyone may send one."""
    hostile = ContainerRestarts(
        HOSTILE_NAMESPACE, f"evil{ESCAPES}", HOSTILE_CONTAINER, 30.0, 5.0, HOSTILE_WAITING, HOSTILE_TERMINATED
    )
    recorder = Recorder(path, SourceInfo(f"ctx{ESCAPES}", f"v1{ESCAPES}", "prom"), start=1000.0)
    recorder.write(FeedUpdate("restarts", RestartsFacts("kube-api", (hostile,)), FeedStatus(FeedState.OK), 1000.0))
    recorder.close(1001.0)
    return path


def test_recording_read_back_is_inert(tmp_path: Path) -> None:
    """A .k8rec is a file anyone may attach to a ticket: its strings are cleaned on decode."""
    path = hostile_recording(tmp_path / "hostile.k8rec")
    raw = gzip.decompress(path.read_bytes())
    assert "\x9b".encode() in raw and RLO.encode() in raw  # orjson wrote C1 and bidi raw: the file is hostile
    recording = read_recording(path)
    facts = recording.updates[0].facts
    assert facts.top[0].pod == visible(f"evil{ESCAPES}")
    assert facts.top[0].namespace == visible(HOSTILE_NAMESPACE)
    assert recording.header.context == visible(f"ctx{ESCAPES}")
    assert_inert(strings_of(recording.updates))
    assert_inert([recording.header.context, recording.header.cluster_version])
    assert CODEC.decode(f"a{ESCAPES}") == visible(f"a{ESCAPES}")


async def test_replaying_a_hostile_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay's dashboard and pod drill-down show what a hostile .k8rec holds, inert; the
    diagnosis's export refuses a symlink planted at its file name."""
    monkeypatch.chdir(tmp_path)
    from k8stop.queries.drill.data import RECORDED_NOTE
    from k8stop.queries.feeds.replay import ReplaySource
    from k8stop.tui.replay_app import ReplayApp

    hostile = ContainerRestarts(PROD, f"evil{ESCAPES}", f"c{LINK}", 30.0, 5.0, HOSTILE_WAITING, HOSTILE_TERMINATED)
    path = tmp_path / "hostile.k8rec"
    recorder = Recorder(path, SourceInfo(f"ctx{ESCAPES}", f"v1{ESCAPES}", "prom"), start=1000.0)
    recorder.write(FeedUpdate("restarts", RestartsFacts("kube-api", (hostile,)), FeedStatus(FeedState.OK), 1000.0))
    recorder.close(1060.0)
    app = ReplayApp(Settings(), ReplaySource(read_recording(path)))
    async with app.run_test(size=(80, 24)) as pilot:
        restarts = app.dashboard.panels()["restarts"]
        await wait_for(pilot, lambda: restarts.facts is not None, what="the recorded restarts")
        assert restarts.selected_key == PodKey(PROD, visible(f"evil{ESCAPES}"), visible(f"c{LINK}"))
        assert app.dashboard.header.context == visible(f"ctx{ESCAPES}")
        assert "CrashLoopBackOff\\x9b6n" in screen_text(app)
        assert_screen_inert(app)
        app.dashboard.focus_panel("restarts")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen.loaded, what="pod drill-down")
        assert f"pod › {PROD}/evil\\x1b]52;c;aGFja2Vk\\x07" in screen_text(app)
        window = "charts: last 1h   W next window, :window 6h, :since 14:05"
        assert str(app.screen.query_one("#state").render()) == f"{window}\n{RECORDED_NOTE}"
        assert_screen_inert(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")

        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnosisScreen), what="the diagnosis")
        session = app.screen
        assert isinstance(session, DiagnosisScreen) and session.report is not None
        snap = session.report.snapshot
        victim = tmp_path / "victim"
        victim.write_text("precious")
        planted = tmp_path / report_filename(snap.context, snap.taken_at)
        planted.symlink_to(victim)
        await pilot.press("x")
        await pilot.pause()
        assert session.exported is None and victim.read_text() == "precious"
        assert f"could not write the report: {planted}: is a symbolic link; refusing" in " ".join(notifications(app))
        assert_screen_inert(app)
        assert app.is_running


# --- files ---------------------------------------------------------------------------------


def _report() -> Any:
    from facts_builders import healthy

    return make_report(healthy(), Settings())


def test_export_refuses_a_planted_symlink_and_never_overwrites(tmp_path: Path) -> None:
    report = _report()
    first = export_markdown(report, tmp_path)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    second = export_markdown(report, tmp_path)  # same moment: a new name, the first untouched
    assert second.name == first.name.replace(".md", "-2.md") and first.read_text() == second.read_text()

    victim = tmp_path / "victim"
    victim.write_text("precious")
    attack = tmp_path / "attack"
    attack.mkdir()
    (attack / first.name).symlink_to(victim)
    with pytest.raises(PrivateFileError, match="symbolic link; refusing"):
        export_markdown(report, attack)
    assert victim.read_text() == "precious"


def test_recording_refuses_a_symlink_and_is_private(tmp_path: Path) -> None:
    from k8stop.queries.feeds.recording import RecordingError

    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "k8stop.k8rec"
    link.symlink_to(victim)
    with pytest.raises(RecordingError, match="symbolic link"):
        Recorder(link, SourceInfo())
    assert victim.read_text() == "precious"
    dangling = tmp_path / "dangling.k8rec"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(RecordingError, match="symbolic link"):
        Recorder(dangling, SourceInfo())
    assert not (tmp_path / "nowhere").exists()
    recorder = Recorder(tmp_path / "ok.k8rec", SourceInfo())
    recorder.close(1.0)
    assert stat.S_IMODE((tmp_path / "ok.k8rec").stat().st_mode) == 0o600


def test_markdown_escapes_data() -> None:
    from facts_builders import healthy
    from k8stop.queries.model.finding import Component, Evidence, Finding
    from k8stop.queries.model.level import Level
    from k8stop.queries.report import Report, render_markdown

    finding = Finding(
        id="alert.x:y",
        component=Component.WORKLOAD,
        subject="ns/`pod`|x",
        severity=Level.WARNING,
        title=f"# {LINK} <img src=x onerror=alert(1)> &#27;[6n ![i](http://e/i.png) `code` a|b < 25 ms",
        evidence=(Evidence('up{job="``x"}', 1.0, "<script>alert(1)</script>"),),
        recommendation="see [here](https://evil.example)",
    )
    report = make_report(healthy(), Settings())
    md = render_markdown(Report(report.snapshot, report.kpis, (finding,)))
    heading = next(line for line in md.splitlines() if line.startswith("### 1."))
    assert heading == (
        "### 1. [warning] \\# \\[link=https://evil.example\\]x\\[/link\\] \\<img src=x onerror=alert(1)> "
        "\\&\\#27;\\[6n !\\[i\\](http://e/i.png) \\`code\\` a\\|b < 25 ms"
    )
    assert "subject: ``ns/`pod`\\|x``" in md
    assert '| ```up{job="``x"}``` | 1 | \\<script>alert(1)\\</script> |' in md
    assert "**Recommendation:** see \\[here\\](https://evil.example)" in md


# --- Prometheus: the OpenMetrics writer, the client, alerts ------------------------------------


@pytest.fixture(scope="module")
def hostile_prom(prometheus_for) -> Any:
    return prometheus_for(hostile_scenario(), rules=HOSTILE_RULES, eval_interval="1s")


def _raw_query(url: str, promql: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=10) as response:
        return json.loads(response.read())["data"]["result"]


def _firing_alert(url: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/api/v1/alerts", timeout=10) as response:
            alerts = json.loads(response.read())["data"]["alerts"]
        firing = [a for a in alerts if a["labels"].get("alertname") == "KubePodCrashLooping"]
        if firing and firing[0]["state"] == "firing":
            return firing[0]
        time.sleep(0.5)
    raise AssertionError("the hostile alert never fired")


async def test_prometheus_labels_round_trip_and_are_cleaned(hostile_prom) -> None:
    # The writer escaped the values right: Prometheus holds exactly what the scenario put in.
    promql = 'kube_pod_container_status_waiting_reason{namespace=~"tenant.*"}'
    [raw] = _raw_query(hostile_prom.url, promql)
    assert raw["metric"]["namespace"] == HOSTILE_NAMESPACE
    assert raw["metric"]["container"] == HOSTILE_CONTAINER
    assert raw["metric"]["reason"] == HOSTILE_WAITING
    # k8stop's client hands on the visible form.
    async with PromClient(hostile_prom.url) as client:
        [(labels, value)] = (await client.query(promql)).samples
    assert labels["namespace"] == visible(HOSTILE_NAMESPACE) == "tenant\\x1b]52;c;aGFja2Vk\\x07"
    assert labels["container"] == visible(HOSTILE_CONTAINER)
    assert labels["reason"] == "CrashLoopBackOff\\x9b6n" and value.number == 1.0
    assert_inert(strings_of(labels))


async def test_alert_labels_and_annotations_are_cleaned(hostile_prom) -> None:
    raw = _firing_alert(hostile_prom.url)
    assert raw["annotations"]["summary"] == f"{ALERT_SUMMARY} {HOSTILE_NAMESPACE}"  # the rule quoted the label
    alert = parse_alert(raw)
    assert alert.summary == visible(f"{ALERT_SUMMARY} {HOSTILE_NAMESPACE}")
    assert alert.summary.startswith(f"{FILESYSTEM}; {CLICK} \\x1b[6n\\x1b[2J tenant\\x1b]52;")
    assert dict(alert.labels)["team"] == f"{PROD} U+202E"
    assert_inert(strings_of(alert))


# --- the app at 80x24 --------------------------------------------------------------------------


@pytest.fixture
def hostile_kube(tmp_path: Path) -> Iterator[tuple[ThreadedKubeApiServer, Path]]:
    server = ThreadedKubeApiServer(Cluster.from_objects(kube.hostile_cluster_objects()), bookmark_interval=0.5)
    server.server.version = kube.VERSION
    with server:
        yield server, write_kubeconfig(tmp_path / "kubeconfig", server.url, server.token)
    assert server.verbs() <= READ_VERBS


def assert_screen_inert(app: K8sTopApp) -> None:
    """Nothing drawn holds a control character, and no data became a link or an action."""
    lines = screen_lines(app)
    assert_inert(lines)
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is None:
                continue
            assert not style.link, f"a link on screen: {segment.text!r} -> {style.link}"
            assert not any(str(v).startswith("app.quit") for v in (style.meta or {}).values()), segment.text


def notifications(app: K8sTopApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_kube_only_session_with_hostile_cluster(hostile_kube) -> None:
    """--no-prometheus against a cluster whose tenant wrote escapes and markup everywhere."""
    _, kubeconfig = hostile_kube
    app = K8sTopApp(Settings(kubeconfig=str(kubeconfig), use_prometheus=False, refresh=0.5), LiveSource)
    hostile = PodKey(PROD, visible(kube.POD))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts drawn, as for a user
        restarts = app.dashboard.panels()["restarts"]
        await wait_for(
            pilot,
            lambda: (
                (key := restarts.selected_key) is not None
                and (key.namespace, key.pod) == (hostile.namespace, hostile.pod)
            ),
            what="the hostile pod on top",
        )
        await wait_for(pilot, lambda: app.dashboard.header.version != "", what="the server version")
        assert app.dashboard.header.version == "v1.29.3\\x1b]0;pwned\\x07"
        assert_screen_inert(app)

        # The restarts panel maximised: the container's [link=...] name shows as typed.
        await pilot.press("colon", *"restarts", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "x[/link]" in text and "CrashLoopBackOff\\x9b6n" in text
        assert_screen_inert(app)

        # The pod drill-down: every hostile string visible, markup literal, the note true to the mode.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen.loaded, what="pod drill-down")
        screen = app.screen
        assert isinstance(screen, PodScreen)
        shown = screen.text_of()
        assert f"{PROD}/evil\\x1b]0;pwned\\x07  phase Running  node workerU+200B\\x1b[6n" in shown
        assert "last terminated OOMKilledU+202E exit 137" in shown
        assert f"BackOff\\x1b[2J x1: {FILESYSTEM} {CLICK} \\x1b]52;c;aGFja2Vk\\x07\\x1b[6n" in shown
        state = str(screen.query_one("#state").render())
        assert state == (
            "charts: last 1h   W next window, :window 6h, :since 14:05\n"
            "history charts need Prometheus, which is off (--no-prometheus) in this session"
        )
        assert f"pod › {PROD}/evil\\x1b]0;pwned\\x07" in screen_text(app)  # the title, "[prod]" not cut
        screen.query_one("#body").scroll_end(animate=False)  # the events sit below the restarts chart
        await pilot.pause()
        text = screen_text(app)
        assert "Filesystem [/var/lib/etcd]" in text and "[@click=app.quit]" in text
        assert_screen_inert(app)
        assert "$ kubectl" not in text and not screen.commands()  # no plausible pod name: no command
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")

        # The node drill-down of the hostile node.
        app.dashboard.action_back()  # restore the grid
        await pilot.pause()
        nodes = app.dashboard.panels()["nodes"]
        await wait_for(pilot, lambda: nodes.facts is not None, what="node usage")
        app.dashboard.focus_panel("nodes")
        for _ in range(len(nodes.facts.worst)):
            if nodes.selected_key == NodeKey(visible(kube.NODE)):
                break
            await pilot.press("down")
        assert nodes.selected_key == NodeKey(visible(kube.NODE))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NodeScreen) and app.screen.loaded, what="node drill-down")
        assert f"{PROD}/evil\\x1b]0;pwned\\x07" in app.screen.text_of()
        assert_screen_inert(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")

        # The pod list: the hostile pod's row as data, and no command built from its name.
        await pilot.press("colon", *"pods", "enter")
        await wait_for(pilot, lambda: "evil\\x1b]0;" in screen_text(app), what="the hostile pod in :pods")
        assert_screen_inert(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")

        # What the user types at the prompt is never markup: `:x[/]` used to crash the app.
        await pilot.press("colon", "x", "left_square_bracket", "slash", "right_square_bracket", "enter")
        await pilot.pause()
        assert "unknown command ':x[/]' (press ? for help)" in notifications(app)
        await wait_for(pilot, lambda: "unknown command ':x[/]'" in screen_text(app), what="the toast")
        await pilot.press("colon", *"ctx ", "left_square_bracket", *"@click=app.quit", "right_square_bracket", "enter")
        # No such context: the CLI's own message, the typed name literal (never markup), no switch
        await wait_for(
            pilot,
            lambda: any(
                "context '[@click=app.quit]' not found in " in n and "available contexts: test" in n
                for n in notifications(app)
            ),
            what="the unknown context refused",
        )
        assert not any("switched" in n for n in notifications(app))
        await wait_for(pilot, lambda: "[@click=app.quit]" in screen_text(app), what="the toast")
        assert app.dashboard.header.context == "test"
        assert_screen_inert(app)
        assert app.is_running


async def test_prometheus_session_with_hostile_labels_and_alert(hostile_prom, tmp_path, monkeypatch) -> None:
    """Hostile label values and an alert quoting "[/var/lib/etcd]": dashboard, drill-downs,
    alerts and the whole guided diagnosis at 80x24, ending with the exported Markdown."""
    monkeypatch.chdir(tmp_path)
    _firing_alert(hostile_prom.url)
    app = K8sTopApp(Settings(prometheus_url=hostile_prom.url, use_kube=False, refresh=0.5), LiveSource)
    pod_key = (visible(HOSTILE_NAMESPACE), "evil-7d9f8b6c5d-x2k9p")
    async with app.run_test(size=(80, 24)) as pilot:
        restarts = app.dashboard.panels()["restarts"]
        await wait_for(
            pilot,
            lambda: (key := restarts.selected_key) is not None and (key.namespace, key.pod) == pod_key,
            what="the hostile pod on top",
        )

        def alert_seen() -> bool:
            update = app.latest.get("alerts")
            return bool(update and update.facts and update.facts.alerts)

        await wait_for(pilot, alert_seen, what="the hostile alert")
        assert_screen_inert(app)

        app.dashboard.focus_panel("restarts")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PodScreen) and app.screen.loaded, what="pod drill-down")
        shown = app.screen.text_of()
        assert f"{visible(HOSTILE_CONTAINER)[:16]}" in shown and "waiting CrashLoopBackOff\\x9b6n" in shown
        assert_screen_inert(app)
        await pilot.press("escape")

        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.loaded, what="alerts")
        shown = app.screen.text_of()
        assert visible(f"{ALERT_SUMMARY} {HOSTILE_NAMESPACE}") in shown
        assert f"team={PROD} U+202E" in shown
        assert "Filesystem [/var/lib/etcd] is 91% full" in screen_text(app)
        assert_screen_inert(app)
        await pilot.press("escape")

        # The guided diagnosis: the alert's finding sits in the workloads step and the summary.
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnosisScreen), what="the diagnosis")
        session = app.screen
        assert isinstance(session, DiagnosisScreen)
        assert "5/5 › Workloads" in session.plain()  # it opens on the top cause's step
        for _ in range(4):
            assert_screen_inert(app)
            await pilot.press("b")
        assert "1/5 › Control plane" in session.plain()
        for _ in range(4):
            assert_screen_inert(app)
            await pilot.press("n")
        assert "5/5 › Workloads" in session.plain()
        alert = "alert KubePodCrashLooping (warning) firing for "
        assert alert in session.plain() and f"): {FILESYSTEM}; {CLICK}" in session.plain()
        words = " ".join(screen_text(app).split())  # the alert's line wraps at 80 columns
        assert "[/var/lib/etcd] is 91% full; [@click=app.quit]quit[/] \\x1b[6n\\x1b[2J" in words
        assert_screen_inert(app)
        await pilot.press("x")  # the report is written only when asked for
        await wait_for(pilot, lambda: session.exported is not None, what="the exported report")
        assert_screen_inert(app)
        path = session.exported
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        md = path.read_text()
        assert_inert([md])
        assert "Filesystem \\[/var/lib/etcd\\] is 91% full; \\[@click=app.quit\\]quit\\[/\\]" in md
        assert "\\x1b]52;c;aGFja2Vk\\x07" in md
        assert app.is_running


async def test_a_422_holding_brackets_ends_the_drill_down_in_an_error_line(hostile_prom) -> None:
    """It used to raise MarkupError in the loading worker and leave "loading…" forever."""
    message = "expanding series: [/] [link=https://evil.example]x[/link] \x1b[6n"
    with FaultyProxy(hostile_prom.url) as proxy:
        app = K8sTopApp(Settings(prometheus_url=proxy.url, use_kube=False, refresh=0.5), LiveSource)
        async with app.run_test(size=(80, 24)) as pilot:
            nodes = app.dashboard.panels()["nodes"]
            await wait_for(pilot, lambda: nodes.selected_key is not None, what="nodes")
            # A PromQL warning echoes the server too: shown in the panel's status, inert.
            proxy.set(Fault(Misbehaviour.WARNINGS, warning=f"results truncated {LINK} {OSC52}"))
            shown = f"results truncated {LINK} \\x1b]52;c;aGFja2Vk\\x07"
            await wait_for(pilot, lambda: nodes.status is not None and shown in nodes.status.warnings, what="warning")
            assert_screen_inert(app)
            proxy.set(Fault(Misbehaviour.EXECUTION_422, message=message))
            app.dashboard.focus_panel("nodes")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.loaded, what="loaded")
            state = str(app.screen.query_one("#state").render())
            assert state.startswith("✖ could not load: ")
            assert "(execution, HTTP 422): expanding series: [/] [link=https://evil.example]x[/link] \\x1b[6n" in state
            words = " ".join(screen_text(app).split())  # the line wraps at 80 columns
            assert "HTTP 422): expanding series: [/] [link=https://evil.example]x[/link] \\x1b[6n" in words
            assert_screen_inert(app)
            assert app.is_running


async def test_api_server_error_messages_are_inert(hostile_kube) -> None:
    """A Status message is the server's own words, echoed in the panels' error lines."""
    server, kubeconfig = hostile_kube
    message = f"etcdserver: {LINK} {OSC52}{DSR} {FILESYSTEM}"
    server.inject(KubeFault(r"^/api/v1/pods$", status=500, body={"kind": "Status", "code": 500, "message": message}))
    app = K8sTopApp(Settings(kubeconfig=str(kubeconfig), use_prometheus=False, refresh=0.5), LiveSource)
    async with app.run_test(size=(80, 24)) as pilot:

        def reason() -> str:
            update = app.latest.get("kube")
            return update.status.reason if update else ""

        await wait_for(pilot, lambda: "500" in reason(), what="the 500 on list pods")
        # The first request is a streaming list (a watch with initial events) or a paged list.
        verb = "watch" if "on watch pods" in reason() else "list"
        assert reason() == f"pods: API server error 500 on {verb} pods at cluster scope: {visible(message)}"
        assert_screen_inert(app)
        assert app.is_running


# --- `k8stop report` in every format ---------------------------------------------------------


def k8stop(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "K8STOP_PROMETHEUS_URL")}
    env["HOME"] = str(cwd)  # no user config file or ~/.kube/config leaks in
    return subprocess.run(
        [sys.executable, "-m", "k8stop.tui.cli", *args], capture_output=True, timeout=120, env=env, cwd=cwd
    )


def assert_output_inert(output: bytes) -> str:
    """Report bytes: no ESC, BEL, C1 or bidi/zero-width character, whatever the format."""
    assert_no_raw_sequences(output)
    assert b"\x1b" not in output
    text = output.decode("utf-8")
    assert_inert([text])
    return text


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_report_from_a_hostile_cluster_is_inert(hostile_kube, hostile_prom, tmp_path: Path, fmt: str) -> None:
    _, kubeconfig = hostile_kube
    _firing_alert(hostile_prom.url)
    run = k8stop(
        "report", "--format", fmt, "--kubeconfig", str(kubeconfig), "--prometheus-url", hostile_prom.url, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr.decode()
    text = assert_output_inert(run.stdout)
    # One finding per owner: the Deployment behind the crash-looping pod, the alert on it as evidence.
    owner = visible(f"{HOSTILE_NAMESPACE}/evil")
    if fmt == "json":
        report = json.loads(text)
        assert report["cluster"]["version"] == "v1.29.3\\x1b]0;pwned\\x07"
        [workload] = [f for f in report["findings"] if f["subject"] == owner]
        alerts = [e["detail"] for e in workload["evidence"] if e["query"].startswith("ALERTS{")]
        assert alerts and visible(ALERT_SUMMARY) in alerts[0]
        assert "alert KubePodCrashLooping (warning) firing for " in alerts[0]
    elif fmt == "text":
        assert owner in text and "v1.29.3\\x1b]0;pwned\\x07" in text
        assert f"{FILESYSTEM}; {CLICK}" in " ".join(text.split())  # wrapping may split it
    else:
        assert f"subject: ``{owner}``" in text or f"subject: `{owner}`" in text
        assert "Filesystem \\[/var/lib/etcd\\] is 91% full; \\[@click=app.quit\\]quit\\[/\\]" in text


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_report_replaying_a_hostile_recording_is_inert(tmp_path: Path, fmt: str) -> None:
    path = hostile_recording(tmp_path / "hostile.k8rec")
    run = k8stop("report", "--replay", str(path), "--format", fmt, cwd=tmp_path)
    assert run.returncode in (0, 3), run.stderr.decode()
    text = assert_output_inert(run.stdout)
    context = visible(f"ctx{ESCAPES}")
    subject = f"{visible(HOSTILE_NAMESPACE)}/{visible(f'evil{ESCAPES}')}"
    if fmt == "json":
        report = json.loads(text)
        assert report["cluster"] == {"context": context, "version": visible(f"v1{ESCAPES}")}
        assert subject in {f["subject"] for f in report["findings"]}
    elif fmt == "text":
        assert f"k8stop report for {context}" in text
        assert subject in "".join(text.split())  # wrapped at 100 columns, long words broken
    else:
        # Markdown's backslash escapes: the backslashes of the visible form, then link brackets
        escaped = context.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        assert f"# k8stop report for {escaped}" in text
        assert f"subject: `{subject}`" in text


def test_report_output_refuses_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "report.md").symlink_to(victim)
    args = ("report", "--no-kube", "--prometheus-url", "http://127.0.0.1:9", "--format", "markdown")
    run = k8stop(*args, "--output", str(tmp_path / "report.md"), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.decode().count("\n") == 1 and "symbolic link; refusing" in run.stderr.decode()
    assert victim.read_text() == "precious"
    run = k8stop(*args, "--output", str(tmp_path / "new.md"), cwd=tmp_path)
    assert run.returncode == 3  # nothing reachable, but the report is written, owner-only
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o600


# --- the real terminal -------------------------------------------------------------------------

pty_harness = test_terminal.spawn  # the pty harness's fixture, under this module's name


def command(child: Any, line: bytes) -> None:
    """`:` then, once the prompt has focus, the line: typed at once, "pods" would be keys."""
    os.write(child.master, b":")
    time.sleep(0.5)
    os.write(child.master, line + b"\r")
    time.sleep(0.5)


def test_terminal_bytes_hold_no_hostile_sequence(pty_harness, hostile_kube, hostile_prom) -> None:
    """The real k8stop in a pty, through the dashboard, the hostile pod's drill-down, the
    alerts and the guided diagnosis: what reaches the terminal shows the payloads, inert."""
    spawn, (_, kubeconfig) = pty_harness, hostile_kube
    _firing_alert(hostile_prom.url)

    # Kube only: the pod drill-down with the tenant's event and container names.
    child = spawn("--kubeconfig", str(kubeconfig), "--no-prometheus")
    assert child.read_until(ENTER_ALT_SCREEN, 30), bytes(child.output[-500:])
    assert child.read_until(b"CrashLoopBackOff\\x9b6n", 30), bytes(child.output[-2000:])
    command(child, b"restarts")  # the restarts panel maximised; Enter drills into its top row
    os.write(child.master, b"\r")
    assert child.read_until(b"[prod]/evil\\x1b]0;pwned\\x07  phase Running", 15), bytes(child.output[-2000:])
    os.write(child.master, b"\x1b[6~\x1b[6~")  # page down to the events
    assert child.read_until(b"BackOff\\x1b[2J", 10), bytes(child.output[-2000:])
    os.write(child.master, b"\x1b")
    time.sleep(0.5)
    command(child, b"x[/]")
    assert child.read_until(b"unknown command", 10)
    os.write(child.master, b"\x03")
    status, _ = child.wait(timeout=15)
    assert status == 0, bytes(child.output[-800:])
    assert b"Traceback" not in child.output
    assert_no_raw_sequences(bytes(child.output))
    assert b"[prod]/evil\\x1b]0;pwned\\x07" in child.output

    # Prometheus and kube: the alerts screen and the guided diagnosis.
    child = spawn("--kubeconfig", str(kubeconfig), "--prometheus-url", hostile_prom.url)
    assert child.read_until(ENTER_ALT_SCREEN, 30)
    assert child.read_until(b"CrashLoopBackOff\\x9b6n", 30), bytes(child.output[-2000:])
    os.write(child.master, b"a")
    assert child.read_until(b"[/var/lib/etcd]", 15), bytes(child.output[-2000:])
    os.write(child.master, b"\x1b")
    time.sleep(0.5)
    os.write(child.master, b"d")  # it opens on the top cause's step: the crash-looping workload
    assert child.read_until(b"5/5", 15)
    assert child.read_until(b"[@click=app.quit]", 10)
    for step in (b"4/5", b"3/5", b"2/5", b"1/5"):
        os.write(child.master, b"b")
        assert child.read_until(step, 10)
    os.write(child.master, b"\x03")
    status, _ = child.wait(timeout=15)
    assert status == 0, bytes(child.output[-800:])
    assert b"Traceback" not in child.output
    assert_no_raw_sequences(bytes(child.output))
