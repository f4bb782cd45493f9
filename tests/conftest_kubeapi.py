"""Fixtures for the kube-API test server (imported by tests/conftest.py)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeapi import Cluster, ThreadedKubeApiServer, write_kubeconfig


@pytest.fixture
def kube_api() -> Iterator[ThreadedKubeApiServer]:
    """A fresh small realistic cluster (tests/kubeapi/scenario.py) served over TLS on its own thread.

    Function-scoped so mutations and faults never leak between tests; building it takes milliseconds.
    Bookmarks every 0.5 s so watch tests need not wait long.
    """
    with ThreadedKubeApiServer(Cluster.small(), token="test-token", bookmark_interval=0.5) as server:
        yield server


@pytest.fixture
def kubeconfig_path(kube_api: ThreadedKubeApiServer, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", kube_api.url, kube_api.token)
