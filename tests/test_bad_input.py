"""Bad input through the real `k8stop` console script: one line naming the problem and the
fix on stderr, exit code 2, no traceback."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from kubeapi import write_kubeconfig

EXIT_USAGE = 2


def k8stop(*args: str, env: dict[str, str] | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("k8stop")
    assert exe is not None, "the k8stop console script is not installed (pip install -e .)"
    # An empty HOME and config dir: the developer's own ~/.kube/config must not leak in.
    base = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "TERM": "dumb"}
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, env={**base, **(env or {})})


def assert_one_line_usage_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == EXIT_USAGE, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("k8stop: ")
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def test_missing_kubeconfig(home: Path) -> None:
    result = k8stop(home=home)
    assert_one_line_usage_error(result, "no kubeconfig found", "--kubeconfig", "--no-kube")


def test_kubeconfig_flag_pointing_nowhere(home: Path) -> None:
    result = k8stop("--kubeconfig", str(home / "nope.yaml"), home=home)
    assert_one_line_usage_error(result, "--kubeconfig", "nope.yaml", "no such file")


def test_unknown_context(home: Path) -> None:
    config = write_kubeconfig(home / "config", "https://127.0.0.1:6443", "t", context="real")
    result = k8stop("--kubeconfig", str(config), "--context", "imaginary", home=home)
    line = assert_one_line_usage_error(result, "imaginary")
    assert "real" in line  # names the contexts that do exist


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://prom:9090", "expected http(s)://"),
        ("localhost:9090", "expected http(s)://"),
        ("http://prom:http", "port is not a number"),
        ("http://", "expected http(s)://"),
    ],
)
def test_invalid_prometheus_url(home: Path, url: str, fragment: str) -> None:
    result = k8stop("--no-kube", "--prometheus-url", url, home=home)
    assert_one_line_usage_error(result, "--prometheus-url", fragment)


def test_invalid_config_yaml(home: Path) -> None:
    config = home / "config.yaml"
    config.write_text("refresh: [1, 2\nthresholds: {", encoding="utf-8")
    result = k8stop("--no-kube", "--prometheus-url", "http://127.0.0.1:1", "--config", str(config), home=home)
    assert_one_line_usage_error(result, "invalid YAML", str(config), "fix or remove")


def test_unknown_setting_in_config(home: Path) -> None:
    config = home / "config.yaml"
    config.write_text("refersh: 2\n", encoding="utf-8")
    result = k8stop("--no-kube", "--prometheus-url", "http://127.0.0.1:1", "--config", str(config), home=home)
    assert_one_line_usage_error(result, "refersh", "unknown setting", "refresh")


@pytest.mark.parametrize(
    "thresholds",
    [
        "thresholds:\n  etcd_wal_fsync_p99: fast\n",
        "thresholds:\n  apiserver_heat_slo_share: [0.1]\n",
        "thresholds: 7\n",
    ],
)
def test_invalid_thresholds(home: Path, thresholds: str) -> None:
    config = home / "config.yaml"
    config.write_text(thresholds, encoding="utf-8")
    result = k8stop("--no-kube", "--prometheus-url", "http://127.0.0.1:1", "--config", str(config), home=home)
    assert_one_line_usage_error(result, "thresholds")


def test_config_flag_pointing_nowhere(home: Path) -> None:
    result = k8stop("--no-kube", "--prometheus-url", "http://127.0.0.1:1", "--config", "/nonexistent.yaml", home=home)
    assert_one_line_usage_error(result, "--config", "no such file")


def test_refresh_too_small(home: Path) -> None:
    result = k8stop("--no-kube", "--prometheus-url", "http://127.0.0.1:1", "--refresh", "0", home=home)
    assert_one_line_usage_error(result, "--refresh", "at least 0.5")


def test_unknown_flag(home: Path) -> None:
    result = k8stop("--prometheus-ulr", "http://x", home=home)
    assert_one_line_usage_error(result, "--prometheus-ulr", "--help")


def test_missing_token_file(home: Path) -> None:
    result = k8stop(
        "--no-kube",
        "--prometheus-url",
        "http://127.0.0.1:1",
        "--prometheus-bearer-token-file",
        str(home / "token"),
        home=home,
    )
    assert_one_line_usage_error(result, "--prometheus-bearer-token-file", "no such file")


def test_replay_of_a_missing_recording(home: Path) -> None:
    result = k8stop("replay", "/nonexistent/recording.k8stop", home=home)
    assert_one_line_usage_error(result, "/nonexistent/recording.k8stop")


@pytest.mark.parametrize(
    "content",
    # mtime=0: the gzip header holds no clock, so every xdist worker collects the same test ids
    [b"this is not a recording\n", b"\x1f\x8b\x08garbage", gzip.compress(b"{not json\n", mtime=0)],
    ids=["text", "truncated-gzip", "gzip-of-non-json"],
)
def test_replay_of_a_garbage_file(home: Path, content: bytes) -> None:
    path = home / "garbage.k8stop"
    path.write_bytes(content)
    result = k8stop("replay", str(path), home=home)
    assert_one_line_usage_error(result, str(path))


def test_report_with_bad_input_is_a_usage_error(home: Path) -> None:
    result = k8stop("report", "--no-kube", "--prometheus-url", "gopher://x", home=home)
    assert_one_line_usage_error(result, "--prometheus-url")
