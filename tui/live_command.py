"""`k8stop` (live): check the settings cheaply, then run the app."""

from __future__ import annotations

import os
from dataclasses import replace

from k8stop.queries.config import ConfigError, Settings


def check_kubeconfig(settings: Settings) -> str | None:
    """Fail fast on a missing kubeconfig or unknown context, as kubectl would, without the client."""
    from k8stop.queries.kube import connection as kc

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


def usable_settings(settings: Settings) -> Settings:
    """Prometheus alone is a working setup; anything else broken is a usage error."""
    if not settings.use_kube:
        return settings
    problem = check_kubeconfig(settings)
    if problem is None:
        return settings
    if settings.prometheus_url and not settings.kubeconfig and not settings.context:
        return replace(settings, use_kube=False)
    raise ConfigError(problem)


def run_live(settings: Settings, record: str | None = None, diagnose: bool = False) -> int:
    settings = usable_settings(settings)
    import asyncio

    from k8stop.queries.feeds.fleet import unknown_cluster

    problem = asyncio.run(unknown_cluster(settings))
    if problem is not None:
        raise ConfigError(problem)
    from k8stop.queries.feeds.live import LiveSource
    from k8stop.tui.app import K8sTopApp

    app = K8sTopApp(settings, LiveSource)
    app.diagnose_on_start = diagnose
    if record:
        from k8stop.queries.feeds.recording import RecordingError

        try:
            app.recording.start(record)
        except RecordingError as exc:
            raise ConfigError(str(exc)) from None
        app.source.want_records(True)
    app.run(mouse=False)
    if record:
        import sys

        print(f"k8stop: recording saved to {record}", file=sys.stderr)
    return app.return_code or 0
