"""Flags may come before the subcommand, as kubectl users type them."""

from __future__ import annotations

import subprocess


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["k8stop", *args], capture_output=True, text=True, timeout=60)


def test_flags_before_the_subcommand_reach_it() -> None:
    # `report` ran (exit 3: no source reachable), it was not taken for a stray argument (exit 2).
    done = run("--no-kube", "--prometheus-url", "http://127.0.0.1:1", "report", "--format", "json")
    assert done.returncode == 3, done.stderr
    assert '"findings"' in done.stdout


def test_a_flag_value_that_looks_like_a_subcommand_stays_a_value() -> None:
    done = run("--kubeconfig", "report")  # a kubeconfig file named "report", which does not exist
    assert done.returncode == 2
    assert done.stderr.strip() == "k8stop: --kubeconfig report: no such file"
