"""Which keys the dashboard's bottom line offers, from what is on screen now: a focused panel
(drill down, filter or clear it, zoom or restore), the screens one key away, and the app's
own shown keys (the replay's play and seek keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from k8stop.widgets.fact_panel import FactPanel
from k8stop.widgets.key_hints import Hint

if TYPE_CHECKING:
    from textual.screen import Screen

# Actions the dashboard names itself; any other shown binding is appended (the replay's keys)
OWN_ACTIONS = {"select", "filter", "back", "zoom", "diagnose", "help", "quit", "command"}


def dashboard_hints(screen: Screen[None]) -> tuple[Hint, ...]:
    focused = screen.focused
    panel = focused if isinstance(focused, FactPanel) else None
    zoomed = screen.maximized is not None
    hints = []
    if panel is not None:
        hints.append(Hint("⏎", "Drill", 1))
        hints.append(Hint("esc", "Clear filter", 2) if panel.filter_text else Hint("/", "Filter", 3))
        hints.append(Hint("z", "Restore" if zoomed else "Zoom", 2))
    if zoomed:
        hints.append(Hint("esc", "Back", 2))
    else:
        hints.append(Hint("tab", "Panel", 4))
    # Before the screens one key away: at equal priority those go first when room is short
    offered: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.show and binding.action.split("(")[0] not in OWN_ACTIONS and binding.action not in offered:
            offered.add(binding.action)  # one hint per action, whatever keys it has
            key = binding.key_display or screen.app.get_key_display(binding)
            hints.append(Hint(key, binding.description, 3))
    hints += [Hint("s", "KPIs", 3), Hint("a", "Alerts", 3), Hint("c", "Sched", 4), Hint("d", "Diagnose", 2)]
    hints += [Hint(":", "Cmd", 5), Hint("?", "Help", 1), Hint("q", "Quit", 5)]
    return tuple(hints)
