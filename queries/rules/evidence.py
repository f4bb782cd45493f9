"""Evidence PromQL rendered through the catalog, so a finding shows what was really queried:
the configured selectors, the metric the probe picked among renamed families, and any
query_overrides, narrowed to the finding's subject by extra label matchers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from k8stop.queries.config import Settings
from k8stop.queries.model.facts import SOURCE_PROMETHEUS
from k8stop.queries.model.finding import Finding
from k8stop.queries.prom.catalog import Catalog, promql_string, regex_alternatives


def matchers(labels: Mapping[str, str]) -> str:
    return ", ".join(f'{name}="{promql_string(value)}"' for name, value in labels.items())


def node_matcher(target: str) -> str:
    """The node's series by scrape target; a bare host (no port) matches its exporters' ports."""
    if ":" in target:
        return matchers({"instance": target})
    return f'instance=~"{regex_alternatives([target])}(:[0-9]+)?"'


class EvidenceQueries:
    def __init__(self, settings: Settings) -> None:
        self._catalog = Catalog(settings)

    def promql(
        self,
        entry_id: str,
        match: Mapping[str, str] | None = None,
        *,
        metric: str = "",
        extra: str = "",
        **params: str,
    ) -> str:
        """Entry `entry_id` as the feed ran it (metric: the family the probe picked, "" for
        the default), narrowed by `match` (label -> exact value) and `extra` matchers."""
        narrowed = ", ".join(part for part in (matchers(match or {}), extra) if part)
        return self._catalog.render(entry_id, metric=metric or None, extra_matchers=narrowed, **params)


def mark_source(finding: Finding, source: str, note: str) -> Finding:
    """Findings from facts Prometheus did not serve: each query says where its figure came from
    (the same computation, done by k8stop on what `source` returned)."""
    if source == SOURCE_PROMETHEUS:
        return finding
    evidence = tuple(
        replace(e, query=f"[{source}] {e.query}", detail=f"{e.detail}; {note}" if e.detail else note)
        for e in finding.evidence
    )
    return replace(finding, evidence=evidence)
