"""The `:pods` list: every synced pod as one row, sorted and filtered fast enough for a
keystroke at 150,000 pods.

Rows are built once per refresh; each keeps a lower-case search key, so a filter is one
substring test per row (and a longer filter only searches the previous matches). Failing
pods (a container waiting for a bad reason) sort first, then the most restarted.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8stop.queries.kube.restarts import epoch
from k8stop.queries.kube.store import troubled
from k8stop.queries.model.facts import PodRecord

# `field:value` filter words, matched against one column; other words match anywhere.
FIELDS = ("ns", "node", "phase", "reason")


@dataclass(frozen=True, slots=True)
class PodRow:
    namespace: str
    name: str
    node: str
    phase: str
    restarts: int
    reason: str  # the waiting reason now, else the last termination's
    created: float | None  # unix seconds
    failing: bool  # a container waits for a bad reason (CrashLoopBackOff, ImagePullBackOff...)


def pod_row(pod: PodRecord) -> PodRow:
    waiting = next((c.waiting_reason for c in pod.containers if c.waiting_reason), None)
    terminated = next((c.last_terminated_reason for c in pod.containers if c.last_terminated_reason), None)
    failing = troubled(pod) and waiting is not None and waiting not in ("ContainerCreating", "PodInitializing")
    return PodRow(
        pod.namespace,
        pod.name,
        pod.node or "",
        pod.phase,
        pod.restarts,
        waiting or terminated or "",
        epoch(pod.created),
        failing,
    )


def _key(row: PodRow) -> str:
    return f"{row.namespace}/{row.name} {row.node} {row.phase} {row.reason}".lower()


class PodList:
    """Sorted rows and the matches of the current filter (indices into the rows)."""

    def __init__(self, pods: tuple[PodRecord, ...]) -> None:
        rows = [pod_row(p) for p in pods]
        rows.sort(key=lambda r: (not r.failing, -r.restarts, r.namespace, r.name))
        self.rows = rows
        self._keys = [_key(r) for r in rows]
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
        words = text.split()
        if not words:
            self.matches = list(range(len(self.rows)))
        else:
            plain = [w for w in words if not _field_word(w)]
            fields = [w.split(":", 1) for w in words if _field_word(w)]
            keys, rows = self._keys, self.rows
            self.matches = [
                i
                for i in pool
                if all(w in keys[i] for w in plain) and all(_field_matches(rows[i], f, v) for f, v in fields)
            ]
        self._filter = text
        return self.matches


def _field_word(word: str) -> bool:
    return ":" in word and word.split(":", 1)[0] in FIELDS


def _field_matches(row: PodRow, field: str, value: str) -> bool:
    column = {"ns": row.namespace, "node": row.node, "phase": row.phase, "reason": row.reason}[field]
    return value in column.lower()
