"""Where the dashboard's facts come from: a live cluster, or a recording being replayed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from k8stop.queries.model.status import FeedUpdate

Publish = Callable[[FeedUpdate[Any]], None]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    context: str = ""
    version: str = ""
    prometheus: str = ""  # e.g. "prometheus-k8s.monitoring via API-server proxy" (no credentials)
    flags: tuple[str, ...] = ()  # shown in the header: DEMO, REPLAY, TLS-UNVERIFIED...


class FeedSource(Protocol):
    info: SourceInfo

    async def run(self, publish: Publish, on_info: Callable[[SourceInfo], None]) -> None:
        """Start every feed and keep publishing updates until cancelled."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def poll_now(self) -> None: ...

    def set_interval(self, seconds: float) -> None: ...

    def now(self) -> float:
        """The source's clock: wall time live, the recording's time in a replay."""
        ...
