"""The bottom line: the keys that matter on this screen now, as k9s shows them.

Each hint has a priority; when the line is too long for the terminal, the least important
hints are left out whole (never cut mid-word), the rest keep their order.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class Hint(NamedTuple):
    key: str  # as shown: "⏎", "tab", "s"
    label: str
    priority: int = 3  # 1 is kept longest


def fit_hints(hints: tuple[Hint, ...], width: int) -> tuple[list[Hint], int]:
    """The hints that fit in `width` and the gap between them: two spaces, else one, else
    the lowest priority hints are left out (the last first); the rest keep their order."""
    shown = list(hints)

    def length(gap: int) -> int:
        return sum(len(h.key) + 1 + len(h.label) for h in shown) + gap * len(shown)

    while shown and length(1) > width:
        worst = max(range(len(shown)), key=lambda i: (shown[i].priority, i))
        del shown[worst]
    return shown, 2 if length(2) <= width else 1


class KeyHints(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-hints--key"}
    DEFAULT_CSS = """
    KeyHints { dock: bottom; height: 1; background: $panel; color: $text; }
    KeyHints > .key-hints--key { color: $accent; text-style: bold; }
    """

    hints: reactive[tuple[Hint, ...]] = reactive(())

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-hints--key")
        line = Text(" ")
        shown, gap = fit_hints(self.hints, self.size.width - 1)
        for hint in shown:
            line.append(hint.key, style=key_style)
            line.append(f" {hint.label}" + " " * gap)
        return line
