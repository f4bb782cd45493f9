"""Start and stop recording from a running app (`R`, `--record FILE`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from k8stop.queries.feeds.recording import Recorder, default_recording_path
from k8stop.queries.feeds.source import SourceInfo
from k8stop.queries.model.status import FeedUpdate

Listener = Callable[[FeedUpdate[Any]], None]


class RecordingControl:
    """Owns at most one Recorder, fed through the app's listener list."""

    def __init__(self, info: Callable[[], SourceInfo], listeners: list[Listener]) -> None:
        self._info = info
        self._listeners = listeners
        self.recorder: Recorder | None = None
        self.error: str | None = None  # why the last recording stopped on its own

    @property
    def active(self) -> bool:
        return self.recorder is not None

    def start(self, path: str | Path | None = None) -> Path:
        """Raises RecordingError when the file cannot be created (or already exists)."""
        self.stop()
        self.recorder = Recorder(path or default_recording_path(), self._info())
        self.error = None
        self._listeners.append(self._write)
        return self.recorder.path

    def stop(self) -> Path | None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        if self._write in self._listeners:
            self._listeners.remove(self._write)
        recorder.close()
        self.error = self.error or recorder.error
        return recorder.path

    def _write(self, update: FeedUpdate[Any]) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        if recorder.header is None:
            recorder.info = self._info()  # context and version are known once the source connected
        recorder.write(update)
        if recorder.error is not None:
            self.error = recorder.error
            self.stop()
