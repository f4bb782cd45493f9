"""The dashboard screen: four core panels, a header with context and clock, key hints."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from k8stop.queries.config import Settings
from k8stop.queries.feeds.registry import Feed
from k8stop.widgets.api_heatmap import ApiHeatmap
from k8stop.widgets.etcd_panel import EtcdPanel
from k8stop.widgets.fact_panel import FactPanel
from k8stop.widgets.header_bar import HeaderBar
from k8stop.widgets.incident_banner import IncidentBanner
from k8stop.widgets.key_hints import KeyHints
from k8stop.widgets.node_bars import NodeBars
from k8stop.widgets.restarts_table import RestartsTable
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from k8stop.tui.host import Host

# The screens the dashboard opens, by ':' command: (module, class, key, footer label). They
# import on first use: the alerts screen alone pulls in aiohttp (~0.1 s), which must not
# delay the first frame
SCREEN_COMMANDS = {
    "kpi": ("kpi_screen", "KpiScreen", "s", "KPIs"),
    "alerts": ("alerts_screen", "AlertsScreen", "a", "Alerts"),
    "sched": ("control_plane", "ControlPlaneScreen", "c", "Sched"),
    "config": ("config_screen", "ConfigScreen", "t", "Tuning"),
    "workloads": ("workloads_screen", "WorkloadsScreen", "w", "Workloads"),
    "path": ("request_path", "RequestPathScreen", "e", "Path"),
    "pods": ("pods_screen", "PodsScreen", "", "Pods"),  # `:pods` only: no key of its own
    "events": ("events_screen", "EventsScreen", "v", "Events"),
}
# From this size on, the dashboard lays panels out three columns wide
WIDE_LAYOUT = (160, 45)
PANEL_COMMANDS = {"api": Feed.APISERVER, "etcd": Feed.ETCD, "nodes": Feed.NODES, "restarts": Feed.RESTARTS}


class Dashboard(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("colon", "command", "Cmd", show=False),
        Binding("z", "zoom", "Zoom", show=False),
        *(
            Binding(key, f"open('{name}')", label, show=False)
            for name, (_, _, key, label) in SCREEN_COMMANDS.items()
            if key
        ),
        Binding("d", "diagnose", "Diagnose"),
    ]
    # Zoomed (z), the header, the key hints and the prompt stay: the keys still work
    ALLOW_IN_MAXIMIZED_VIEW = "HeaderBar, KeyHints, #promptbar"
    DEFAULT_CSS = """
    Dashboard #grid {
        layout: grid;
        grid-size: 2 3;
        grid-rows: 3fr 2fr 2fr;
        grid-columns: 1fr 1fr;
        grid-gutter: 0 1;
    }
    Dashboard #api-heatmap, Dashboard #restarts-table { column-span: 2; }
    /* Wide and tall (WIDE_LAYOUT): etcd beside the heatmap, nodes beside the restarts, so
       every panel gets the height for more rows instead of empty columns */
    Dashboard.-wide #grid { grid-size: 3 2; grid-rows: 1fr 1fr; grid-columns: 2fr 1fr 1fr; }
    Dashboard.-wide #api-heatmap { column-span: 2; }
    Dashboard.-wide #restarts-table { column-span: 2; }
    Dashboard HeaderBar { dock: top; }
    Dashboard #promptbar { dock: bottom; display: none; height: 1; }
    Dashboard.prompting #promptbar { display: block; }
    Dashboard #prompt-mode { width: 2; padding: 0 0 0 1; color: $accent; text-style: bold; }
    Dashboard #prompt { width: 1fr; height: 1; border: none; padding: 0 1 0 0; }
    /* The prompt and the key hints share the bottom line: the prompt wins while it is open. */
    Dashboard.prompting KeyHints { display: none; }
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        # Held, not queried: the app updates it even while the screen is being torn down.
        self.header = HeaderBar(id="header")
        self.banner = IncidentBanner(id="incident")
        self.incident_step = 0  # the guided-diagnosis step of the top cause
        self._incident_seen: tuple[tuple[str, float], ...] = ()
        self._prompt_mode = ""
        t = settings.thresholds
        # Which panel shows which feed: the app routes updates through this map, not DOM ids.
        self._panels: dict[str, FactPanel[Any]] = {
            Feed.APISERVER: ApiHeatmap(t, id="api-heatmap"),
            Feed.ETCD: EtcdPanel(
                (t.etcd_wal_fsync_p99, t.etcd_wal_fsync_p99_limit),
                (t.etcd_backend_commit_p99, t.etcd_backend_commit_p99_limit),
                t.etcd_db_quota_ratio,
                id="etcd-panel",
            ),
            Feed.NODES: NodeBars(t.node_saturation, id="node-bars"),
            Feed.RESTARTS: RestartsTable(id="restarts-table"),
        }

    @property
    def k8stop(self) -> Host:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.banner
        with Container(id="grid"):
            yield from self._panels.values()
        with Horizontal(id="promptbar"):
            yield Label(":", id="prompt-mode")
            yield Input(id="prompt")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self._panels[Feed.APISERVER].focus()
        self.set_interval(1.0, self.update_incident)
        self.watch(self, "maximized", lambda _maximized: self.show_hints(), init=False)
        self.call_after_refresh(self.show_hints)

    def show_hints(self) -> None:
        """The bottom line follows focus, zoom and filter (k9s-style context keys)."""
        from k8stop.tui.dashboard_hints import dashboard_hints

        self.query_one(KeyHints).hints = dashboard_hints(self)

    def on_descendant_focus(self) -> None:
        self.show_hints()

    def on_screen_resume(self) -> None:
        self.show_hints()

    def update_incident(self) -> None:
        """Diagnose the latest updates and show the top causes in the banner (only when an
        update arrived since the last time: an idle dashboard diagnoses nothing)."""
        app = self.k8stop
        seen = tuple((feed, update.at) for feed, update in app.latest.items())
        if not seen or seen == self._incident_seen:
            return
        self._incident_seen = seen
        from k8stop.queries.report import make_report
        from k8stop.queries.rules.incident import incident

        found = incident(make_report(app.snapshot(), app.settings), max(20, self.size.width - 2))
        self.incident_step = found.step
        self.banner.show(found)

    def on_resize(self) -> None:
        self.header.refresh()  # it says when the terminal is too small for the panels
        self.set_class(self.size.width >= WIDE_LAYOUT[0] and self.size.height >= WIDE_LAYOUT[1], "-wide")

    def panels(self) -> Mapping[str, FactPanel[Any]]:
        """Feed -> the panel showing it."""
        return self._panels

    # --- navigation -----------------------------------------------------------------------

    def action_back(self) -> None:
        if self.has_class("prompting"):
            self._close_prompt()
            return
        focused = self.focused
        if isinstance(focused, FactPanel) and focused.filter_text:
            focused.filter_text = ""
            self.show_hints()
            return
        if self.maximized is not None:
            self.minimize()
            return
        self.k8stop.open_fleet()  # a fleet session goes back to its overview

    def on_fact_panel_selected(self, message: FactPanel.Selected) -> None:
        from k8stop.tui.screens.drill import drill_screen

        self.app.push_screen(drill_screen(message.key))

    def action_zoom(self) -> None:
        """Maximise the focused panel (Enter drills down instead); Esc restores the grid."""
        if self.maximized is not None:
            self.minimize()
        elif isinstance(self.focused, FactPanel):
            self.maximize(self.focused, container=False)

    def action_diagnose(self) -> None:
        from k8stop.tui.screens.diagnosis import DiagnosisScreen

        self.update_incident()  # open on the step of the cause the banner shows now
        self.app.push_screen(DiagnosisScreen(start_step=self.incident_step))

    def action_open(self, name: str) -> None:
        module, cls, _, _ = SCREEN_COMMANDS[name]
        screen = getattr(importlib.import_module(f".screens.{module}", __package__), cls)
        self.app.push_screen(screen())

    def focus_panel(self, feed: Feed, maximize: bool = False) -> None:
        panel = self.panels()[feed]
        if self.maximized is not None:
            self.minimize()
        panel.focus()
        if maximize:
            self.maximize(panel, container=False)

    # --- prompt: ':' commands and '/' filters -------------------------------------------------

    def action_filter(self) -> None:
        if isinstance(self.focused, FactPanel):
            self._open_prompt("/", self.focused.filter_text)

    def action_command(self) -> None:
        self._open_prompt(":", "")

    def _open_prompt(self, mode: str, value: str) -> None:
        self._prompt_mode = mode
        self._return_focus = self.focused
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = (
            "filter rows (esc clears)"
            if mode == "/"
            else "ctx NAME | ns NAME | cluster [NAME] | pods | window 6h | since 14:05 | nodes | etcd | api | kpi | alerts | sched | config | workloads | path "
            "| events | refresh N | q"
        )
        prompt.value = value
        self.query_one("#prompt-mode", Label).update(mode)
        self.add_class("prompting")
        prompt.focus()

    def _close_prompt(self) -> None:
        self.remove_class("prompting")
        target = getattr(self, "_return_focus", None)
        if target is not None and target.is_attached:
            target.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        target = getattr(self, "_return_focus", None)
        if self._prompt_mode == "/" and isinstance(target, FactPanel):
            target.filter_text = event.value
            self.show_hints()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode = self._prompt_mode
        self._close_prompt()
        if mode == ":":
            self.run_command(event.value.strip())

    def _set_window(self, verb: str, text: str) -> None:
        from k8stop.queries.drill.window import WindowError, parse_since, parse_span

        try:
            view = parse_span(text) if verb == "window" else parse_since(text, self.k8stop.now())
        except WindowError as exc:
            self.notify(str(exc), severity="error", markup=False)  # quotes what the user typed
            return
        self.k8stop.set_view(view)

    def run_command(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        verb, args = words[0].lower(), words[1:]
        if verb in ("q", "quit", "exit"):
            self.app.exit()
        elif verb in SCREEN_COMMANDS:
            self.action_open(verb)
        elif verb in PANEL_COMMANDS:
            self.focus_panel(PANEL_COMMANDS[verb], maximize=True)
        elif verb in ("ctx", "context") and len(args) == 1:
            self.k8stop.switch(context=args[0])
        elif verb in ("ctx", "context") and not args:
            from k8stop.tui.contexts import available_contexts

            self.notify(available_contexts(self.k8stop.settings), timeout=10, markup=False)
        elif verb == "cluster" and len(args) == 1:
            self.k8stop.scope_cluster(args[0])
        elif verb == "cluster" and not args and not self.k8stop.open_fleet():
            self.notify("not a fleet: the backend holds one cluster (or no cluster label)", severity="warning")
        elif verb in ("ns", "namespace") and len(args) == 1:
            self.k8stop.switch(namespace=None if args[0] in ("all", "-A") else args[0])
        elif verb in ("window", "since") and len(args) == 1:
            self._set_window(verb, args[0])
        elif verb == "refresh" and len(args) == 1:
            try:
                seconds = float(args[0])
            except ValueError:
                seconds = -1
            if seconds < 0.5:
                self.notify("refresh needs a number of seconds >= 0.5", severity="error")
            else:
                self.k8stop.set_refresh(seconds)
        else:
            # The line is what the user typed (`:x[/]`): shown as typed, never parsed as markup
            self.notify(f"unknown command ':{line}' (press ? for help)", severity="error", markup=False)
