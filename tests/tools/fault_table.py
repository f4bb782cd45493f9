"""Run the fault-injection suite and write its table into the README (between the markers).

    python3 tests/tools/fault_table.py [--readme README.md] [-k PYTEST_EXPRESSION]

With -k only the matching faults run; their rows replace the rows of the same title in the
README's table (new ones are appended) and the other rows stay as they were.

Exit code: pytest's, so CI fails when a fault is not survived.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

TESTS = Path(__file__).resolve().parent.parent
START, END = "<!-- fault-table:start -->", "<!-- fault-table:end -->"
TABLE_HEAD = ["| Fault | Survived | Recovery after the fault ended | Note |", "|---|---|---|---|"]


def row_line(row: dict[str, object]) -> str:
    recovery = row["recovery"]
    shown = f"{recovery:.1f} s" if isinstance(recovery, float) else "— (fix the setting)"
    survived = "yes" if row["survived"] else "**no**"
    note = str(row.get("note") or "").replace("|", "\\|")
    return f"| {row['title']} | {survived} | {shown} | {note} |"


def markdown(rows: list[dict[str, object]], kept: Sequence[str] = ()) -> str:
    """The table: `kept` lines (from the README) with rows of the same title replaced, then new rows."""
    fresh = {str(row["title"]): row_line(row) for row in rows}
    lines = [fresh.pop(_title(line), line) for line in kept]
    return "\n".join(TABLE_HEAD + lines + list(fresh.values())) + "\n"


def _title(line: str) -> str:
    return line.split("|")[1].strip() if line.count("|") >= 2 else line


def table_rows(section: str) -> list[str]:
    """The data rows of the table already in the README section."""
    return [line for line in section.splitlines() if line.startswith("| ") and line not in TABLE_HEAD]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=TESTS.parent / "README.md")
    parser.add_argument("-k", dest="select", help="run only these faults (pytest -k) and update their rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "faults.jsonl"
        env = {**os.environ, "K8STOP_FAULT_RESULTS": str(results)}
        command = [sys.executable, "-m", "pytest", "-q", str(TESTS / "test_faults.py")]
        if args.select:
            command += ["-k", args.select]
        code = subprocess.call(command, env=env, cwd=TESTS.parent)
        rows = [orjson.loads(line) for line in results.read_bytes().splitlines()] if results.exists() else []
    header = (
        "Produced by `python3 tests/tools/fault_table.py` from `tests/test_faults.py`: the whole app "
        "(80x24, refresh 0.5 s, query timeout 1 s) against a real Prometheus behind a fault-injecting "
        "proxy and the kube-API test server. Each fault is held for several refreshes; recovery is "
        "the time from the fault ending to fresh data in every panel. Prometheus feeds retry at the "
        "refresh interval; the kube list/watch backs off from 1 s (doubling with jitter, at most 30 s; "
        "Retry-After obeyed within 1-300 s), also when a 410 Gone follows a relist or the server ends "
        "every watch at once, so a failing or hostile API server is not hammered with re-lists; this "
        "bounds kube recovery. Rows with a MiB cap ran with max_response_mib 16 and "
        "max_watch_line_mib 4.\n\n"
    )
    readme = args.readme.read_text(encoding="utf-8")
    before, _, rest = readme.partition(START)
    section, _, after = rest.partition(END)
    if not rest:
        raise SystemExit(f"{args.readme} has no {START} marker")
    kept = table_rows(section) if args.select else []
    args.readme.write_text(before + START + "\n" + header + markdown(rows, kept) + END + after, encoding="utf-8")
    print(f"wrote the fault table into {args.readme} ({len(rows)} faults)")
    return code


if __name__ == "__main__":
    sys.exit(main())
