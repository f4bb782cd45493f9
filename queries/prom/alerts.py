"""Alerts from Prometheus: firing and pending, most severe first, plus whether rules exist."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.facts import Alert, AlertsFacts
from k8stop.queries.model.sanitize import clean
from k8stop.queries.prom.client import PromClient

SEVERITY_RANK = {"critical": 0, "error": 1, "warning": 2, "info": 3}
STATE_RANK = {"firing": 0, "pending": 1}
# Rule files change rarely; their listing can be large (hundreds of KB with kube-prometheus).
RULES_TTL = 300.0


def parse_time(text: Any) -> float | None:
    if not isinstance(text, str) or not text or text.startswith("0001-01-01"):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def parse_alert(raw: Any) -> Alert:
    if not isinstance(raw, dict):
        raise FeedError("malformed response: an alert is not an object")
    # Rule authors and the labels of any scraped app write these: made inert (model/sanitize.py)
    labels = {clean(str(k)): clean(str(v)) for k, v in (raw.get("labels") or {}).items()}
    annotations = raw.get("annotations") or {}
    summary = clean(
        str(annotations.get("summary") or annotations.get("description") or annotations.get("message") or "")
    )
    return Alert(
        name=labels.get("alertname", ""),
        state=clean(str(raw.get("state", ""))),
        severity=labels.get("severity", "none"),
        labels=tuple(sorted(labels.items())),
        summary=summary,
        active_at=parse_time(raw.get("activeAt")),
        value=clean(str(raw.get("value", ""))),
        source="prometheus",
    )


def alert_order(alert: Alert) -> tuple[int, int, float, str]:
    return (
        SEVERITY_RANK.get(alert.severity, len(SEVERITY_RANK)),
        STATE_RANK.get(alert.state, len(STATE_RANK)),
        alert.active_at if alert.active_at is not None else float("inf"),
        alert.name,
    )


class AlertsSource:
    def __init__(
        self,
        client: PromClient,
        clock: Callable[[], float] = time.monotonic,
        keep: Callable[[Alert], bool] = lambda _alert: True,
    ) -> None:
        self._client = client
        # A fleet session keeps its own cluster's alerts (scope.in_scope): the backend's
        # /api/v1/alerts (a Thanos or Mimir ruler) lists every cluster's.
        self._keep = keep
        self._clock = clock
        self._has_rules: bool | None = None
        self._rules_at = 0.0
        self._expressions: dict[str, str] = {}

    async def facts(self) -> tuple[AlertsFacts, tuple[str, ...]]:
        envelope = await self._client.alerts()
        data = envelope.data if isinstance(envelope.data, dict) else {}
        raw_alerts = data.get("alerts")
        if not isinstance(raw_alerts, list):
            raise FeedError("malformed response: /api/v1/alerts has no alerts list")
        alerts = [alert for alert in (parse_alert(a) for a in raw_alerts) if self._keep(alert)]
        has_rules, rule_warnings = await self._server_has_rules(bool(alerts))
        # The rule's expression says what an alert is about when its name and labels do not.
        alerts = [replace(a, expression=self._expressions.get(a.name, "")) for a in alerts]
        return AlertsFacts(tuple(sorted(alerts, key=alert_order)), has_rules), envelope.warnings + rule_warnings

    async def _server_has_rules(self, alerts_seen: bool) -> tuple[bool, tuple[str, ...]]:
        now = self._clock()
        if self._has_rules is not None and now - self._rules_at < RULES_TTL:
            return self._has_rules or alerts_seen, ()
        try:
            envelope = await self._client.rules("alert")
        except FeedError:
            if alerts_seen:  # the alerts are the news; expressions only refine them
                return True, ()
            raise
        groups = envelope.data.get("groups") if isinstance(envelope.data, dict) else None
        if not isinstance(groups, list):
            raise FeedError("malformed response: /api/v1/rules has no groups list")
        rules = [r for g in groups if isinstance(g, dict) for r in (g.get("rules") or []) if isinstance(r, dict)]
        self._expressions = {str(r.get("name", "")): str(r.get("query", "")) for r in rules}
        self._has_rules = bool(rules)
        self._rules_at = now
        return self._has_rules or alerts_seen, envelope.warnings
