"""A refresh that moves one number repaints one line: over SSH a whole-panel repaint for each
poll is what pushed the 200x60 dashboard past 1 KiB/s of terminal output when idle."""

from __future__ import annotations

from typing import Any

from facts_builders import node, nodes
from k8stop.queries.model.facts import NodesFacts
from k8stop.queries.model.status import FeedState, FeedStatus
from k8stop.widgets.node_bars import NodeBars
from screen import screen_text, wait_for
from textual.app import App, ComposeResult
from textual.geometry import Region


class PanelApp(App[None]):
    def compose(self) -> ComposeResult:
        yield NodeBars((0.7, 0.85, 0.95), id="panel")


def record_refreshes(panel: NodeBars) -> list[tuple[Region, ...]]:
    """Every refresh the panel asks for, with its dirty regions (() means the whole panel)."""
    calls: list[tuple[Region, ...]] = []
    refresh = panel.refresh

    def recording(*regions: Region, **kwargs: Any) -> Any:
        calls.append(regions)
        return refresh(*regions, **kwargs)

    panel.refresh = recording  # type: ignore[method-assign]
    return calls


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


async def drawn(pilot: Any, *cpus: float) -> NodeBars:
    """The panel live and showing node-a, node-b… at these CPU shares."""
    panel = pilot.app.query_one(NodeBars)
    panel.status = FeedStatus(FeedState.OK)
    panel.facts = three_nodes(*cpus)
    last = f"node-{'abc'[len(cpus) - 1]}"
    await wait_for(pilot, lambda: last in screen_text(pilot.app), what="the first facts drawn")
    return panel


def three_nodes(*cpus: float) -> NodesFacts:
    return nodes(*(node(f"node-{name}", cpu=cpu) for name, cpu in zip("abc", cpus, strict=False)))


async def test_one_changed_number_repaints_one_line() -> None:
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await drawn(pilot, 0.6, 0.4, 0.2)
        calls = record_refreshes(panel)

        panel.facts = three_nodes(0.6, 0.45, 0.2)
        await wait_for(pilot, lambda: "45%" in " ".join(lines_with(screen_text(app), "node-b")), what="node-b at 45%")
        assert len(calls) == 1 and len(calls[0]) == 1, calls
        (region,) = calls[0]
        assert region.height == 1 and region.width == panel.size.width
        # The dirty line is node-b's row, and the rows around it still show their own values
        assert "node-b" in screen_text(app).splitlines()[region.y]
        assert "60%" in lines_with(screen_text(app), "node-a")[0]
        assert "20%" in lines_with(screen_text(app), "node-c")[0]

        calls.clear()
        panel.facts = three_nodes(0.6, 0.45, 0.2)
        await pilot.pause()
        assert calls == [], "equal facts repainted something"


async def test_rows_that_go_away_are_cleared() -> None:
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await drawn(pilot, 0.6, 0.4, 0.2)
        panel.facts = three_nodes(0.6)
        await wait_for(pilot, lambda: "node-b" not in screen_text(app), what="node-b gone")
        assert "node-c" not in screen_text(app)
        assert "node-a" in screen_text(app)


async def test_status_change_repaints_the_title_only() -> None:
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await drawn(pilot, 0.6, 0.4)
        calls = record_refreshes(panel)
        panel.status = FeedStatus(FeedState.ERROR, reason="connection refused")
        await wait_for(pilot, lambda: "ERROR" in screen_text(app).splitlines()[0], what="the error in the title")
        assert calls and all(len(regions) == 1 and regions[0].y == 0 for regions in calls), calls
        assert "node-b" in screen_text(app)
