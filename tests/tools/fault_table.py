"""Run the fault-injection suite and write its table into the README (between the markers).

    python3 tests/tools/fault_table.py [--readme README.md]

Exit code: pytest's, so CI fails when a fault is not survived.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

TESTS = Path(__file__).resolve().parent.parent
START, END = "<!-- fault-table:start -->", "<!-- fault-table:end -->"


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| Fault | Survived | Recovery after the fault ended | Note |",
        "|---|---|---|---|",
    ]
    for row in rows:
        recovery = row["recovery"]
        shown = f"{recovery:.1f} s" if isinstance(recovery, float) else "— (fix the setting)"
        survived = "yes" if row["survived"] else "**no**"
        note = str(row.get("note") or "").replace("|", "\\|")
        lines.append(f"| {row['title']} | {survived} | {shown} | {note} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=TESTS.parent / "README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "faults.jsonl"
        env = {**os.environ, "K8STOP_FAULT_RESULTS": str(results)}
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "-q", str(TESTS / "test_faults.py")], env=env, cwd=TESTS.parent
        )
        rows = [orjson.loads(line) for line in results.read_bytes().splitlines()] if results.exists() else []
    header = (
        "Produced by `python3 tests/tools/fault_table.py` from `tests/test_faults.py`: the whole app "
        "(80x24, refresh 0.5 s, query timeout 1 s) against a real Prometheus behind a fault-injecting "
        "proxy and the kube-API test server. Each fault is held for several refreshes; recovery is "
        "the time from the fault ending to fresh data in every panel. Prometheus feeds retry at the "
        "refresh interval; the kube list/watch backs off from 1 s (doubling, at most 30 s) so a "
        "failing API server is not hammered with re-lists, which bounds kube recovery.\n\n"
    )
    readme = args.readme.read_text(encoding="utf-8")
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    if not rest:
        raise SystemExit(f"{args.readme} has no {START} marker")
    args.readme.write_text(before + START + "\n" + header + markdown(rows) + END + after, encoding="utf-8")
    print(f"wrote the fault table into {args.readme} ({len(rows)} faults)")
    return code


if __name__ == "__main__":
    sys.exit(main())
