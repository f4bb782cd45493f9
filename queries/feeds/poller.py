"""One async task per feed: polls never overlap and each has a timeout.

The poller owns the feed's status: ok, stale since T (last good facts kept), or error; "not
exposed" only while the feed has never had data (once seen, vanished series are stale).
A failed poll is retried at the refresh interval, not after a growing backoff, so the feed
recovers within one refresh of the fault ending: a failing poll costs the server no more
than a healthy one, because polls never overlap and each is bounded by its timeout. A
server that asks for less (429 Retry-After) is obeyed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from k8stop.queries.model.errors import NotExposed, describe
from k8stop.queries.model.status import FeedState, FeedStatus, FeedUpdate

T = TypeVar("T")


@dataclass(slots=True)
class Poller(Generic[T]):
    feed: str
    collect: Callable[[], Awaitable[tuple[T, tuple[str, ...]]]]
    publish: Callable[[FeedUpdate[T]], None]
    interval: float
    timeout: float
    clock: Callable[[], float] = time.time
    _facts: T | None = field(default=None, init=False)
    _status: FeedStatus = field(default=FeedStatus(FeedState.WAITING), init=False)
    _retry_after: float | None = field(default=None, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _running: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def __post_init__(self) -> None:
        self._running.set()

    @property
    def status(self) -> FeedStatus:
        return self._status

    @property
    def facts(self) -> T | None:
        return self._facts

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def poll_now(self) -> None:
        self._wake.set()

    async def poll_once(self) -> FeedUpdate[T]:
        started = self.clock()
        try:
            facts, warnings = await asyncio.wait_for(self.collect(), self.timeout)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            self._fail(f"no answer within {self.timeout:g} s", started)
        except NotExposed as exc:
            if self._facts is not None:
                # Series that were there and stopped (a target down, a failing scrape) are a
                # fault with the last values kept, not a cluster that never exposed them.
                self._fail(f"stopped arriving ({exc})", started)
            else:
                self._retry_after = None
                self._status = FeedStatus(FeedState.NOT_EXPOSED, str(exc), started, started)
        except Exception as exc:  # a feed must never take the app down; its status says why
            self._fail(describe(exc), started)
            retry_after = getattr(exc, "retry_after", None)
            self._retry_after = float(retry_after) if isinstance(retry_after, (int, float)) else None
        else:
            self._retry_after = None
            self._facts = facts
            self._status = FeedStatus(FeedState.OK, updated_at=started, warnings=warnings)
        update = FeedUpdate(self.feed, self._facts, self._status, self.clock())
        self.publish(update)
        return update

    def _fail(self, reason: str, at: float) -> None:
        self._retry_after = None
        previous = self._status
        if previous.state in (FeedState.STALE, FeedState.ERROR):
            since = previous.since
        else:
            since = at
        state = FeedState.STALE if self._facts is not None else FeedState.ERROR
        self._status = FeedStatus(state, reason, since, previous.updated_at)

    def next_delay(self) -> float:
        if self._retry_after is not None:
            return max(self.interval, self._retry_after)
        return self.interval

    async def run(self) -> None:
        """Poll forever; the next poll is scheduled only after this one finished."""
        while True:
            await self._running.wait()
            await self.poll_once()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.next_delay())
            except TimeoutError:
                pass
