"""Read what a running Textual app shows: the composited screen as plain text lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from polling import until

S = TypeVar("S")


def screen_lines(app: Any) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until `condition()` holds; fail with the screen when it never does."""
    await until(
        condition,
        timeout,
        lambda: f"timed out waiting for {what or condition}:\n{screen_text(pilot.app)}",
        lambda: pilot.pause(0.1),
    )


async def wait_for_facts(pilot: Any, feed: str, what: str = "") -> None:
    """Let the app run until the feed has delivered facts (a status alone does not count)."""
    app = pilot.app

    def served() -> bool:
        update = app.latest.get(feed)
        return update is not None and update.facts is not None

    await wait_for(pilot, served, what=what or feed)


async def open_screen(pilot: Any, key: str, kind: type[S], what: str) -> S:
    """Press `key` and wait until the app shows a screen of `kind`; return that screen."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind), what=what)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen
