"""The k8stop Textual app: routes feed updates to the dashboard, owns pause/refresh/recording."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from k8stop.queries.config import Settings
from k8stop.queries.drill.window import ViewWindow
from k8stop.queries.feeds.recording import RecordingError
from k8stop.queries.feeds.registry import Feed
from k8stop.queries.feeds.snapshot_builder import build_snapshot
from k8stop.queries.feeds.source import FeedSource, SourceInfo
from k8stop.queries.model.facts import SOURCE_PROMETHEUS
from k8stop.queries.model.sanitize import clean
from k8stop.queries.model.snapshot import ClusterSnapshot
from k8stop.queries.model.status import FeedUpdate
from k8stop.queries.rules.scheduling import backlog_flag
from k8stop.tui.dashboard import Dashboard
from k8stop.tui.help_screen import HelpScreen
from k8stop.tui.recording_control import RecordingControl
from k8stop.tui.tty_watchdog import watch_terminal
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from k8stop.queries.drill.data import DrillData

REFRESH_STEPS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# Updates kept per feed for drill-down history charts (an hour at the default 2 s refresh).
HISTORY_LENGTH = 1800

SourceFactory = Callable[[Settings], FeedSource]


class K8sTopApp(App[int]):
    TITLE = "k8stop"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        # Textual only hints at ctrl+q on ctrl+c; in a monitor ctrl+c must quit, as in top.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("p", "pause", "Pause", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
        Binding("plus,equals_sign", "slower", "Slower", show=False),
        Binding("minus", "faster", "Faster", show=False),
        Binding("R", "toggle_recording", "Rec", show=False),
        Binding("W", "next_window", "Window", show=False),
    ]
    # Mouse tracking is optional: k8stop is keyboard-first and any-event tracking costs bytes over SSH.
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, settings: Settings, make_source: SourceFactory) -> None:
        super().__init__()
        self.settings = settings
        self._make_source = make_source
        self.source: FeedSource = make_source(settings)
        self.latest: dict[str, FeedUpdate[Any]] = {}
        self.history: dict[str, deque[FeedUpdate[Any]]] = {}
        self.info = self.source.info
        self.paused = False
        self.api_source = SOURCE_PROMETHEUS  # where the API panel's last facts came from
        self.listeners: list[Callable[[FeedUpdate[Any]], None]] = []
        self.recording = RecordingControl(lambda: self.info, self.listeners)
        self.diagnose_on_start = False  # `k8stop diagnose`: open the guided session first
        self.view = ViewWindow()  # the time window of charts and the heatmap
        self.fleet: tuple[str, ...] = ()  # the clusters of a fleet backend (queries/prom/scope.py)

    @property
    def dashboard(self) -> Dashboard:
        return self._dashboard

    async def on_mount(self) -> None:
        self._dashboard = Dashboard(self.settings)
        await self.push_screen(self._dashboard)
        self._apply_info(self.info)
        self.set_interval(1.0, self._tick)
        watch_terminal(self)
        # Start the feeds after the first frame so the screen never waits on imports or I/O.
        self.call_after_refresh(self._start_source)

    def _start_source(self) -> None:
        from k8stop.queries.feeds.fleet import could_be_fleet

        if self.source.live and could_be_fleet(self.settings):
            self._detect_fleet()  # starts the source, or opens the fleet screen to choose a cluster
        else:
            self._begin_feeds()

    def _begin_feeds(self) -> None:
        self._run_source(self.source)
        if self.diagnose_on_start:
            self._dashboard.action_diagnose()

    @work(exclusive=True, group="fleet-probe", exit_on_error=False)
    async def _detect_fleet(self) -> None:
        """One cheap call: with several clusters behind the backend, the dashboard would mix
        them, so the app opens on the fleet overview instead and starts the feeds once scoped."""
        from k8stop.queries.feeds.fleet import detect_fleet

        try:
            self.fleet = await detect_fleet(self.settings)
        finally:  # whatever the call did, the app shows something: the overview or the feeds
            if len(self.fleet) > 1:
                self._dashboard.header.cluster = f"none of {len(self.fleet)} chosen"
                self.open_fleet()
            else:
                self._begin_feeds()

    def open_fleet(self) -> bool:
        if len(self.fleet) < 2:
            return False
        from k8stop.tui.screens.fleet_screen import FleetScreen

        self.push_screen(FleetScreen(self.fleet))
        return True

    def scope_cluster(self, cluster: str) -> None:
        cluster = clean(cluster)  # typed by the user or read from the backend: shown in the header
        if self.fleet and cluster not in self.fleet:
            self.notify(f"no cluster {cluster} in this fleet (:cluster lists them)", severity="error", markup=False)
            return
        context = self.settings.context_of(cluster)
        self.switch(cluster=cluster, **({"context": context} if context else {}))
        self._dashboard.header.cluster = self.settings.cluster or ""
        if self.diagnose_on_start:  # `k8stop diagnose` on a fleet: once a cluster is chosen
            self.diagnose_on_start = False
            self._dashboard.action_diagnose()

    @work(exclusive=True, group="source", exit_on_error=False)
    async def _run_source(self, source: FeedSource) -> None:
        await source.run(self.publish, self._apply_info)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = clean(f"{event.worker.name}: {type(error).__name__}: {error}")
            self.notify(text, severity="error", timeout=10, markup=False)

    def now(self) -> float:
        return self.source.now()

    def drill(self) -> DrillData:
        """The data drill-down screens read, live or recorded: the source knows which."""
        return self.source.drill(self.latest, self.history, self.settings.thresholds)

    def snapshot(self) -> ClusterSnapshot:
        """The latest update of every feed as one snapshot: what the KPIs and diagnosis grade."""
        info = self.info
        return build_snapshot(
            self.latest,
            self.now(),
            self.settings,
            context=info.context,
            version=info.version,
            prometheus_detail=info.prometheus,
        )

    def publish(self, update: FeedUpdate[Any]) -> None:
        self.latest[update.feed] = update
        if update.facts is not None:
            history = self.history.setdefault(update.feed, deque(maxlen=HISTORY_LENGTH))
            if not history or history[-1].facts is not update.facts:
                history.append(update)
        for listener in self.listeners:
            listener(update)
        source = getattr(update.facts, "source", None) if update.feed is Feed.APISERVER else None
        api_source_changed = isinstance(source, str) and source != self.api_source
        if isinstance(source, str) and api_source_changed:
            self.api_source = source
        if (api_source_changed or update.feed in (Feed.CONTROL_PLANE, Feed.KUBE)) and hasattr(self, "_dashboard"):
            self._update_flags()
        if update.feed is Feed.ALERTS and hasattr(self, "_dashboard"):
            self._dashboard.header.show_alerts(update.facts)
        panel = self._dashboard.panels().get(update.feed) if hasattr(self, "_dashboard") else None
        if panel is not None:
            with self.batch_update():
                panel.facts = update.facts
                panel.status = update.status
                panel.now = self.now()
                panel.mode = self.panel_mode()

    def panel_mode(self) -> str:
        """What the panels say instead of "● live" when their data is not live."""
        return "PAUSED" if self.paused else ""

    def _apply_info(self, info: SourceInfo) -> None:
        self.info = info
        header = self._dashboard.header
        header.context = info.context
        header.version = info.version
        header.prometheus = info.prometheus
        header.refresh_seconds = self.settings.refresh
        # A recording does not say which namespace it watched: no guess in the header
        header.namespace = (self.settings.namespace or "all") if self.source.live else ""
        if info.cluster:  # a scoped live session, or a recording of one
            header.cluster = info.cluster
        self._update_flags()

    def _update_flags(self) -> None:
        flags = list(self.info.flags)
        cp, kube = self.latest.get(Feed.CONTROL_PLANE), self.latest.get(Feed.KUBE)
        backlog = backlog_flag(
            cp.facts if cp is not None else None,
            kube.facts if kube is not None else None,
            self.settings.thresholds.unschedulable_pods,
        )
        if backlog is not None:
            flags.append(clean(backlog))  # it quotes the scheduler's event message
        if self.paused:
            flags.insert(0, "PAUSED")
        if self.recording.active:
            flags.insert(0, "REC")
        if self.api_source != SOURCE_PROMETHEUS:
            flags.append("API via /metrics")  # Prometheus is not answering for it: the API server is
        self._dashboard.header.flags = tuple(flags)

    def _tick(self) -> None:
        now, mode = self.now(), self.panel_mode()
        self._dashboard.header.clock = now
        for panel in self._dashboard.panels().values():
            panel.now = now
            panel.mode = mode

    # --- actions ----------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.source.pause()
        else:
            self.source.resume()
        self._update_flags()
        self._tick()

    def action_toggle_recording(self) -> None:
        if self.recording.active:
            path = self.recording.stop()
            self.notify(f"recording saved to {path}", markup=False)
        else:
            try:
                path = self.recording.start()
            except RecordingError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.notify(f"recording to {path}", markup=False)
        self.sync_recording()

    def sync_recording(self) -> None:
        """Flags in the header, and the records drill-downs need only while recording."""
        self.source.want_records(self.recording.active)
        self._update_flags()

    def on_unmount(self) -> None:
        self.recording.stop()

    def action_next_window(self) -> None:
        self.set_view(self.view.next())

    def set_view(self, view: ViewWindow) -> None:
        """`W`, `:window`, `:since`: charts (and, live, the heatmap) span `view`; an open
        drill-down reloads over it."""
        from k8stop.tui.screens.detail_screen import DetailScreen

        self.view = view
        now = self.now()
        heatmap = self.source.set_history_window(view.seconds(now), view.since)
        note = "" if heatmap else " (the heatmap keeps its recorded window)"
        self.notify(f"charts: {view.label()}{note}", markup=False, timeout=3)
        if isinstance(self.screen, DetailScreen):
            self.screen.action_reload()

    def action_refresh_now(self) -> None:
        self.source.poll_now()

    def set_refresh(self, seconds: float) -> None:
        self.settings = replace(self.settings, refresh=seconds)
        self.source.set_interval(seconds)
        self._dashboard.header.refresh_seconds = seconds

    def action_slower(self) -> None:
        bigger = [s for s in REFRESH_STEPS if s > self.settings.refresh]
        self.set_refresh(bigger[0] if bigger else REFRESH_STEPS[-1])

    def action_faster(self) -> None:
        smaller = [s for s in REFRESH_STEPS if s < self.settings.refresh]
        self.set_refresh(smaller[-1] if smaller else REFRESH_STEPS[0])

    def switch(self, **changes: Any) -> None:
        """`:ctx` / `:ns`: rebuild the sources with new settings; panels keep data until new facts."""
        if not self.source.live:
            self.notify("a recording cannot switch context or namespace", severity="warning")
            return
        if "context" in changes:
            from k8stop.tui.contexts import context_problem

            problem = context_problem(self.settings, changes["context"])
            if problem is not None:  # nothing rebuilt: the session keeps its context
                self.notify(problem, severity="error", timeout=10, markup=False)
                return
        paired = self.settings.cluster_of(changes["context"]) if "context" in changes else None
        if paired is not None and "cluster" not in changes:  # a context paired with a cluster brings it
            changes["cluster"] = paired
            self._dashboard.header.cluster = paired
        self.settings = replace(self.settings, **changes)
        self.source = self._make_source(self.settings)
        self.latest.clear()
        self.history.clear()
        self._run_source(self.source)
        self.sync_recording()
        what = ", ".join(f"{k} {v or 'all'}" for k, v in changes.items())
        self.notify(f"switched to {what}", markup=False)  # what the user typed: never markup
