"""Injected failures and the Status bodies the real API server sends with each code."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .objects import Obj

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
USER = "system:serviceaccount:monitoring:k8stop"


def status(code: int, message: str, reason: str | None = None, details: Obj | None = None) -> Obj:
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def default_message(
    code: int, verb: str, resource: str, namespace: str | None, group: str = ""
) -> tuple[str, Obj | None]:
    """What the real server says for `code` on this request."""
    if code == 401:
        return "Unauthorized", None
    if code == 403:
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        target = resource or "path"
        return (
            f'{target} is forbidden: User "{USER}" cannot {verb} resource "{target}" in API group "{group}" {where}',
            {"kind": resource} if resource else None,
        )
    if code == 429:
        return "Too many requests, please try again later.", {"retryAfterSeconds": 1}
    if code == 500:
        return "Internal error occurred: injected fault", {"causes": [{"message": "injected fault"}]}
    if code == 503:
        return "the server is currently unable to handle the request", None
    if code == 504:
        return "Timeout: request did not complete within the allowed duration", None
    return REASONS.get(code, "injected fault"), None


@dataclass(frozen=True, slots=True)
class Fault:
    """A failure applied to requests whose path matches `path_regex` (re.search).

    `status` answers with that code and a Status body (or `body`); `delay` sleeps first;
    `reset_connection` drops the TCP connection with RST; `cut_watch_after_events` lets a
    watch send k events, then half a JSON line, then closes. `times=None`: until cleared.
    `verbs` limits it to Kubernetes verbs (get, list, watch, create, ...).

    Hostile variants: `headers` are added to a `status` answer (e.g. a 302's Location);
    `watch_error` answers a watch with 200 and one ERROR event of that code (a 410 loop);
    `endless_continue` makes a list hand back the same continue token forever;
    `gzip_bomb` answers 200 with that many bytes of gzip-inflated whitespace (~1000:1);
    `endless_line` streams a watch line that never ends (no newline).
    """

    path_regex: str
    status: int | None = None
    times: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    body: bytes | dict[str, Any] | None = None
    reset_connection: bool = False
    cut_watch_after_events: int | None = None
    verbs: frozenset[str] | None = None
    headers: dict[str, str] | None = None
    watch_error: int | None = None
    endless_continue: bool = False
    gzip_bomb: int | None = None
    endless_line: bool = False


@dataclass(slots=True)
class _Armed:
    fault: Fault
    pattern: re.Pattern[str]
    remaining: int | None
    hits: int = 0


@dataclass
class FaultBook:
    """Thread-safe list of armed faults; the first live match wins."""

    _armed: list[_Armed] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(_Armed(fault, re.compile(fault.path_regex), fault.times))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, path: str, verb: str) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                if armed.remaining == 0:
                    continue
                if armed.fault.verbs is not None and verb not in armed.fault.verbs:
                    continue
                if armed.pattern.search(path):
                    if armed.remaining is not None:
                        armed.remaining -= 1
                    armed.hits += 1
                    return armed.fault
        return None

    def hits(self) -> list[tuple[Fault, int]]:
        with self._lock:
            return [(a.fault, a.hits) for a in self._armed]
