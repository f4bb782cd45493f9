"""Which node an address belongs to, as the kube API lists them: how a scrape target's host is
turned into the node's name when Prometheus labels say something else."""

from __future__ import annotations

from collections.abc import Iterable


class NodeAddresses(dict[str, str]):
    """Address -> node name; `names` are the node names it maps to, for an O(1) "is this
    already a node's name" (asked once per series, so thousands of times per refresh)."""

    __slots__ = ("names",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(pairs)
        self.names = frozenset(self.values())
