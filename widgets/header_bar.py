"""The top line: context, namespace, alerts, Prometheus source, version, refresh, flags, clock.

Nothing is cut mid-word: when the line is too long for the terminal, the least useful parts
go first (refresh, version, then Prometheus), and a URL is always shown as host:port, so a
narrow terminal never shows a wrong port or host.
"""

from __future__ import annotations

import re
import time
from typing import ClassVar
from urllib.parse import urlsplit

from k8stop.queries.model.facts import AlertsFacts
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

MIN_SIZE = (60, 20)
SEPARATOR = " │ "
URL = re.compile(r"https?://[^\s()]+")
CONTEXT_WIDTH = 28  # an EKS ARN is 70 characters: its end (the cluster name) is what differs


def host_port(url: str) -> str:
    """'https://user@prom.example:9090/api/v1?x=1' -> 'prom.example:9090' (the scheme's port
    when none is given); the URL unchanged when it does not parse."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return url
    host = parts.hostname
    if not host:
        return url
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port or (443 if parts.scheme == 'https' else 80)}"


def short_source(text: str) -> str:
    """The Prometheus source with every URL in it shortened to host:port."""
    return URL.sub(lambda match: host_port(match.group(0)), text)


def ellipsize_left(text: str, width: int) -> str:
    """Keep the end, where context names differ (arn:aws:eks:...:cluster/NAME)."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


class HeaderBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"header--flag", "header--dim", "header--firing"}
    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $primary-background; color: $text; }
    HeaderBar > .header--flag { background: $error; color: $text; text-style: bold; }
    HeaderBar > .header--dim { color: $text-muted; }
    HeaderBar > .header--firing { color: $error; text-style: bold reverse; }
    """

    context: reactive[str] = reactive("")
    version: reactive[str] = reactive("")
    prometheus: reactive[str] = reactive("")
    refresh_seconds: reactive[float] = reactive(2.0)
    flags: reactive[tuple[str, ...]] = reactive(())  # PAUSED, REC, DEMO, TLS-UNVERIFIED...
    clock: reactive[float] = reactive(0.0)
    # "all", a namespace, or "" when unknown (a recording does not say which it watched)
    namespace: reactive[str] = reactive("")
    # (firing, pending); None while no alerts feed answered
    alerts: reactive[tuple[int, int] | None] = reactive(None)

    def show_alerts(self, facts: AlertsFacts | None) -> None:
        if facts is None:
            self.alerts = None
            return
        states = [alert.state for alert in facts.alerts]
        self.alerts = (states.count("firing"), states.count("pending"))

    def _parts(self) -> list[list[Text]]:
        """Each part's renderings, longest first; an empty one means the part may go."""
        firing_style = self.get_component_rich_style("header--firing")
        ctx = self.context or "-"
        parts: list[list[Text]] = [
            [Text(f"ctx {ellipsize_left(ctx, CONTEXT_WIDTH)}"), Text(f"ctx {ellipsize_left(ctx, 14)}")],
        ]
        if self.namespace:
            parts.append([Text(f"ns {ellipsize_left(self.namespace, 20)}")])
        if self.alerts is not None:
            firing, pending = self.alerts
            alerts = Text()
            if firing:
                alerts.append(f" {firing} firing ", style=firing_style)
            else:
                alerts.append("0 firing")
            alerts.append(f" {pending} pending")
            parts.append([alerts])
        prom = short_source(self.prometheus) or "-"
        parts.append([Text(f"prom {prom}"), Text(f"prom {prom[:24]}…") if len(prom) > 25 else Text(), Text()])
        parts.append([Text(self.version or "version ?"), Text()])
        parts.append([Text(f"every {self.refresh_seconds:g}s"), Text()])
        return parts

    def render(self) -> Text:
        width = self.size.width
        screen = self.screen.size
        if screen.width < MIN_SIZE[0] or screen.height < MIN_SIZE[1]:
            # Panels cannot show rows at this size: say so rather than look empty.
            text = f" k8stop: {screen.width}x{screen.height} is too small, panels need {MIN_SIZE[0]}x{MIN_SIZE[1]} "
            return Text(text[:width], style=self.get_component_rich_style("header--flag"))
        flag_style = self.get_component_rich_style("header--flag")
        line = Text(" k8stop ", style="bold")
        for flag in self.flags:
            line.append(f" {flag} ", style=flag_style)
            line.append(" ")
        clock = time.strftime("%H:%M:%S", time.localtime(self.clock or time.time()))
        room = width - line.cell_len - len(clock) - 2
        line.append_text(fit_parts(self._parts(), room, self.get_component_rich_style("header--dim")))
        line.truncate(max(0, width - len(clock) - 2), overflow="ellipsis")
        line.append(" " * max(1, width - line.cell_len - len(clock) - 1))
        line.append(clock + " ")
        return line


def fit_parts(parts: list[list[Text]], room: int, separator_style: Style) -> Text:
    """Join the parts' longest renderings that fit in `room`: shorten or drop the last parts
    first (they matter least), one step at a time."""
    choice = [0] * len(parts)

    def joined() -> Text:
        shown = [part[i] for part, i in zip(parts, choice, strict=True) if part[i].cell_len]
        return Text(SEPARATOR, style=separator_style).join(shown)

    line = joined()
    while line.cell_len > room:
        shorter = [i for i in reversed(range(len(parts))) if choice[i] + 1 < len(parts[i])]
        if not shorter:
            break
        choice[shorter[0]] += 1
        line = joined()
    return line
