"""`:ctx` checks the name against the kubeconfig as the CLI does, before any source is rebuilt."""

from __future__ import annotations

import os
from dataclasses import replace

from k8stop.queries.config import ConfigError, Settings
from k8stop.queries.model.sanitize import clean
from k8stop.tui.live_command import check_kubeconfig


def context_problem(settings: Settings, name: str) -> str | None:
    """Why `name` cannot be switched to (the CLI's own message, which lists the available
    contexts); None when it can."""
    if not settings.use_kube:
        return "the kube API is off in this session (--no-kube): there is no context to switch"
    problem = check_kubeconfig(replace(settings, context=name))
    return clean(problem) if problem is not None else None  # names come from a file: shown, never run


def available_contexts(settings: Settings) -> str:
    """'contexts: a, b, prod (current prod)' for a bare `:ctx`, or why there are none."""
    from k8stop.queries.kube import connection as kc

    try:
        paths = kc.kubeconfig_paths(settings.kubeconfig, os.environ)
        documents = [kc.read_kubeconfig(p) for p in paths]
    except ConfigError as exc:
        return clean(str(exc))
    names = ", ".join(sorted(kc.merged_contexts(documents))) or "none"
    current = settings.context or kc.first_current_context(documents) or "-"
    return clean(f"contexts: {names} (current {current}); switch with :ctx NAME")
