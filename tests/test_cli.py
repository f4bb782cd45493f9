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


def test_a_mistyped_flag_gets_the_flag_it_meant() -> None:
    done = run("--kubeconfg", "/nonexistent")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "unrecognized arguments: --kubeconfg /nonexistent; did you mean --kubeconfig?" in done.stderr
    # `--flag=value` is matched on the flag; a subcommand's own flags are known to it
    done = run("report", "--formt=json")
    assert done.returncode == 2 and "did you mean --format?" in done.stderr
    done = run("reprot")
    assert done.returncode == 2 and "did you mean report?" in done.stderr
    # Nothing close: no guess
    done = run("--zzzzzz")
    assert done.returncode == 2 and "unrecognized arguments: --zzzzzz" in done.stderr
    assert "did you mean" not in done.stderr


def test_report_help_documents_the_exit_codes() -> None:
    done = run("report", "--help")
    assert done.returncode == 0
    for line in (
        "3  no data source could be reached",
        "4  a configured source failed while another answered",
        "--fail-on {partial,unreachable}",
        "(M:SS, H:MM:SS)",
    ):
        assert line in done.stdout
