"""Restarts per container from the kube API alone: the fallback for kube-state-metrics.

The API only holds a container's lifetime restartCount and its last termination; it
cannot say how many restarts fell in the last hour. The tracker records restartCount
changes as the watch reports them and estimates restarts within a window as:

* the exact delta, once k8stop has watched the container for longer than the window;
* all restarts, when the pod was created inside the window;
* otherwise the delta seen since k8stop started, and at least 1 when the last
  termination finished inside the window (earlier restarts in the window are unknown).

So the figures are lower bounds until k8stop has run for an hour.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime

from k8stop.queries.model.facts import (
    BENIGN_WAITING,
    ContainerRecord,
    ContainerRestarts,
    PodRecord,
    RestartsFacts,
    restarts_rank,
)

HOUR = 3600.0
QUARTER = 900.0
ContainerKey = tuple[str, str, str]  # (namespace, pod, container)
History = list[tuple[float, int]]  # (observed at, restartCount), oldest first


def epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


class RestartTracker:
    def __init__(self, started: float) -> None:
        self.started = started
        self._history: dict[ContainerKey, History] = {}

    def observe(self, old: PodRecord | None, new: PodRecord, now: float) -> None:
        """Record the restart counts of `new`; `old` is the record it replaced (None when
        the pod was not known before: its counts then predate our observation)."""
        for container in new.containers:
            key = (new.namespace, new.name, container.name)
            history = self._history.get(key)
            if history is None:
                if not container.restarts:
                    continue
                history = []
                if old is not None:
                    # It had no restarts while we watched, since we first saw the pod
                    history.append((self._zero_since(new), 0))
                self._history[key] = history
            elif container.restarts < history[-1][1]:
                history.clear()  # a new pod under the same name: counting starts over
            if not history or history[-1][1] != container.restarts:
                history.append((now, container.restarts))
            _prune(history, now - HOUR)

    def forget(self, pod: PodRecord) -> None:
        for container in pod.containers:
            self._history.pop((pod.namespace, pod.name, container.name), None)

    def _zero_since(self, pod: PodRecord) -> float:
        created = epoch(pod.created)
        return max(self.started, created) if created is not None else self.started

    def in_window(self, pod: PodRecord, container: ContainerRecord, now: float, window: float) -> int:
        start = now - window
        current = container.restarts
        history = self._history.get((pod.namespace, pod.name, container.name))
        if not history:
            # Never saw it restart: zero restarts since we first saw the pod
            baseline: tuple[float, int] = (self._zero_since(pod), 0)
        else:
            baseline = history[0]
            for observed in history:
                if observed[0] <= start:
                    baseline = observed
        if baseline[0] <= start:
            return current - baseline[1]
        created = epoch(pod.created)
        if created is not None and created >= start:
            return current
        estimate = current - baseline[1]
        finished = epoch(container.last_finished_at)
        if current and finished is not None and finished >= start:
            estimate = max(estimate, 1)
        return estimate

    def facts(self, pods: Iterable[PodRecord], now: float, top: int) -> RestartsFacts:
        """Containers that restarted in the last hour, wait for a bad reason or are not ready
        after a restart: failing now first, then most restarts (restarts_rank)."""
        rows: list[ContainerRestarts] = []
        for pod in pods:
            for container in pod.containers:
                hour = self.in_window(pod, container, now, HOUR)
                waiting = container.waiting_reason
                if hour <= 0 and (waiting is None or waiting in BENIGN_WAITING):
                    continue
                rows.append(
                    ContainerRestarts(
                        namespace=pod.namespace,
                        pod=pod.name,
                        container=container.name,
                        restarts_1h=float(hour),
                        restarts_15m=float(self.in_window(pod, container, now, QUARTER)),
                        waiting_reason=waiting,
                        last_terminated_reason=container.last_terminated_reason,
                        ready=container.ready,
                    )
                )
        ranked = heapq.nsmallest(top, rows, key=restarts_rank)
        return RestartsFacts(source="kube-api", top=tuple(ranked), total=len(rows))


def _prune(history: History, horizon: float) -> None:
    """Keep the last observation before the horizon (the window's baseline) and later ones."""
    while len(history) > 1 and history[1][0] <= horizon:
        del history[0]
