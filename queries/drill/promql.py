"""The PromQL behind a drill-down's numbers, and links to look at it elsewhere.

A drill-down renders its queries from the catalog; `QueryLog` is that catalog noting each
expression it renders, so the screen can show (and copy) exactly what produced its figures.
Links are built on the Prometheus URL with its credentials and query string scrubbed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from k8stop.queries.model.sanitize import scrub
from k8stop.queries.prom.catalog import CATALOG, Catalog


@dataclass(frozen=True, slots=True)
class UsedQuery:
    entry_id: str
    description: str
    promql: str


class QueryLog(Catalog):
    """A catalog that records every expression it renders, in order, once each."""

    def __init__(self, inner: Catalog) -> None:  # wraps `inner`: its settings are read already
        self._inner = inner
        self.used: list[UsedQuery] = []

    def overridden(self, entry_id: str) -> bool:
        return self._inner.overridden(entry_id)

    def render(self, entry_id: str, *, metric: str | None = None, extra_matchers: str = "", **params: str) -> str:
        promql = self._inner.render(entry_id, metric=metric, extra_matchers=extra_matchers, **params)
        if all(q.promql != promql for q in self.used):
            self.used.append(UsedQuery(entry_id, CATALOG[entry_id].description, promql))
        return promql


def base_url(url: str) -> str:
    """A server URL fit to show and link: no userinfo, no query string, no trailing slash."""
    return scrub(url).rstrip("/")


def prometheus_graph_url(prometheus: str, promql: str, end: float, span: float) -> str:
    """The Prometheus expression browser on `promql` over the `span` seconds ending at `end`."""
    params = {
        "g0.expr": promql,
        "g0.tab": "0",
        "g0.range_input": f"{max(60, int(span))}s",
        "g0.end_input": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(end)),
    }
    return f"{base_url(prometheus)}/graph?{urlencode(params, quote_via=quote)}"


def grafana_explore_url(grafana: str, promql: str, start: float, end: float) -> str:
    """Grafana Explore on `promql` over [start, end] with the default data source."""
    left = {
        "queries": [{"refId": "A", "expr": promql}],
        "range": {"from": str(int(start * 1000)), "to": str(int(end * 1000))},
    }
    return (
        f"{base_url(grafana)}/explore?{urlencode({'left': json.dumps(left, separators=(',', ':'))}, quote_via=quote)}"
    )
