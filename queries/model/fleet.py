"""The fleet overview's facts: one row per cluster of a shared query backend, worst first."""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.model.level import Level
from k8stop.queries.model.values import ABSENT, Value


@dataclass(frozen=True, slots=True)
class FleetCell:
    """One KPI of one cluster: its worst value, graded, and what it was measured on."""

    value: Value = ABSENT
    level: Level = Level.UNKNOWN
    subject: str = ""  # member, node, container or "VERB resource"; cleaned
    magnitude: float = 0.0  # value / the bound that set the level: ranks rows of one level


@dataclass(frozen=True, slots=True)
class FleetRow:
    cluster: str  # cleaned; the label's value as the backend holds it
    api_p99: FleetCell
    etcd_fsync_p99: FleetCell
    node_saturation: FleetCell
    restarts_1h: FleetCell
    alerts_firing: FleetCell
    top: str  # the worst cell as a sentence, "" when every cell is ok

    @property
    def cells(self) -> tuple[FleetCell, ...]:
        return (self.api_p99, self.etcd_fsync_p99, self.node_saturation, self.restarts_1h, self.alerts_firing)

    @property
    def worst(self) -> Level:
        return max(cell.level for cell in self.cells)

    def rank(self) -> tuple[int, float, str]:
        """Sort key, worst first: level, then how far past its bound, then the name."""
        return (-int(self.worst), -max(c.magnitude for c in self.cells if c.level == self.worst), self.cluster)


@dataclass(frozen=True, slots=True)
class FleetFacts:
    label: str  # the cluster label, e.g. "cluster"
    rows: tuple[FleetRow, ...]  # worst first
