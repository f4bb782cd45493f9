"""Typed keys of the dashboard rows: what a panel hands to the drill-down it opens."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiKey:
    verb: str
    resource: str


@dataclass(frozen=True, slots=True)
class EtcdKey:
    instance: str  # the member's scrape instance, e.g. "10.0.0.2:2379"


@dataclass(frozen=True, slots=True)
class NodeKey:
    node: str


@dataclass(frozen=True, slots=True)
class PodKey:
    namespace: str
    pod: str
    container: str = ""  # the row's container; the drill-down shows the whole pod


RowKey = ApiKey | EtcdKey | NodeKey | PodKey
