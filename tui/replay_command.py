"""`k8stop replay FILE` and `k8stop demo`: open a recording, then the dashboard over it."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from k8stop.queries.config import ConfigError, Settings

if TYPE_CHECKING:
    from k8stop.tui.replay_app import ReplayApp

DEMO_FILE = "demo.k8rec"


def demo_path() -> Path:
    return Path(str(files("k8stop.tui") / "data" / DEMO_FILE))


def run_replay(args: argparse.Namespace, settings: Settings, demo: bool) -> int:
    app = replay_app(args, settings, demo)
    app.run(mouse=False)
    return app.return_code or 0


def replay_app(args: argparse.Namespace, settings: Settings, demo: bool) -> ReplayApp:
    """The dashboard over the recording `args` name; `settings` carry the config's thresholds."""
    from k8stop.queries.feeds.recording import RecordingError, read_recording

    path = demo_path() if demo else Path(args.file)
    try:
        recording = read_recording(path)
    except RecordingError as exc:
        # main() prints ConfigError as one line and exits 2: the same contract as a bad flag.
        raise ConfigError(str(exc)) from None
    if not recording.updates:
        raise ConfigError(f"{path}: the recording holds no updates")

    from k8stop.queries.feeds.replay import ReplaySource
    from k8stop.tui.replay_app import DEMO_BANNER, ReplayApp

    source = ReplaySource(recording, speed=args.speed, loop=demo, demo=demo)
    return ReplayApp(settings, source, banner=DEMO_BANNER if demo else "")
