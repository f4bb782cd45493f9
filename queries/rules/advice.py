"""Commands inside advice: shown on their own lines, never wrapped, so they can be copied."""

from __future__ import annotations

import re

# A command in advice is a backticked span with arguments; shown on its own line, never
# wrapped, so it can be copied whole.
_COMMAND = re.compile(r"`([^`]*\s[^`]*)`")


def split_commands(advice: str) -> tuple[str, tuple[str, ...]]:
    """The advice with each long command replaced by "[cmd N]", and the commands in order."""
    commands: list[str] = []

    def mark(match: re.Match[str]) -> str:
        if len(match[1]) < 40:  # short ones read fine inline
            return match[0]
        commands.append(match[1])
        return f"[cmd {len(commands)}]"

    return _COMMAND.sub(mark, advice), tuple(commands)
