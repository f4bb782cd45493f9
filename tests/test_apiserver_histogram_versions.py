"""The API latency histogram by release: _sli_ (1.26+), _slo_ (1.23-1.25), the original (all)."""

from __future__ import annotations

import pytest
from k8stop.queries.config import Settings
from k8stop.queries.prom.client import PromClient
from k8stop.queries.prom.facts_source import PrometheusFacts
from scenario import Scenario


@pytest.mark.parametrize("histogram", ["slo", "legacy"])
async def test_older_histogram_names_are_found_and_read(prometheus_for, histogram: str) -> None:
    scenario = Scenario.healthy(apiserver_histogram=histogram)
    prometheus = prometheus_for(scenario)
    settings = Settings(prometheus_url=prometheus.url)
    async with PromClient.from_settings(settings) as client:
        facts, _ = await PrometheusFacts(client, settings).apiserver(with_history=False)
    assert facts.latency_metric == scenario.apiserver_metric
    busiest = facts.requests[0]
    expected = scenario.expected_api_quantile(busiest.verb, busiest.resource)
    assert busiest.p99.number == pytest.approx(expected, rel=0.02)
