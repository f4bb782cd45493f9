"""Kubeconfig checks shared by the CLI (`--context`) and `:ctx`, before any source is built."""

from __future__ import annotations

import os
from dataclasses import replace

from k8stop.queries.config import ConfigError, Settings
from k8stop.queries.model.sanitize import clean


def check_kubeconfig(settings: Settings) -> str | None:
    """Fail fast on a missing kubeconfig or unknown context, as kubectl would, without the client."""
    from k8stop.queries.kube import kubeconfig as kc

    try:
        paths = kc.kubeconfig_paths(settings.kubeconfig, os.environ)
        if not paths:
            if os.environ.get("KUBERNETES_SERVICE_HOST") and not settings.context:
                return None
            looked = os.environ.get("KUBECONFIG") or "~/.kube/config"
            return f"no kubeconfig found ({looked}): set KUBECONFIG, pass --kubeconfig, or run with --no-kube"
        kc.choose_context([kc.read_kubeconfig(p) for p in paths], settings.context, " + ".join(paths))
    except ConfigError as exc:
        return str(exc)
    return None


def context_problem(settings: Settings, name: str) -> str | None:
    """Why `name` cannot be switched to (the CLI's own message, which lists the available
    contexts); None when it can."""
    if not settings.use_kube:
        return "the kube API is off in this session (--no-kube): there is no context to switch"
    problem = check_kubeconfig(replace(settings, context=name))
    return clean(problem) if problem is not None else None  # names come from a file: shown, never run


def available_contexts(settings: Settings) -> str:
    """'contexts: a, b, prod (current prod)' for a bare `:ctx`, or why there are none."""
    from k8stop.queries.kube import kubeconfig as kc

    try:
        paths = kc.kubeconfig_paths(settings.kubeconfig, os.environ)
        documents = [kc.read_kubeconfig(p) for p in paths]
    except ConfigError as exc:
        return clean(str(exc))
    names = ", ".join(sorted(kc.merged_contexts(documents))) or "none"
    current = settings.context or kc.first_current_context(documents) or "-"
    return clean(f"contexts: {names} (current {current}); switch with :ctx NAME")
