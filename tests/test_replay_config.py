"""`k8stop replay` grades a recording with the config file's thresholds, exactly as
`k8stop report --replay` does: one recording, one config, one grading."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
from k8stop.queries.report import make_report, render
from k8stop.tui.cli import build_parser, config_settings
from k8stop.tui.replay_command import demo_path, replay_app

# The demo's slow etcd member fsyncs at well over the seed's 10 ms; this config tolerates 2 s.
LENIENT = "thresholds:\n  etcd_wal_fsync_p99: 2.0\n  etcd_wal_fsync_p99_limit: 4.0\n"


def report_replay(*args: str, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "XDG_CONFIG_HOME")}
    env["HOME"] = str(home)  # no user config leaks in
    done = subprocess.run(
        [sys.executable, "-m", "k8stop.tui.cli", "report", "--replay", str(demo_path()), "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=home,
    )
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def fsync_status(doc: dict) -> str:
    return next(k["status"] for k in doc["kpis"] if k["id"] == "etcd.wal_fsync_p99")


async def test_replay_honours_the_config_like_report_replay(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    config = tmp_path / "lenient.yaml"
    config.write_text(LENIENT, encoding="utf-8")
    headless = report_replay("--config", str(config), home=tmp_path)
    default = report_replay(home=tmp_path)
    # The config really changes the grading of this recording...
    assert fsync_status(default) != "ok" and fsync_status(headless) == "ok"

    # ...and the replay app, given the same file, grades the last moment identically.
    args = build_parser("replay").parse_args([str(demo_path()), "--config", str(config)])
    app = replay_app(args, config_settings(args), demo=False)
    assert app.settings.thresholds.etcd_wal_fsync_p99 == 2.0
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right_curly_bracket")
        await pilot.pause(0.3)
        assert app.now() == app.replay.end
        replayed = orjson.loads(render(make_report(app.snapshot(), app.settings), "json"))
    assert replayed == headless
