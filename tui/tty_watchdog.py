"""End the app when its terminal is gone.

A dropped SSH session without SIGHUP (nohup, a shell that ignores it, some multiplexers)
leaves stdin at EOF. Textual's Linux driver then spins: select() says readable, read()
returns nothing, forever, at 100 % CPU. A daemon thread blocks in poll() on stdin with no
events requested, so it never steals input from the driver and costs nothing while it
waits: the kernel wakes it only when the terminal hangs up, and it asks the app to exit.
"""

from __future__ import annotations

import select
import sys
import threading
from typing import Any

from textual.app import App

_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def terminal_lost(fd: int, timeout_ms: int | None = 0) -> bool:
    """Whether the terminal on fd hung up; with timeout_ms=None, block until it does."""
    poller = select.poll()
    try:
        poller.register(fd, 0)  # hang-ups and errors are always reported, input never
        events = poller.poll(timeout_ms)
    except (OSError, ValueError):
        return True
    return any(mask & _GONE for _, mask in events)


def watch_terminal(app: App[Any]) -> None:
    """From on_mount: exit the app as soon as the terminal hangs up."""
    stdin = sys.__stdin__
    if app.is_headless or stdin is None:
        return
    fd = stdin.fileno()

    def wait_for_hang_up() -> None:
        while not terminal_lost(fd, None):
            pass
        try:
            app.call_from_thread(app.exit)
        except RuntimeError:  # the app already stopped
            pass

    threading.Thread(target=wait_for_hang_up, name="tty-watchdog", daemon=True).start()
