"""ReplaySource: plays a recording through the dashboard on a virtual clock.

`now()` is recording time, so every "updated 3 s ago" and the header clock read as they
did during the incident. Seeking re-publishes each feed's state as of the new moment
(a feed with nothing recorded yet goes back to waiting), so panels never mix two times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from k8stop.queries.feeds.recording import Recording
from k8stop.queries.feeds.registry import SNAPSHOT_FEEDS, Feed
from k8stop.queries.feeds.source import History, Publish, SourceInfo, Updates
from k8stop.queries.kube.recorded_objects import RecordedKube, objects_as_of
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate

if TYPE_CHECKING:
    from k8stop.queries.config import Thresholds
    from k8stop.queries.drill.data import DrillData

SPEEDS = (1.0, 2.0, 4.0, 8.0)
SEEK_STEP = 60.0
# Longest real wait between clock checks: bounds how late a seek or a speed change shows.
MAX_SLEEP = 0.5
# A looping demo holds its last frame this long (real seconds) so the end can be read.
LOOP_HOLD = 5.0


class ReplaySource:
    live = False

    def __init__(
        self,
        recording: Recording,
        speed: float = 1.0,
        loop: bool = False,
        demo: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed {speed:g}: choose one of {', '.join(f'{s:g}x' for s in SPEEDS)}")
        self.recording = recording
        # The virtual clock runs over the recording's span
        self.start, self.end = recording.first, recording.last
        self.speed = speed
        self.loop = loop
        self.info = recording.header.info(("DEMO",) if demo else ("REPLAY",))
        self._monotonic = monotonic
        self._position = recording.first
        self._anchor = monotonic()
        self.paused = False
        self._cursor = 0  # index of the next update to publish
        self._ended: float | None = None  # when a looping replay reached its end (monotonic)
        self._publish: Publish = lambda update: None
        self._wake = asyncio.Event()
        self.feeds = replay_feeds(recording)

    # --- the virtual clock ------------------------------------------------------------------

    def now(self) -> float:
        if self.paused:
            return self._position
        elapsed = (self._monotonic() - self._anchor) * self.speed
        return min(self.end, self._position + elapsed)

    def _reanchor(self) -> None:
        self._position = self.now()
        self._anchor = self._monotonic()

    # --- playing ------------------------------------------------------------------------------

    async def run(self, publish: Publish, on_info: Callable[[SourceInfo], None]) -> None:
        self._publish = publish
        on_info(self.info)
        self.seek_to(self.now())
        while True:
            self._emit_due()
            if self.now() >= self.end and not self.paused and self.loop:
                if self._ended is None:
                    self._ended = self._monotonic()
                elif self._monotonic() - self._ended >= LOOP_HOLD:
                    self.seek_to(self.start)
                    continue
            await self._sleep(self._next_wait())

    def _emit_due(self) -> None:
        now = self.now()
        updates = self.recording.updates
        while self._cursor < len(updates) and updates[self._cursor].at <= now:
            self._publish(updates[self._cursor])
            self._cursor += 1

    def _next_wait(self) -> float:
        if self.paused or self.now() >= self.end:
            return MAX_SLEEP
        updates = self.recording.updates
        target = updates[self._cursor].at if self._cursor < len(updates) else self.end
        return max(0.01, min(MAX_SLEEP, (target - self.now()) / self.speed))

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    # --- controls (FeedSource) ---------------------------------------------------------------

    def pause(self) -> None:
        if not self.paused:
            self._reanchor()
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            if self._position >= self.end:
                self.seek_to(self.start)  # resuming at the end replays from the start
            self._anchor = self._monotonic()
            self.paused = False
            self._wake.set()

    def poll_now(self) -> None:
        """`r` in a replay: re-show the current moment (nothing new can be fetched)."""
        self.seek_to(self.now())

    def set_interval(self, seconds: float) -> None:
        """The refresh cadence was fixed when recording; nothing to change."""

    def set_history_window(self, span: float, since: float | None) -> bool:
        return False  # the heatmap was recorded with its window

    def want_records(self, wanted: bool) -> None:
        """The recording holds the kube records it has; nothing to fetch."""

    # --- replay-only controls ----------------------------------------------------------------

    def set_speed(self, speed: float) -> None:
        self._reanchor()
        self.speed = speed
        self._wake.set()

    def faster(self) -> float:
        bigger = [s for s in SPEEDS if s > self.speed]
        self.set_speed(bigger[0] if bigger else SPEEDS[-1])
        return self.speed

    def slower(self) -> float:
        smaller = [s for s in SPEEDS if s < self.speed]
        self.set_speed(smaller[-1] if smaller else SPEEDS[0])
        return self.speed

    def seek(self, seconds: float) -> None:
        self.seek_to(self.now() + seconds)

    def seek_to(self, at: float) -> None:
        """Jump to `at` (clamped) and publish every feed's state as of that moment."""
        at = max(self.start, min(self.end, at))
        self._position = at
        self._anchor = self._monotonic()
        self._cursor = self.recording.index_after(at)
        self._ended = None
        for update in state_as_of(self.recording, at, self.feeds).values():
            self._publish(update)
        self._wake.set()

    def jump_start(self) -> None:
        self.seek_to(self.start)

    def jump_end(self) -> None:
        self.seek_to(self.end)

    def drill(self, latest: Updates, history: History, thresholds: Thresholds) -> DrillData:
        """The recording as of now, not the app's updates: after a seek those mix two times."""
        from k8stop.queries.drill.recorded import RecordedDrill

        now = self.now()
        seen: dict[str, list[FeedUpdate[Any]]] = {}
        for update in self.recording.updates[: self.recording.index_after(now)]:
            if update.facts is not None:
                seen.setdefault(update.feed, []).append(update)
        state = self.recording.state_at(now)
        objects = state.get(Feed.KUBE_OBJECTS)
        kube = (
            RecordedKube(objects_as_of(objects.facts, now))
            if objects is not None and objects.facts is not None
            else None
        )
        return RecordedDrill(state, seen, kube, thresholds)


def replay_feeds(recording: Recording) -> tuple[str, ...]:
    """The feeds k8stop knows, then any other the recording holds."""
    return tuple(dict.fromkeys((*SNAPSHOT_FEEDS, *(u.feed for u in recording.updates))))


def state_as_of(recording: Recording, at: float, feeds: Iterable[str]) -> dict[str, FeedUpdate[Any]]:
    """Every feed's state at `at`; one with nothing recorded yet is waiting. The replay app and
    `report --replay` both read this, so a moment grades the same in both."""
    state = recording.state_at(at)
    waiting = FeedStatus(FeedState.WAITING, "not recorded yet")
    return {feed: state.get(feed) or FeedUpdate(feed, None, waiting, at) for feed in feeds}
