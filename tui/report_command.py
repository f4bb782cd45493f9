"""`k8stop report`: one snapshot, the findings and KPIs, written as text, Markdown or JSON.

No Textual: this runs in pipelines. Exit codes: 0 a report was written, 2 usage or
configuration error (one line), 3 no data source could be reached, 4 a configured source
failed while another answered (`--fail-on unreachable` turns 4 into 0). The report is
written either way, so a pipeline keeps the reasons; stderr says what failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from k8stop.queries.config import ConfigError, Settings
from k8stop.queries.model.facts import SyncProgress
from k8stop.queries.model.snapshot import ClusterSnapshot, SourceState, SourceStatus
from k8stop.queries.model.units import clock_offset, clock_text

EXIT_OK = 0
EXIT_UNREACHABLE = 3
EXIT_PARTIAL = 4


def run_report(args: argparse.Namespace, settings: Settings) -> int:
    """`settings`: the config file and flags, already merged by the CLI."""
    if args.at is not None and args.replay is None:
        raise ConfigError("--at needs --replay FILE")
    if args.replay is not None:
        snap, cluster = _replay_snapshot(args.replay, args.at, settings)
        # A recording of a scoped session reports as that cluster, as `--cluster` would
        settings = replace(settings, cluster=cluster or None)
    else:
        from k8stop.tui.live_command import usable_settings

        settings = usable_settings(settings)
        from k8stop.queries.feeds.fleet import detect_fleet, unknown_cluster

        problem = asyncio.run(unknown_cluster(settings))
        if problem is not None:
            raise ConfigError(problem)
        clusters = asyncio.run(detect_fleet(settings))
        if len(clusters) > 1:
            return _fleet_report(args, settings, clusters)
        from k8stop.queries.feeds.collect import collect_snapshot

        progress = SyncProgressLine(sys.stderr) if sys.stderr.isatty() else None
        try:
            snap = asyncio.run(collect_snapshot(settings, progress=progress))
        finally:
            if progress is not None:
                progress.done()
    from k8stop.queries.report import make_report, render

    text = render(make_report(snap, settings), args.format)
    _write(text, args.output)
    failed = _failed(snap)
    if not failed:
        return EXIT_OK
    if not any(source.state is SourceState.OK for _, source in _sources(snap)):
        print(f"k8stop: no data source could be reached: {failed}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(f"k8stop: a configured source failed: {failed}", file=sys.stderr)
    return EXIT_PARTIAL if args.fail_on == "partial" else EXIT_OK


def _fleet_report(args: argparse.Namespace, settings: Settings, clusters: tuple[str, ...]) -> int:
    """Every cluster of the backend, each scoped as `--cluster NAME` would scope it."""
    from k8stop.queries.feeds.fleet import collect_fleet
    from k8stop.queries.report import make_fleet_report, make_report, render

    snapshots = asyncio.run(collect_fleet(settings, clusters))
    reports = [make_report(snap, own) for own, snap in snapshots]
    _write(render(make_fleet_report(settings.cluster_label, reports), args.format), args.output)
    failed = [f"{own.cluster}: {why}" for own, snap in snapshots if (why := _failed(snap))]
    if not failed:
        return EXIT_OK
    if not any(source.state is SourceState.OK for _, snap in snapshots for _, source in _sources(snap)):
        print(f"k8stop: no data source could be reached: {'; '.join(failed)}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(f"k8stop: a configured source failed: {'; '.join(failed)}", file=sys.stderr)
    return EXIT_PARTIAL if args.fail_on == "partial" else EXIT_OK


class SyncProgressLine:
    """The kube sync's progress on one terminal line, rewritten in place: a report on a big
    cluster may wait minutes, and a silent wait looks like a hang."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = False

    def __call__(self, progress: SyncProgress) -> None:
        how = "streamed" if progress.streaming else f"{progress.pages:,} pages"
        line = f"k8stop: {progress.line()} ({how}, {progress.elapsed:.0f} s)"
        self._stream.write(f"\r{line}\x1b[K")  # \x1b[K: clear what a longer line left behind
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


def _sources(snap: ClusterSnapshot) -> tuple[tuple[str, SourceStatus], ...]:
    return (("Prometheus", snap.prometheus), ("kube API", snap.kube))


def _failed(snap: ClusterSnapshot) -> str:
    """Every enabled source's failure, in one line; empty when none failed."""
    return "; ".join(f"{name}: {source.detail}" for name, source in _sources(snap) if source.state is SourceState.ERROR)


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from k8stop.queries.private_files import PrivateFileError, write_replacing

    path = Path(output)
    try:
        write_replacing(path, text)
    except PrivateFileError as exc:
        raise ConfigError(f"--output {exc}") from None
    print(f"k8stop: report written to {path.resolve()}", file=sys.stderr)


def _replay_snapshot(file: str, at: str | None, settings: Settings) -> tuple[ClusterSnapshot, str]:
    """The recorded moment as a snapshot, and the cluster the recording was scoped to ("" if none)."""
    from k8stop.queries.feeds.replay import replay_feeds, state_as_of
    from k8stop.queries.feeds.snapshot_builder import build_snapshot
    from k8stop.tui.replay_command import open_recording

    recording = open_recording(file)
    moment = recording.last if at is None else _moment(at, recording.first, recording.last)
    header = recording.header
    snap = build_snapshot(
        state_as_of(recording, moment, replay_feeds(recording)),
        moment,
        settings,
        context=header.context,
        version=header.cluster_version,
        prometheus_detail=header.prometheus,
    )
    return snap, header.cluster


def _moment(at: str, first: float, last: float) -> float:
    """RFC 3339, or an offset from the recording's start (M:SS, H:MM:SS or seconds);
    must fall inside the recording."""
    offset = clock_offset(at)
    if offset is not None:
        moment = first + offset
    else:
        try:
            stamp = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"--at {at!r}: expected RFC 3339, M:SS or H:MM:SS from the start, or seconds from the start"
            ) from None
        if stamp.tzinfo is None:
            raise ConfigError(f"--at {at!r}: give a time zone (e.g. Z)") from None
        moment = stamp.timestamp()
    if not first <= moment <= last:
        raise ConfigError(f"--at {at!r}: outside the recording ({clock_text(last - first)} long)")
    return moment
