"""Each feed carries its own status so the UI can say what is fresh, stale or broken."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar


class FeedState(StrEnum):
    WAITING = "waiting"  # no answer yet
    OK = "ok"
    STALE = "stale"  # the last poll failed; the facts shown are older than one refresh
    ERROR = "error"  # never had good data
    DISABLED = "disabled"  # turned off by the user (--no-kube / --no-prometheus)
    NOT_EXPOSED = "not_exposed"  # source reachable, but the metrics do not exist there


@dataclass(frozen=True, slots=True)
class FeedStatus:
    state: FeedState
    reason: str = ""
    since: float | None = None  # when the current state began (stale/error since)
    updated_at: float | None = None  # when the facts held were fetched
    warnings: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.state is FeedState.OK


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FeedUpdate(Generic[T]):
    """What a poller publishes after each poll: the last good facts and the status."""

    feed: str
    facts: T | None
    status: FeedStatus
    at: float
