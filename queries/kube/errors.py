"""Kube-API failures as one line each that names the fix."""

from __future__ import annotations

import math
from typing import Any

import orjson
from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.sanitize import clean


class KubeApiError(FeedError):
    """An HTTP error from the API server; `status` 0 means no answer at all.

    The message may quote the server (a Status body, a watch ERROR event): it is made inert
    here, once for every way one is built (model/sanitize.py)."""

    def __init__(self, message: str, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(clean(message))
        self.status = status
        self.retry_after = retry_after


class ResourceGone(KubeApiError):
    """410: the resourceVersion or continue token expired; the caller must list again."""


def server_message(body: bytes) -> str:
    try:
        status: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(status, dict):
        return str(status.get("message") or status.get("reason") or "").strip()
    return ""


# Retry-After is obeyed within these bounds: "0" from a broken server must not make a tight
# loop, and a huge value must not silence a feed for good
MIN_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 300.0


def retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare from the API server, fall back to our backoff
    if math.isnan(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, seconds))


def http_error(status: int, body: bytes, what: str, retry_after: str | None = None) -> KubeApiError:
    """`what` says the request in kubectl's words: "list nodes", "watch pods in ns x"."""
    message = server_message(body)
    delay = retry_after_seconds(retry_after)
    if status == 401:
        text = "token expired or invalid: refresh your credentials (e.g. log in again)"
    elif status == 403:
        text = f"forbidden: RBAC does not allow {what}: ask for get/list/watch on it"
    elif status == 404:
        text = f"not found: the API server does not serve {what}"
    elif status == 410:
        return ResourceGone(f"{what}: resource version expired (410 Gone)", status)
    elif status == 429:
        wait = f"; retrying in {delay:g} s" if delay is not None else ""
        text = f"throttled by API priority and fairness (429) on {what}{wait}"
    elif status >= 500:
        text = f"API server error {status} on {what}" + (f": {message}" if message else "")
    else:
        text = f"HTTP {status} on {what}" + (f": {message}" if message else "")
    return KubeApiError(text, status, delay)
