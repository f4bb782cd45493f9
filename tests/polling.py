"""Waiting in a test for what the code under test does in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def until(
    check: Callable[[], bool], limit: float, failed: Callable[[], str], pause: Callable[[], Awaitable[object]]
) -> None:
    """Let the code under test run (`pause`) until `check()` holds. The limit only stops a broken
    run from hanging; `failed()` says what never happened."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not check():
        if loop.time() > deadline:
            raise AssertionError(failed())
        await pause()


async def eventually(check: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Poll until `check` holds, without an app to pause."""
    await until(check, limit, lambda: f"never happened: {what}", lambda: asyncio.sleep(0.02))
