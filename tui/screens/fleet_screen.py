"""The fleet overview: with a backend holding several clusters and no --cluster, the app opens
here. One row per cluster, worst first; Enter scopes the dashboard to it, Esc goes back.

It reads the backend through its own unscoped client: two requests per refresh whatever the
fleet's size (queries/prom/fleet.py), every `refresh` seconds but not faster than MIN_REFRESH.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from k8stop.queries.model.errors import describe
from k8stop.queries.model.fleet import FleetFacts
from k8stop.tui.screens.sub_screen import SubScreen
from k8stop.widgets.fleet_table import FleetTable
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from k8stop.queries.prom.client import PromClient

# By-cluster queries over a whole fleet are heavier than one cluster's: not more often than this.
MIN_REFRESH = 5.0


class FleetScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    FleetScreen #state { height: auto; padding: 0 1; }
    FleetScreen #state.error { color: $error; text-style: bold; }
    """

    def __init__(self, clusters: tuple[str, ...]) -> None:
        super().__init__()
        self.clusters = clusters
        self.facts: FleetFacts | None = None
        self.loaded = False
        self._client: PromClient | None = None

    def compose(self) -> ComposeResult:
        label = self.k8stop.settings.cluster_label
        title = f"fleet: {len(self.clusters)} clusters by label {label}   (enter open, esc back, r reload)"
        yield Static(title, id="title", markup=False)
        yield Static("loading…", id="state", markup=False)
        yield FleetTable(id="fleet")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FleetTable).focus()
        self.set_interval(max(self.k8stop.settings.refresh, MIN_REFRESH), self.action_reload)
        self.action_reload()

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.close()

    def action_reload(self) -> None:
        self._load()

    @work(exclusive=True, group="fleet", exit_on_error=False)
    async def _load(self) -> None:
        from k8stop.queries.prom.client import PromClient
        from k8stop.queries.prom.context import PromContext
        from k8stop.queries.prom.fleet import fleet_measures
        from k8stop.queries.rules.fleet import fleet_rows

        state = self.query_one("#state", Static)
        settings = replace(self.k8stop.settings, cluster=None)  # the whole fleet, never one cluster
        try:
            if self._client is None:
                self._client = PromClient.from_settings(settings)
            measures = await fleet_measures(PromContext(self._client, settings))
        except Exception as exc:  # one line, and the last rows stay
            state.update(f"✖ {describe(exc)}")
            state.add_class("error")
            self.loaded = True
            return
        self.facts = fleet_rows(measures, self.clusters, settings.thresholds)
        self.query_one(FleetTable).show(self.facts)
        warning = f"  ⚠ {measures.warnings[0]}" if measures.warnings else ""
        state.update(f"● live {time.strftime('%H:%M:%S')}, worst first{warning}")
        state.remove_class("error")
        self.loaded = True

    @on(FleetTable.RowSelected)
    def _scope(self, event: FleetTable.RowSelected) -> None:
        """Enter on a row (the table's own binding): the dashboard, scoped to that cluster."""
        cluster = self.query_one(FleetTable).selected_cluster
        if cluster is not None:
            self.dismiss()
            self.k8stop.scope_cluster(cluster)

    def action_back(self) -> None:
        """Back to the dashboard, when it has a cluster to show (unscoped it would mix them)."""
        if self.k8stop.settings.cluster is not None:
            self.dismiss()
        else:
            self.notify("choose a cluster (enter), or q to quit", markup=False)
