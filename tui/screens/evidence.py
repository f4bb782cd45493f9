"""`y` on a drill-down: the PromQL behind its numbers and the commands to run next, one at a
time, each with a copy key (OSC 52, through Textual) and shown whole for selection where the
terminal ignores OSC 52; queries also get their Prometheus graph and Grafana Explore links."""

from __future__ import annotations

from typing import ClassVar

from k8stop.queries.drill.common import RangeWindow
from k8stop.queries.drill.promql import UsedQuery, grafana_explore_url, prometheus_graph_url
from k8stop.tui.screens.sub_screen import SubScreen
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.widgets import Footer, OptionList, Static


class EvidenceScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,y", "back", "Back"),
        Binding("c", "copy('text')", "Copy"),
        Binding("u", "copy('graph')", "Copy graph URL"),
        Binding("g", "copy('grafana')", "Copy Grafana", show=False),
    ]
    DEFAULT_CSS = """
    EvidenceScreen OptionList { height: auto; max-height: 45%; border: none; }
    EvidenceScreen #shown-scroll { height: 1fr; overflow-x: auto; }
    EvidenceScreen #shown { width: auto; padding: 0 1; }
    """

    def __init__(
        self,
        heading: str,
        queries: tuple[UsedQuery, ...],
        commands: tuple[str, ...],
        prometheus_url: str,
        window: RangeWindow | None,
    ) -> None:
        super().__init__()
        self.heading = heading.split("   (", 1)[0]
        self.queries = queries
        self.commands = commands
        self.prometheus_url = prometheus_url
        self.window = window
        self.selected: dict[str, str] = {}  # what the copy keys copy: text, graph, grafana

    def compose(self) -> ComposeResult:
        yield Static(f"{self.heading} › PromQL and next commands", id="title", markup=False)
        options = [Text(f"PromQL  {q.description}") for q in self.queries]
        options += [Text(f"command {c}") for c in self.commands]
        if not options:
            options = [Text("no query ran for this screen (its figures are recorded updates), no commands")]
        yield OptionList(*options, id="items")
        with ScrollableContainer(id="shown-scroll"):
            yield Static(id="shown", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        items = self.query_one("#items", OptionList)
        items.focus()
        items.highlighted = 0
        self._show(0)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def _show(self, index: int) -> None:
        text = Text(no_wrap=True, overflow="ignore")
        self.selected = {}
        if index < len(self.queries):
            query = self.queries[index]
            self.selected["text"] = query.promql
            text.append(f"{query.entry_id}: {query.description}\n\n")
            text.append(f"{query.promql}\n\n")
            end, span = self._range()
            if self.prometheus_url:
                self.selected["graph"] = prometheus_graph_url(self.prometheus_url, query.promql, end, span)
                text.append(f"Prometheus graph (u copies):\n{self.selected['graph']}\n\n")
            grafana = self.k8stop.settings.grafana_url
            if grafana:
                self.selected["grafana"] = grafana_explore_url(grafana, query.promql, end - span, end)
                text.append(f"Grafana Explore (g copies):\n{self.selected['grafana']}\n\n")
            else:
                text.append("Grafana Explore: set grafana_url in the config file for a link\n\n")
            text.append("c copies the query")
        elif index - len(self.queries) < len(self.commands):
            command = self.commands[index - len(self.queries)]
            self.selected["text"] = command
            text.append(f"{command}\n\nc copies the command; k8stop never runs it")
        self.query_one("#shown", Static).update(text)

    def _range(self) -> tuple[float, float]:
        window = self.window
        if window is None:
            return self.k8stop.now(), 3600.0
        return window.end, window.end - window.start

    def action_copy(self, what: str) -> None:
        value = self.selected.get(what)
        if value is None:
            self.notify(f"nothing to copy here ({what})", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(value)
        self.notify("copied (OSC 52); if the terminal ignores it, select the text shown below", markup=False, timeout=4)

    def action_back(self) -> None:
        self.dismiss(None)
