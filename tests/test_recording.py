"""Recording files and ReplaySource without servers: format, damage, canaries, seeking, speed."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import orjson
import pytest
from k8stop.queries.feeds.recording import FLUSH_SECONDS, FORMAT_VERSION, Recorder, RecordingError, read_recording
from k8stop.queries.feeds.replay import ReplaySource
from k8stop.queries.feeds.source import SourceInfo
from k8stop.queries.model.facts import NodeSaturation, NodesFacts
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate
from k8stop.queries.model.values import Value
from k8stop.tui.cli import main

START = 1_700_000_000.0
INFO = SourceInfo("prod-eu", "v1.29.3", "https://prom.example:9090 (--prometheus-url)")


def nodes_at(cpu: float) -> NodesFacts:
    node = NodeSaturation("node-1", Value.of(cpu), Value.of(0.4), Value.of(0.3), Value.of(0.5))
    return NodesFacts("node-exporter", (node,), 1)


def updates() -> list[FeedUpdate[NodesFacts]]:
    """Ten minutes, a poll every 30 s; CPU steps up every 2 minutes, so most polls repeat."""
    out = []
    for i in range(21):
        at = START + 30 * i
        out.append(FeedUpdate("nodes", nodes_at(0.1 * (1 + i // 4)), FeedStatus(FeedState.OK, updated_at=at), at))
    return out


def write(path: Path, items: list[FeedUpdate[NodesFacts]], close: bool = True, info: SourceInfo = INFO) -> Recorder:
    ticks = itertools.count(0, FLUSH_SECONDS)  # every write is a flush point
    recorder = Recorder(path, info, clock=lambda: next(ticks))
    for update in items:
        recorder.write(update)
    if close:
        recorder.close()
    return recorder


def decompressed(path: Path) -> bytes:
    import zlib

    return zlib.decompressobj(31).decompress(path.read_bytes())


def test_round_trip_and_repeated_facts_stored_by_reference(tmp_path: Path) -> None:
    path = tmp_path / "a.k8rec"
    items = updates()
    write(path, items)
    rec = read_recording(path)
    assert rec.updates == items
    assert (rec.header.context, rec.header.cluster_version, rec.header.format_version) == ("prod-eu", "v1.29.3", 1)
    assert rec.header.start == START and rec.end == items[-1].at and not rec.truncated
    lines = [orjson.loads(line) for line in decompressed(path).splitlines()]
    assert lines[0]["k"] == "header" and lines[-1]["k"] == "end"
    full = [line for line in lines if line["k"] == "u" and "facts" in line]
    assert len(full) == len({u.facts for u in items})  # one full copy per distinct facts value
    assert rec.state_at(START + 95)["nodes"].facts == nodes_at(0.1)
    assert rec.state_at(START + 125)["nodes"].facts == nodes_at(0.1 * 2)


def test_truncated_file_reads_up_to_its_last_complete_record(tmp_path: Path) -> None:
    live = tmp_path / "live.k8rec"
    items = updates()
    recorder = write(live, items, close=False)
    raw = live.read_bytes()  # what a kill -9 leaves: no end record, no gzip trailer
    path = tmp_path / "crash.k8rec"
    path.write_bytes(raw)
    rec = read_recording(path)
    assert rec.truncated and rec.updates == items and rec.last == items[-1].at
    # Two thirds in: past the header and the first full record (the one repeats refer to),
    # whatever the size of the facts.
    for cut in (len(raw) * 2 // 3, len(raw) - 7):
        path.write_bytes(raw[:cut])
        partial = read_recording(path)
        assert partial.truncated and 0 < len(partial.updates) < len(items)
        assert partial.updates == items[: len(partial.updates)]
    recorder.close()


def test_corrupt_foreign_and_newer_files_fail_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.k8rec"
    write(good, updates())
    raw = bytearray(good.read_bytes())
    cases: dict[str, tuple[bytes, str]] = {
        "text.k8rec": (b"hello, not a recording\n", "not gzip"),
        "empty.k8rec": (b"", "not gzip"),
        "foreign.k8rec": (gzip.compress(b'{"hello": "world"}\n'), "not a k8stop recording"),
        "newer.k8rec": (
            gzip.compress(
                orjson.dumps(
                    {"k": "header", "format": "k8stop-recording", "version": FORMAT_VERSION + 1, "k8stop": "9.0"}
                )
                + b"\n"
            ),
            "newer k8stop",
        ),
        "garbled.k8rec": (bytes(raw[:40]) + bytes(b ^ 0x5A for b in raw[40:80]) + bytes(raw[80:]), "corrupt"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(RecordingError, match=message):
            read_recording(path)
        assert main(["replay", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("k8stop: ") and name in err and "Traceback" not in err
    assert main(["replay", str(tmp_path / "missing.k8rec")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_credentials_in_free_text_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "c.k8rec"
    info = SourceInfo(
        "ctx", "v1", "https://admin:CANARY-PASSWORD@prom.example/api?token=CANARY-QUERY (--prometheus-url)"
    )
    reason = "HTTP 401 from https://u:CANARY-URLPASS@x.example/q: header Authorization: Bearer CANARY-BEARER-TOKEN"
    item = FeedUpdate("nodes", None, FeedStatus(FeedState.ERROR, reason), START)
    write(path, [item], info=info)
    text = decompressed(path)
    for canary in (b"CANARY-PASSWORD", b"CANARY-QUERY", b"CANARY-URLPASS", b"CANARY-BEARER-TOKEN"):
        assert canary not in text and canary not in path.read_bytes()
    rec = read_recording(path)
    assert rec.header.prometheus == "https://prom.example/api (--prometheus-url)"
    assert "x.example/q" in rec.updates[0].status.reason


def test_recorder_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "x.k8rec"
    path.write_bytes(b"keep me")
    with pytest.raises(RecordingError, match="already exists"):
        Recorder(path, INFO)
    assert path.read_bytes() == b"keep me"


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def replay(tmp_path: Path, **options: object) -> tuple[ReplaySource, list[FeedUpdate[NodesFacts]], FakeMonotonic]:
    path = tmp_path / "r.k8rec"
    write(path, updates())
    clock = FakeMonotonic()
    source = ReplaySource(read_recording(path), monotonic=clock, **options)  # type: ignore[arg-type]
    published: list[FeedUpdate[NodesFacts]] = []
    source._publish = published.append
    return source, published, clock


def test_seek_republishes_every_feed_as_of_that_moment(tmp_path: Path) -> None:
    source, published, _clock = replay(tmp_path)
    source.seek_to(START + 250)
    by_feed = {u.feed: u for u in published}
    assert by_feed["nodes"].at == START + 240 and by_feed["nodes"].facts == nodes_at(0.1 * 3)
    assert by_feed["etcd"].facts is None and by_feed["etcd"].status.state is FeedState.WAITING
    assert source.now() == START + 250
    published.clear()
    source.seek(-60)
    assert source.now() == START + 190
    assert [u.facts for u in published if u.feed == "nodes"] == [nodes_at(0.1 * 2)]
    source.jump_end()
    assert source.now() == source.end == START + 600
    source.seek(60)  # clamped
    assert source.now() == START + 600
    source.jump_start()
    assert source.now() == START


def test_virtual_clock_speed_and_pause(tmp_path: Path) -> None:
    source, _published, clock = replay(tmp_path, speed=2.0)
    clock.t += 10
    assert source.now() == START + 20
    assert source.faster() == 4.0
    clock.t += 10
    assert source.now() == START + 60
    source.pause()
    clock.t += 100
    assert source.now() == START + 60
    source.resume()
    assert source.slower() == 2.0
    clock.t += 5
    assert source.now() == START + 70
    clock.t += 10_000
    assert source.now() == source.end
    with pytest.raises(ValueError):
        ReplaySource(source.recording, speed=3.0)


async def test_run_publishes_in_order_and_loops(tmp_path: Path) -> None:
    import asyncio

    source, _published, clock = replay(tmp_path, loop=True, speed=8.0)
    seen: list[FeedUpdate[NodesFacts]] = []
    task = asyncio.create_task(source.run(seen.append, lambda info: None))
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            clock.t += 10  # 80 s of recording per step
            if seen and seen[-1].at == START and len(seen) > 30:
                break
        nodes = [u.at for u in seen if u.feed == "nodes" and u.facts is not None]
        assert nodes[: nodes.index(START + 600) + 1] == sorted(set(nodes[: nodes.index(START + 600) + 1]))
        assert nodes[-1] == START  # looped back to the start
        assert source.info.flags == ("REPLAY",)
    finally:
        task.cancel()
