"""Kubeconfig files pointing kubectl and client libraries at a test server."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from .tls import serving_cert


def write_kubeconfig(
    path: str | Path, server_url: str, token: str | None, context: str = "test", namespace: str | None = None
) -> Path:
    """A single-context kubeconfig; https URLs trust the test server's self-signed certificate.

    kubectl accepts http:// servers but then sends no bearer token, hence TLS by default.
    """
    ctx: dict[str, str] = {"cluster": context, "user": f"{context}-user"}
    if namespace:
        ctx["namespace"] = namespace
    user: dict[str, str] = {"token": token} if token else {}
    cluster: dict[str, str] = {"server": server_url}
    if server_url.startswith("https://"):
        cluster["certificate-authority-data"] = base64.b64encode(serving_cert().ca_pem).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": f"{context}-user", "user": user}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
        "preferences": {},
    }
    out = Path(path)
    out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out
