"""Reading kubeconfig files as kubectl does: which files, which context. YAML only, no HTTP
client, so the CLI can fail fast on a bad context before the app (or its imports) start."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from k8stop.queries.config import ConfigError


def kubeconfig_paths(explicit: str | None, environ: Mapping[str, str]) -> list[str]:
    """kubectl's precedence: --kubeconfig (must exist), else every existing file in
    $KUBECONFIG (missing ones are skipped), else ~/.kube/config."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ConfigError(f"kubeconfig {explicit} not found: fix --kubeconfig")
        return [path]
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [os.path.expanduser(p) for p in listed.split(os.pathsep) if p]
        return [p for p in dict.fromkeys(paths) if os.path.isfile(p)]
    home = environ.get("HOME") or os.path.expanduser("~")
    default = os.path.join(home, ".kube", "config")
    return [default] if os.path.isfile(default) else []


def read_kubeconfig(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ConfigError(f"kubeconfig {path} is not valid YAML: fix or remove it") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"kubeconfig {path} is not a kubeconfig (expected a mapping)")
    return data


def first_current_context(documents: Sequence[dict[str, Any]]) -> str | None:
    """kubectl takes current-context from the first file that sets it (the client's own
    merger lets the last file win, so we choose it here)."""
    for document in documents:
        if document.get("current-context"):
            return str(document["current-context"])
    return None


def merged_contexts(documents: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Context name -> context body; the first file that defines a name wins."""
    contexts: dict[str, dict[str, Any]] = {}
    for document in documents:
        for entry in document.get("contexts") or ():
            if isinstance(entry, dict) and entry.get("name") not in contexts:
                contexts[str(entry.get("name"))] = entry.get("context") or {}
    return contexts


def choose_context(
    documents: Sequence[dict[str, Any]], requested: str | None, where: str
) -> tuple[str, dict[str, Any]]:
    contexts = merged_contexts(documents)
    available = ", ".join(sorted(contexts)) or "none"
    name = requested or first_current_context(documents)
    if name is None:
        raise ConfigError(f"{where} sets no current-context: pass --context (available: {available})")
    if name not in contexts:
        raise ConfigError(f"context {name!r} not found in {where}: available contexts: {available}")
    return name, contexts[name]
