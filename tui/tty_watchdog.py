"""End the app when its terminal is gone.

A dropped SSH session without SIGHUP (nohup, a shell that ignores it, some multiplexers)
leaves stdin at EOF. Textual's Linux driver then spins: select() says readable, read()
returns nothing, forever, at 100 % CPU. The poll here does not read, so it never steals
input from the driver; it only asks the kernel whether the terminal hung up.
"""
from __future__ import annotations

import select
import sys

from textual.app import App

CHECK_SECONDS = 1.0
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def terminal_lost(fd: int) -> bool:
    poller = select.poll()
    try:
        poller.register(fd, select.POLLIN)
        events = poller.poll(0)
    except (OSError, ValueError):
        return True
    return any(mask & _GONE for _, mask in events)


def watch_terminal(app: App[object]) -> None:
    """From on_mount: check stdin every second; exit the app once the terminal hung up."""
    stdin = sys.__stdin__
    if app.is_headless or stdin is None:
        return
    fd = stdin.fileno()

    def check() -> None:
        if terminal_lost(fd):
            app.exit()

    app.set_interval(CHECK_SECONDS, check, name="tty-watchdog")
