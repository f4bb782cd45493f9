"""Loading credentials like kubectl: file precedence, merging, contexts, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from k8stop.queries.config import ConfigError
from k8stop.queries.kube.connection import connect
from k8stop.queries.kube.errors import KubeApiError
from k8stop.queries.kube.kubeconfig import kubeconfig_paths


def _write(path: Path, current: str | None, contexts: dict[str, tuple[str, str, str | None]]) -> Path:
    """contexts: name -> (cluster server, token, namespace)."""
    doc: dict = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    if current is not None:
        doc["current-context"] = current
    for name, (server, token, namespace) in contexts.items():
        doc["clusters"].append({"name": f"{name}-cluster", "cluster": {"server": server}})
        doc["users"].append({"name": f"{name}-user", "user": {"token": token}})
        body = {"cluster": f"{name}-cluster", "user": f"{name}-user"}
        if namespace:
            body["namespace"] = namespace
        doc["contexts"].append({"name": name, "context": body})
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_two_kubeconfig_paths_merge_first_wins(tmp_path: Path) -> None:
    first = _write(
        tmp_path / "a",
        "alpha",
        {"alpha": ("http://127.0.0.1:7001", "tok-a", "team-a"), "shared": ("http://127.0.0.1:7002", "first", None)},
    )
    second = _write(
        tmp_path / "b",
        "beta",
        {"beta": ("http://127.0.0.1:7003", "tok-b", None), "shared": ("http://127.0.0.1:7999", "second", None)},
    )
    env = {"KUBECONFIG": f"{first}:{tmp_path / 'missing'}:{second}", "HOME": str(tmp_path)}
    # current-context comes from the first file that sets it, as kubectl does
    async with await connect(environ=env) as conn:
        assert (conn.context, conn.server, conn.namespace) == ("alpha", "http://127.0.0.1:7001", "team-a")
        headers, _ = await conn.aiohttp_auth()
        assert headers == {"authorization": "Bearer tok-a"}
    # a context only the second file defines
    async with await connect(context="beta", environ=env) as conn:
        assert (conn.server, conn.namespace) == ("http://127.0.0.1:7003", "default")
        assert (await conn.aiohttp_auth())[0]["authorization"] == "Bearer tok-b"
    # a name both define: the first definition wins
    async with await connect(context="shared", environ=env) as conn:
        assert conn.server == "http://127.0.0.1:7002"


async def test_current_context_from_second_file_when_first_sets_none(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", None, {"alpha": ("http://127.0.0.1:7001", "a", None)})
    second = _write(tmp_path / "b", "beta", {"beta": ("http://127.0.0.1:7003", "b", None)})
    async with await connect(environ={"KUBECONFIG": f"{first}:{second}"}) as conn:
        assert conn.context == "beta"


async def test_unknown_context_lists_the_available_ones(tmp_path: Path) -> None:
    path = _write(tmp_path / "c", "alpha", {"alpha": ("http://x:1", "t", None), "prod": ("http://y:1", "t", None)})
    with pytest.raises(ConfigError) as caught:
        await connect(kubeconfig=str(path), context="staging", environ={})
    message = str(caught.value)
    assert "'staging' not found" in message
    assert "available contexts: alpha, prod" in message
    assert "\n" not in message


async def test_missing_kubeconfig_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found: fix --kubeconfig"):
        await connect(kubeconfig=str(tmp_path / "nope"), environ={})
    with pytest.raises(ConfigError, match="no kubeconfig found .*set KUBECONFIG"):
        await connect(environ={"KUBECONFIG": str(tmp_path / "nope"), "HOME": str(tmp_path)})


def test_default_path_is_home_kube_config(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    config = tmp_path / ".kube" / "config"
    config.write_text("{}")
    assert kubeconfig_paths(None, {"HOME": str(tmp_path)}) == [str(config)]
    # $KUBECONFIG replaces the default entirely
    assert kubeconfig_paths(None, {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "x")}) == []


async def test_no_current_context_asks_for_one(tmp_path: Path) -> None:
    path = _write(tmp_path / "c", None, {"alpha": ("http://x:1", "t", None)})
    with pytest.raises(ConfigError, match="sets no current-context: pass --context .available: alpha"):
        await connect(kubeconfig=str(path), environ={})


async def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = _write(tmp_path / "c", "dead", {"dead": (f"http://127.0.0.1:{port}", "t", None)})
    async with await connect(kubeconfig=str(path), environ={}) as conn:
        with pytest.raises(KubeApiError) as caught:
            await conn.version()
    message = str(caught.value)
    assert message.startswith(f"cannot reach the API server http://127.0.0.1:{port}")
    assert "context 'dead'" in message
    assert caught.value.status == 0


async def test_in_cluster_is_tried_only_without_a_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists():
        pytest.skip("running inside a pod: the in-cluster credentials would load")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    env = {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "10.96.0.1"}
    with pytest.raises(ConfigError, match=r"in-cluster credentials unusable \(Service token file does not exist"):
        await connect(environ=env)
    with pytest.raises(ConfigError, match="no kubeconfig exists"):
        await connect(context="prod", environ=env)
    # a kubeconfig, when present, wins over the service account
    _write(tmp_path / "c", "alpha", {"alpha": ("http://127.0.0.1:7001", "t", None)})
    async with await connect(environ={**env, "KUBECONFIG": str(tmp_path / "c")}) as conn:
        assert conn.info.source == f"kubeconfig {tmp_path / 'c'}"
