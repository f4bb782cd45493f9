"""Base of the drill-down screens: load in a worker, "loading…" meanwhile, one error line on
failure, `r` to fetch again, Esc back to the dashboard exactly as it was. Charts span the
app's time window (`W`, `:window`, `:since`); every drill-down ends with the commands to run
next, and `y` shows the PromQL behind its numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from k8stop.queries.drill.common import Chart, RangeWindow
from k8stop.queries.drill.promql import UsedQuery
from k8stop.queries.model.errors import describe
from k8stop.tui.screens.sub_screen import SubScreen
from k8stop.tui.screens.wide import side_by_side
from k8stop.widgets.chart_plot import ChartPlot
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from k8stop.queries.drill.data import DrillData


class DetailScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
        Binding("y", "promql", "PromQL"),
    ]
    DEFAULT_CSS = """
    DetailScreen #state { height: auto; padding: 0 1; }
    DetailScreen #state.error { color: $error; text-style: bold; }
    DetailScreen #body { height: 1fr; }
    DetailScreen .commands-scroll { height: auto; }
    DetailScreen .commands { width: auto; }
    DetailScreen #content { height: auto; }
    DetailScreen .block { height: auto; padding: 0 1; margin-bottom: 1; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.heading = title
        self.texts: list[str] = []  # plain text of every block shown: what tests and users read
        self.loaded = False  # the last load finished (with content or with its error line)
        self.shown: RangeWindow | None = None  # the window the charts span
        self.queries: tuple[UsedQuery, ...] = ()  # the PromQL the last load ran
        self.prometheus_url = ""

    def compose(self) -> ComposeResult:
        # Titles name pods and nodes, the state line echoes servers' errors: data, never markup
        # (a 422 whose message holds brackets once left the screen on "loading…" forever).
        yield Static(self.heading, id="title", markup=False)
        with VerticalScroll(id="body"):
            yield Static("loading…", id="state", markup=False)
            yield Vertical(id="content")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#body").focus()
        self.action_reload()

    def action_reload(self) -> None:
        state = self.query_one("#state", Static)
        state.remove_class("error")
        state.update("loading…")
        self.loaded = False
        self._load()

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def _load(self) -> None:
        state = self.query_one("#state", Static)
        try:
            data = self.k8stop.drill()
            widgets = await self.build(data)
        except Exception as exc:  # every failure becomes one readable line, never a crash
            state.add_class("error")
            state.update(f"✖ could not load: {describe(exc)}  (r to retry)")
            self.loaded = True
            return
        self.queries, self.prometheus_url = data.queries(), data.prometheus_url
        commands = self.commands()
        content = self.query_one("#content", Vertical)
        await content.remove_children()
        self.texts = [w.plain for w in widgets if isinstance(w, TextBlock)]
        if commands:
            block = CommandsBlock(commands)
            self.texts.append(block.plain)
            widgets.append(HorizontalScroll(block, classes="commands-scroll"))
        await content.mount_all(side_by_side(widgets, self.size.width))
        state.update(self.note(data))
        self.loaded = True

    async def build(self, data: DrillData) -> list[Widget]:
        """The screen's widgets, from the drill-down data (fresh queries or recorded updates)."""
        raise NotImplementedError

    def feed_facts(self, feed: str) -> Any:
        """The latest facts of `feed`, None before its first answer or while it has none."""
        latest = self.k8stop.latest.get(feed)
        return latest.facts if latest is not None else None

    def feed_missing(self, feed: str) -> TextBlock:
        """The one line shown in place of `feed`'s facts: why there are none."""
        latest = self.k8stop.latest.get(feed)
        reason = latest.status.reason if latest is not None else "waiting for the first answer"
        return TextBlock(f"{feed.replace('_', '-')} feed: {reason or 'no data'}")

    def from_feed(self, feed: str, draw: Callable[[Any], list[Widget]]) -> list[Widget]:
        """`draw` applied to `feed`'s latest facts, or the line saying why there are none."""
        facts = self.feed_facts(feed)
        return draw(facts) if facts is not None else [self.feed_missing(feed)]

    @staticmethod
    def warned(widgets: list[Widget], warnings: Iterable[str]) -> list[Widget]:
        """The widgets, then one line per warning from the queries that filled them."""
        return widgets + [TextBlock("⚠ " + w) for w in warnings]

    def note(self, data: DrillData) -> str:
        if self.shown is None:  # no charts on this screen
            return data.note
        window = f"charts: {self.k8stop.view.label()}   W next window, :window 6h, :since 14:05"
        return f"{window}\n{data.note}" if data.note else window

    def window(self, points: int | None = None) -> RangeWindow:
        # One point per chart column (less the axis) keeps the answer as small as the chart,
        # whatever the window: the step grows with it.
        width = points or max(20, min(120, self.size.width - 12))
        self.shown = self.k8stop.view.range(self.k8stop.now(), width)
        return self.shown

    def plot(self, chart: Chart) -> ChartPlot:
        """`chart` over the window asked for, with clock times on its axis."""
        shown = self.shown
        return ChartPlot(chart, shown.end, shown.start) if shown is not None else ChartPlot(chart, self.k8stop.now())

    def commands(self) -> tuple[str, ...]:
        """What to run next (shell-quoted, never run by k8stop), from what the load found."""
        return ()

    def action_promql(self) -> None:
        from k8stop.tui.screens.evidence import EvidenceScreen

        self.app.push_screen(
            EvidenceScreen(self.heading, self.queries, self.commands(), self.prometheus_url, self.shown)
        )

    def text_of(self) -> str:
        return "\n".join(self.texts)


KeyT = TypeVar("KeyT")


class RowScreen(DetailScreen, Generic[KeyT]):
    """A drill-down into one dashboard row: opened on the row's typed key, titled from it."""

    HEADING = ""  # a str.format template over `key`

    def __init__(self, key: KeyT) -> None:
        super().__init__(f"{self.HEADING.format(key=key)}   (esc back, r reload)")
        self.key = key


class TextBlock(Static):
    """A block of text whose plain form is kept for tests and copy-paste."""

    def __init__(self, text: Text | str, classes: str = "block") -> None:
        rich = text if isinstance(text, Text) else Text(text)
        super().__init__(rich, classes=classes)
        self.plain = rich.plain


class CommandsBlock(TextBlock):
    """The next commands, each on one unwrapped line (the body scrolls sideways) to copy whole."""

    def __init__(self, commands: tuple[str, ...]) -> None:
        text = Text("next commands (k8stop never runs them; y to copy one):\n", no_wrap=True, overflow="ignore")
        text.append("\n".join(f"  $ {c}" for c in commands))
        super().__init__(text, classes="block commands")
