"""Command-line entry point."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        print(f"k8stop {version('k8stop')}")
        return 0
    return 0
