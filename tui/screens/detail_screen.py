"""Base of the drill-down screens: load in a worker, "loading…" meanwhile, one error line on
failure, `r` to fetch again, Esc back to the dashboard exactly as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from k8stop.queries.drill.common import RangeWindow
from k8stop.queries.model.errors import describe
from k8stop.tui.screens.sub_screen import SubScreen
from k8stop.tui.screens.wide import side_by_side
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from k8stop.queries.drill.data import DrillData


class DetailScreen(SubScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    DetailScreen #state { height: auto; padding: 0 1; }
    DetailScreen #state.error { color: $error; text-style: bold; }
    DetailScreen #body { height: 1fr; }
    DetailScreen #content { height: auto; }
    DetailScreen .block { height: auto; padding: 0 1; margin-bottom: 1; }
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.heading = title
        self.texts: list[str] = []  # plain text of every block shown: what tests and users read
        self.loaded = False  # the last load finished (with content or with its error line)

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
        content = self.query_one("#content", Vertical)
        await content.remove_children()
        self.texts = [w.plain for w in widgets if isinstance(w, TextBlock)]
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
        return data.note

    def window(self, points: int | None = None) -> RangeWindow:
        # One point per chart column (less the axis) keeps the answer as small as the chart.
        width = points or max(20, min(120, self.size.width - 12))
        return RangeWindow.ending(self.k8stop.now(), 3600.0, width)

    def text_of(self) -> str:
        return "\n".join(self.texts)


class TextBlock(Static):
    """A block of text whose plain form is kept for tests and copy-paste."""

    def __init__(self, text: Text | str) -> None:
        rich = text if isinstance(text, Text) else Text(text)
        super().__init__(rich, classes="block")
        self.plain = rich.plain
