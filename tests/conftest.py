"""Shared pytest fixtures. Real Prometheus servers: see prometheus_fixture.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The scenario helpers live next to the tests; make `import scenario` work from any test.
sys.path.insert(0, str(Path(__file__).parent))

from conftest_kubeapi import kube_api, kubeconfig_path  # noqa: F401  (kube-API test server)
from prometheus_fixture import PrometheusHandle, PrometheusPool, binaries_present
from scenario import Scenario

PrometheusFor = Callable[..., PrometheusHandle]

# Fixtures that start a real server; a test using none of them (even indirectly) is `offline`.
SERVER_FIXTURES = frozenset({"prometheus_pool", "kube_api"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that need no server: `pytest -m offline` is the fast loop (no Prometheus)."""
    for item in items:
        if SERVER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())) and not item.get_closest_marker("servers"):
            item.add_marker(pytest.mark.offline)


@pytest.fixture(scope="session")
def prometheus_pool() -> Iterator[PrometheusPool]:
    pool = PrometheusPool()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def prometheus_for(prometheus_pool: PrometheusPool) -> PrometheusFor:
    """prometheus_for(scenario, rules=None, eval_interval="5s") -> PrometheusHandle.

    Servers are shared across the session per (scenario, rules); skips when prometheus or
    promtool is not installed.
    """
    if not binaries_present():
        pytest.skip("prometheus/promtool not installed (apt-get install prometheus); real-Prometheus tests cannot run")
    return prometheus_pool.get


@pytest.fixture
def prometheus(prometheus_for: PrometheusFor) -> PrometheusHandle:
    """A Prometheus holding the healthy kube-prometheus scenario (the pool's, renewed before its
    history ends)."""
    return prometheus_for(Scenario.healthy())
