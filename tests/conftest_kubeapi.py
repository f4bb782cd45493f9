"""Fixtures for the kube-API test server (imported by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig

READ_VERBS = {"get", "list", "watch"}


@pytest.fixture
def kube_api(request: pytest.FixtureRequest) -> Iterator[ThreadedKubeApiServer]:
    """A fresh small realistic cluster (tests/kubeapi/scenario.py) served over TLS on its own thread.

    Function-scoped so mutations and faults never leak between tests; building it takes milliseconds.
    Bookmarks every 0.5 s so watch tests need not wait long. After every test it checks that the
    server saw only get, list and watch: across the whole suite, k8stop never writes to a cluster
    (only the test server's own tests, marked `sends_writes`, write on purpose).

    Parametrize it indirectly with a function returning a Cluster (e.g. one built from a
    Prometheus scenario, whose /metrics then serves that scenario's API server numbers).
    """
    make = getattr(request, "param", Cluster.small)
    with ThreadedKubeApiServer(make(), token="test-token", bookmark_interval=0.5) as server:
        yield server
    if request.node.get_closest_marker("sends_writes") is None:
        writes = server.verbs() - READ_VERBS
        assert not writes, f"the kube-API test server saw writes: {sorted(writes)}"


@pytest.fixture
def kubeconfig_path(kube_api: ThreadedKubeApiServer, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", kube_api.url, kube_api.token)
