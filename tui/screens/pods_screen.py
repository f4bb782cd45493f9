"""`:pods`: every synced pod (namespace, node, phase, restarts, reason, age), filterable,
failing pods first; Enter opens the pod drill-down. Virtualised: only the visible rows are
drawn, and a filter keystroke searches precomputed keys, so 150,000 pods stay responsive."""

from __future__ import annotations

from typing import ClassVar

from k8stop.queries.kube.pod_list import PodList
from k8stop.queries.model.facts import PodRecord
from k8stop.tui.screens.sub_screen import SubScreen
from k8stop.widgets.pod_table import PodTable
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

NO_PODS = "the pod list needs the kube API's pods (live, or a recording with kube records)"


class PodsScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    PodsScreen #pod-filter { height: 1; border: none; padding: 0 1; }
    PodsScreen #pod-count { height: 1; padding: 0 1; color: $text-muted; }
    PodsScreen PodTable { padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.pods: PodList | None = None

    def compose(self) -> ComposeResult:
        yield Static("pods   (/ filter: words, ns: node: phase: reason:; enter drill down)", id="title")
        yield Input(placeholder="/ filter, e.g. crashloop  ns:shop  node:worker-3", id="pod-filter")
        yield Static("loading…", id="pod-count", markup=False)
        yield PodTable(id="pod-table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PodTable).focus()
        self.action_reload()

    def action_reload(self) -> None:
        records = self.k8stop.drill().pods()
        if records is None:
            self.query_one("#pod-count", Static).update(NO_PODS)
            return
        self.query_one("#pod-count", Static).update(f"loading {len(records):,} pods…")
        self._build(records, self.query_one("#pod-filter", Input).value)

    @work(exclusive=True, group="pods", thread=True, exit_on_error=False)
    def _build(self, records: tuple[PodRecord, ...], text: str) -> None:
        """Rows, order and search keys off the event loop: seconds at 150,000 pods, and keys
        must keep answering meanwhile."""
        pods = PodList(records)
        pods.filter(text)
        self.app.call_from_thread(self._show, pods)

    def _show(self, pods: PodList) -> None:
        self.pods = pods
        pods.filter(self.query_one("#pod-filter", Input).value)  # typed while it was building
        self.query_one(PodTable).show(pods, self.k8stop.now())
        self._count()

    def _count(self) -> None:
        pods = self.pods
        if pods is None:
            return
        failing = sum(1 for i in pods.matches[:1000] if pods.rows[i].failing)  # failing sort first
        shown = f"{len(pods.matches):,} of {len(pods.rows):,} pods"
        self.query_one("#pod-count", Static).update(f"{shown}, {failing:,} failing now" if failing else shown)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one(PodTable).set_filter(event.value)
        self._count()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(PodTable).focus()

    def on_pod_table_selected(self, message: PodTable.Selected) -> None:
        from k8stop.tui.screens.drill import drill_screen

        self.app.push_screen(drill_screen(message.key))

    def action_filter(self) -> None:
        self.query_one("#pod-filter", Input).focus()

    def action_back(self) -> None:
        filter_input = self.query_one("#pod-filter", Input)
        if filter_input.has_focus:
            self.query_one(PodTable).focus()
            return
        self.dismiss(None)
