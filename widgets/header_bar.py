"""The top line: context, namespace, alerts, Prometheus source, version, refresh, flags, clock.

The clock is a widget of its own: it changes every second, and a terminal over SSH should
carry those eight characters, not the whole line, each time (bench/terminal_bytes.py).

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
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget

MIN_SIZE = (60, 20)
CLOCK_WIDTH = len(" HH:MM:SS ")
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


def source_forms(source: str) -> list[str]:
    """The Prometheus source, longest first, then "" (left out): a URL's host:port alone, or
    a label's start (an untrusted namespace is flagged first), never a port cut short."""
    short = short_source(source) or "-"
    forms = [short]
    host = short.split(" ", 1)[0]
    if URL.match(source) and host != short:
        forms.append(host)
    elif len(short) > 25:
        forms += [f"{short[:24]}…", f"{short[:12]}…"]
    return [*forms, ""]


def ellipsize_left(text: str, width: int) -> str:
    """Keep the end, where context names differ (arn:aws:eks:...:cluster/NAME)."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


class HeaderClock(Widget):
    DEFAULT_CSS = f"""
    HeaderClock {{ dock: right; width: {CLOCK_WIDTH}; height: 1; background: $primary-background; color: $text; }}
    """

    clock: reactive[float] = reactive(0.0)

    def on_mount(self) -> None:
        parent = self.parent
        if isinstance(parent, HeaderBar):
            self.clock = parent.clock

    def render(self) -> Text:
        return Text(time.strftime(" %H:%M:%S ", time.localtime(self.clock or time.time())), style="bold")


class HeaderBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"header--flag", "header--dim", "header--firing"}
    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $primary-background; color: $text; }
    HeaderBar > .header--flag { background: $error; color: $text; text-style: bold; }
    HeaderBar > .header--dim { color: $text-muted; }
    HeaderBar > .header--firing { color: $error; text-style: bold reverse; }
    """

    context: reactive[str] = reactive("")
    cluster: reactive[str] = reactive("")  # a fleet backend's cluster this session reads (cleaned)
    version: reactive[str] = reactive("")
    prometheus: reactive[str] = reactive("")
    refresh_seconds: reactive[float] = reactive(2.0)
    flags: reactive[tuple[str, ...]] = reactive(())  # PAUSED, REC, DEMO, TLS-UNVERIFIED...
    clock: reactive[float] = reactive(0.0, repaint=False)  # HeaderClock draws it
    # "all", a namespace, or "" when unknown (a recording does not say which it watched)
    namespace: reactive[str] = reactive("")
    # (firing, pending); None while no alerts feed answered
    alerts: reactive[tuple[int, int] | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield HeaderClock()

    def watch_clock(self, clock: float) -> None:
        for child in self.query(HeaderClock):  # none until composed: on_mount reads it then
            child.clock = clock

    def show_alerts(self, facts: AlertsFacts | None) -> None:
        if facts is None:
            self.alerts = None
            return
        states = [alert.state for alert in facts.alerts]
        self.alerts = (states.count("firing"), states.count("pending"))

    def _parts(self) -> dict[str, list[Text]]:
        """Each part's renderings, longest first; an empty one means the part is left out."""
        firing_style = self.get_component_rich_style("header--firing")
        ctx = self.context or "-"
        parts: dict[str, list[Text]] = {}
        if self.cluster:  # a fleet backend's cluster: what every number on screen is about
            parts["cluster"] = [Text(f"cluster {ellipsize_left(self.cluster, 20)}")]
        parts["ctx"] = [Text(f"ctx {ellipsize_left(ctx, CONTEXT_WIDTH)}"), Text(f"ctx {ellipsize_left(ctx, 14)}")]
        if self.namespace:
            # A namespace filter is kept; "all" may go on a narrow terminal
            ns = Text(f"ns {ellipsize_left(self.namespace, 20)}")
            parts["ns"] = [ns, Text()] if self.namespace == "all" else [ns]
        if self.alerts is not None:
            firing, pending = self.alerts
            if firing or pending:
                long, short = Text(), Text()
                for text, words in ((long, ("firing", "pending")), (short, ("F", "P"))):
                    sep = " " if len(words[0]) > 1 else ""
                    text.append(
                        f" {firing}{sep}{words[0]} " if firing else f"0{sep}{words[0]}",
                        style=firing_style if firing else "",
                    )
                    text.append(f" {pending}{sep}{words[1]}")
                parts["alerts"] = [long, short]
            else:
                parts["alerts"] = [Text("no alerts")]
        parts["prom"] = [Text(f"prom {form}") if form else Text() for form in source_forms(self.prometheus)]
        parts["version"] = [Text(self.version or "version ?"), Text()]
        parts["every"] = [Text(f"every {self.refresh_seconds:g}s"), Text()]
        return parts

    def render(self) -> Text:
        width = self.size.width
        screen = self.screen.size
        if screen.width < MIN_SIZE[0] or screen.height < MIN_SIZE[1]:
            # Panels cannot show rows at this size: say so rather than look empty.
            text = f" k8stop: {screen.width}x{screen.height} is too small, panels need {MIN_SIZE[0]}x{MIN_SIZE[1]} "
            return Text(text[: max(0, width - CLOCK_WIDTH)], style=self.get_component_rich_style("header--flag"))
        flag_style = self.get_component_rich_style("header--flag")
        line = Text(" k8stop ", style="bold")
        for flag in self.flags:
            line.append(f" {flag} ", style=flag_style)
            line.append(" ")
        room = width - line.cell_len - CLOCK_WIDTH
        line.append_text(fit_parts(self._parts(), room, self.get_component_rich_style("header--dim")))
        line.truncate(max(0, width - CLOCK_WIDTH), overflow="ellipsis")
        return line


# What gives way first on a narrow terminal, one step at a time: the refresh, the version, the
# long alert words, the Prometheus source's tail, "ns all", the context's head, more of the
# source, and the source last
SHRINK_ORDER = ("every", "version", "alerts", "prom", "ns", "ctx", "prom", "prom")


def fit_parts(parts: dict[str, list[Text]], room: int, separator_style: Style) -> Text:
    """Join the parts' longest renderings that fit in `room`, shortening or leaving out parts
    in SHRINK_ORDER; never a part cut mid-way."""
    choice = dict.fromkeys(parts, 0)

    def joined() -> Text:
        shown = [parts[name][i] for name, i in choice.items() if parts[name][i].cell_len]
        return Text(SEPARATOR, style=separator_style).join(shown)

    line = joined()
    for name in SHRINK_ORDER:
        if line.cell_len <= room:
            break
        while name in parts and choice[name] + 1 < len(parts[name]) and line.cell_len > room:
            choice[name] += 1
            line = joined()
            if name == "prom":  # one step of the source at a time: its shorter forms come later
                break
    return line
