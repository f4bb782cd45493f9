"""The `:pods` list: every synced pod as one row, sorted and filtered fast enough for a
keystroke at 150,000 pods.

Rows are built once per refresh; each keeps a lower-case search key, so a filter is one
substring test per row (and a longer filter only searches the previous matches). Failing
pods (a container waiting for a bad reason) sort first, then the most restarted.
"""

from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple

from k8stop.queries.kube.restarts import epoch
from k8stop.queries.kube.store import BENIGN_WAITING
from k8stop.queries.model.facts import PodRecord


class PodRow(NamedTuple):  # a tuple, not a frozen dataclass: 150,000 are made per open, 5x faster
    namespace: str
    name: str
    node: str
    phase: str
    restarts: int
    reason: str  # the waiting reason now, else the last termination's
    created: str | None  # RFC 3339 as the API gave it: parsed only for the rows drawn
    failing: bool  # a container waits for a bad reason (CrashLoopBackOff, ImagePullBackOff...)

    @property
    def created_at(self) -> float | None:
        return epoch(self.created)


def pod_row(pod: PodRecord) -> PodRow:
    # Plain loops: this runs for every pod on each open of the list (150,000 on a big cluster).
    waiting = terminated = None
    restarts = 0
    for c in pod.containers:
        restarts += c.restarts
        if waiting is None and c.waiting_reason:
            waiting = c.waiting_reason
        if terminated is None and c.last_terminated_reason:
            terminated = c.last_terminated_reason
    failing = waiting is not None and waiting not in BENIGN_WAITING
    return PodRow(
        pod.namespace, pod.name, pod.node or "", pod.phase, restarts, waiting or terminated or "", pod.created, failing
    )


def _key(row: PodRow) -> str:
    return f"{row.namespace}/{row.name} {row.node} {row.phase} {row.reason}".lower()


class PodList:
    """Sorted rows and the matches of the current filter (indices into the rows)."""

    def __init__(self, pods: tuple[PodRecord, ...]) -> None:
        rows = [pod_row(p) for p in pods]
        # Most pods are quiet: sort those by name alone (a C key), and only the few failing or
        # restarted ones by the full order.
        loud = [r for r in rows if r.failing or r.restarts]
        quiet = [r for r in rows if not (r.failing or r.restarts)]
        loud.sort(key=lambda r: (not r.failing, -r.restarts, r.namespace, r.name))
        quiet.sort(key=attrgetter("namespace", "name"))
        rows = loud + quiet
        self.rows = rows
        self._keys = [_key(r) for r in rows]
        self._columns = {
            "ns": [r.namespace.lower() for r in rows],
            "node": [r.node.lower() for r in rows],
            "phase": [r.phase.lower() for r in rows],
            "reason": [r.reason.lower() for r in rows],
        }
        self._filter = ""
        self.matches: list[int] = list(range(len(rows)))

    def filter(self, text: str) -> list[int]:
        """Rows matching every word of `text` (`ns:`, `node:`, `phase:`, `reason:` name a column)."""
        text = text.strip().lower()
        if text == self._filter:
            return self.matches
        # Typing on matches a subset of what the shorter filter did: search only those (not
        # across a `field:` word, which turns a plain word into a column match).
        narrowing = bool(self._filter) and text.startswith(self._filter) and ":" not in text
        pool = self.matches if narrowing else range(len(self.rows))
        matches = list(pool)
        # One tight pass per word (the most selective first would need counts; typing order
        # is usually selective enough): a substring test per remaining row.
        for word in text.split():
            field, _, value = word.partition(":")
            column = self._columns.get(field) if value else None
            if column is not None:
                matches = [i for i in matches if value in column[i]]
            else:
                keys = self._keys
                matches = [i for i in matches if word in keys[i]]
        self.matches = matches
        self._filter = text
        return self.matches
