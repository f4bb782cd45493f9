"""The one severity scale shared by KPIs, findings and widgets.

Higher is worse, so `max` is the worst. The report's JSON keeps its words: a KPI's status is
`ok|warn|fail|unknown`, a finding's severity `critical|warning|info` (see `kpi_word` and
`severity_word`). Widgets colour by the same scale: INFO is "over the guide's target but
inside the SLO", the shade between calm and a warning.
"""

from __future__ import annotations

from enum import IntEnum


class Level(IntEnum):
    UNKNOWN = -1  # no data, no traffic, or only a lower bound under the target
    OK = 0
    INFO = 1  # worth knowing, not worth paging anyone
    WARN = 2
    FAIL = 3
    # The findings' words for the same grades.
    WARNING = 2
    CRITICAL = 3

    @property
    def kpi_word(self) -> str:
        return _KPI_WORDS[self]

    @property
    def severity_word(self) -> str:
        """A finding is at least info: OK and UNKNOWN never become findings."""
        return _SEVERITY_WORDS.get(self, "info")


_KPI_WORDS = {Level.UNKNOWN: "unknown", Level.OK: "ok", Level.INFO: "ok", Level.WARN: "warn", Level.FAIL: "fail"}
_SEVERITY_WORDS = {Level.WARN: "warning", Level.FAIL: "critical"}

SEVERITIES = (Level.CRITICAL, Level.WARNING, Level.INFO)  # findings' severities, worst first
