"""What the dashboard and the screens ask of the app that hosts them.

Typed against this protocol, not K8sTopApp, so the screens never import the app that
imports them (no import cycle, and a screen can be hosted by a test app).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from k8stop.queries.config import Settings
    from k8stop.queries.drill.data import DrillData
    from k8stop.queries.drill.window import ViewWindow
    from k8stop.queries.model.snapshot import ClusterSnapshot
    from k8stop.queries.model.status import FeedUpdate


class Host(Protocol):
    settings: Settings
    view: ViewWindow  # the time window of charts and the heatmap
    listeners: list[Callable[[FeedUpdate[Any]], None]]  # told of every feed update after the panels

    @property
    def latest(self) -> Mapping[str, FeedUpdate[Any]]:
        """Feed -> its latest update."""
        ...

    def now(self) -> float:
        """The source's clock: wall time live, recording time in a replay."""
        ...

    def drill(self) -> DrillData:
        """The data drill-downs read, live or recorded."""
        ...

    def snapshot(self) -> ClusterSnapshot:
        """The latest updates as one snapshot, for KPIs and the diagnosis."""
        ...

    def switch(self, **changes: Any) -> None:
        """`:ctx` / `:ns`: rebuild the sources with new settings (live only)."""

    def set_refresh(self, seconds: float) -> None: ...

    def set_view(self, view: ViewWindow) -> None:
        """`W`, `:window`, `:since`: the window charts and the heatmap span."""

    def scope_cluster(self, cluster: str) -> None:
        """`:cluster NAME` / Enter on the fleet screen: every query scoped to that cluster."""

    def open_fleet(self) -> bool:
        """The fleet overview, when the backend holds several clusters; False when it does not."""
        ...
