"""Where the dashboard's facts come from: a live cluster, or a recording being replayed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from k8stop.queries.model.status import FeedUpdate

if TYPE_CHECKING:
    from k8stop.queries.config import Thresholds
    from k8stop.queries.drill.data import DrillData

Publish = Callable[[FeedUpdate[Any]], None]
Updates = Mapping[str, FeedUpdate[Any]]  # feed -> its latest update
History = Mapping[str, Sequence[FeedUpdate[Any]]]  # feed -> its updates with facts, oldest first


@dataclass(frozen=True, slots=True)
class SourceInfo:
    context: str = ""
    version: str = ""
    prometheus: str = ""  # e.g. "prometheus-k8s.monitoring via API-server proxy" (no credentials)
    flags: tuple[str, ...] = ()  # shown in the header: DEMO, REPLAY, TLS-UNVERIFIED...
    cluster: str = ""  # the fleet cluster every query is scoped to (--cluster), "" when not a fleet


class FeedSource(Protocol):
    """Everything the app and its screens ask of where the facts come from."""

    info: SourceInfo

    @property
    def live(self) -> bool:
        """A cluster read now: only a live source can switch context or namespace."""
        ...

    async def run(self, publish: Publish, on_info: Callable[[SourceInfo], None]) -> None:
        """Start every feed and keep publishing updates until cancelled."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def poll_now(self) -> None: ...

    def set_interval(self, seconds: float) -> None: ...

    def set_history_window(self, span: float, since: float | None) -> bool:
        """The dashboard heatmap's window; False when it cannot change (a recording's is fixed)."""
        ...

    def now(self) -> float:
        """The source's clock: wall time live, the recording's time in a replay."""
        ...

    def want_records(self, wanted: bool) -> None:
        """Publish the kube records drill-downs read (while recording); a replay has them already."""

    def drill(self, latest: Updates, history: History, thresholds: Thresholds) -> DrillData:
        """The data drill-down screens read now; `latest` and `history` are what the app holds."""
        ...
