"""Bytes the dashboard writes to its terminal per second, as an SSH session would carry them.

  python3 bench/terminal_bytes.py KUBECONFIG PROMETHEUS_URL COLUMNS ROWS SECONDS [WARMUP]

Runs the real `k8stop` in a pseudo-terminal of COLUMNS x ROWS, lets start-up and the first
sync finish (WARMUP seconds, 20 by default), then counts every byte it writes over SECONDS. Whether that is
idle or under churn is the server's doing (`python -m tests.kubeapi --churn`). Prints one JSON line.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time

WARMUP = 20.0


def drain(master: int, seconds: float) -> int:
    """Read (and count) what the child writes for `seconds`, so it never blocks on a full pty.
    K8STOP_TTY_CAPTURE=FILE keeps a copy, to see what is redrawn."""
    capture = os.environ.get("K8STOP_TTY_CAPTURE")
    total = 0
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([master], [], [], min(left, 0.2))
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child is gone
                break
            if not chunk:
                break
            total += len(chunk)
            if capture:
                with open(capture, "ab") as copy:
                    copy.write(chunk)
    return total


def measure(
    kubeconfig: str, prometheus_url: str, columns: int, rows: int, seconds: float, warmup: float = WARMUP
) -> dict[str, float]:
    exe = shutil.which("k8stop")
    if exe is None:
        raise SystemExit("k8stop is not on PATH (activate the venv)")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    with tempfile.TemporaryDirectory(prefix="k8stop-tty-") as home:
        env = {"PATH": os.environ["PATH"], "HOME": home, "TERM": "xterm-256color", "XDG_CONFIG_HOME": home}
        command = [exe, "--kubeconfig", kubeconfig, "--prometheus-url", prometheus_url]
        child = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        try:
            startup = drain(master, warmup)
            written = drain(master, seconds)
        finally:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            os.close(master)
    if child.returncode not in (0, -15) or not startup:
        raise RuntimeError(f"k8stop exited with {child.returncode} after writing {startup} bytes")
    return {"bytes_per_s": written / seconds, "startup_bytes": startup, "seconds": seconds}


def main() -> None:
    kubeconfig, prometheus_url, columns, rows, seconds = sys.argv[1:6]
    warmup = float(sys.argv[6]) if len(sys.argv) > 6 else WARMUP
    print(json.dumps(measure(kubeconfig, prometheus_url, int(columns), int(rows), float(seconds), warmup)))


if __name__ == "__main__":
    main()
