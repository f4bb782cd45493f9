"""What every screen opened over the dashboard shares: Esc back to it exactly as it was, q to
quit, the title bar's look, and the app as the typed Host."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen

if TYPE_CHECKING:
    from k8stop.tui.host import Host


class SubScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    DEFAULT_CSS = """
    SubScreen #title { background: $primary; color: $text; text-style: bold; height: 1; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis; }
    """

    @property
    def k8stop(self) -> Host:
        return self.app  # type: ignore[return-value]

    def action_back(self) -> None:
        self.dismiss(None)
