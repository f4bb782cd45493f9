"""One or two lines under the header naming the incident: its top causes, firing alerts and
the scheduling backlog. Hidden when there is nothing to say; `d` opens the diagnosis there."""

from __future__ import annotations

from typing import ClassVar

from k8stop.queries.model.level import Level
from k8stop.queries.rules.incident import Incident
from rich.text import Text
from textual.widgets import Static


class IncidentBanner(Static):
    DEFAULT_CSS = """
    IncidentBanner { height: auto; max-height: 2; display: none; padding: 0 1; text-style: bold; }
    IncidentBanner.shown { display: block; }
    IncidentBanner.critical { background: $error; color: $text; text-style: bold underline; }  /* told without colour too */
    IncidentBanner.warning { background: $warning; color: $text; }
    """
    CLASSES_BY_LEVEL: ClassVar[dict[Level, str]] = {Level.CRITICAL: "critical", Level.WARNING: "warning"}

    def show(self, incident: Incident) -> None:
        self.set_class(bool(incident.lines), "shown")
        for level, css in self.CLASSES_BY_LEVEL.items():
            self.set_class(incident.level == level, css)
        # Untrusted names (pods, nodes) arrive as plain Text, never as markup.
        self.update(Text("\n".join(incident.lines), no_wrap=True, overflow="ellipsis"))
