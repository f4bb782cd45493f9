"""`k8stop replay FILE` and `k8stop demo`: open a recording, then the dashboard over it."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from k8stop.queries.config import ConfigError, Settings

if TYPE_CHECKING:
    from k8stop.queries.feeds.recording import Recording
    from k8stop.tui.replay_app import ReplayApp

DEMO_FILE = "demo.k8rec"


def demo_path() -> Path:
    return Path(str(files("k8stop.tui") / "data" / DEMO_FILE))


def run_replay(args: argparse.Namespace, settings: Settings, demo: bool) -> int:
    app = replay_app(args, settings, demo)
    app.run(mouse=False)
    return app.return_code or 0


def open_recording(path: str | Path) -> Recording:
    """A recording with something to play, or a ConfigError: main() prints it as one line and
    exits 2, the same contract as a bad flag."""
    from k8stop.queries.feeds.recording import RecordingError, read_recording

    try:
        recording = read_recording(path)
    except RecordingError as exc:
        raise ConfigError(str(exc)) from None
    if not recording.updates:
        raise ConfigError(f"{path}: the recording holds no updates")
    return recording


def replay_app(args: argparse.Namespace, settings: Settings, demo: bool) -> ReplayApp:
    """The dashboard over the recording `args` name; `settings` carry the config's thresholds."""
    recording = open_recording(demo_path() if demo else args.file)
    from k8stop.queries.feeds.replay import ReplaySource
    from k8stop.tui.replay_app import DEMO_BANNER, ReplayApp

    source = ReplaySource(recording, speed=args.speed, loop=demo, demo=demo)
    return ReplayApp(settings, source, banner=DEMO_BANNER if demo else "")
