"""`k8stop` (live): check the settings cheaply, then run the app."""

from __future__ import annotations

from dataclasses import replace

from k8stop.queries.config import ConfigError, Settings
from k8stop.tui.contexts import check_kubeconfig


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
