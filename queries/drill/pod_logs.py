"""The last lines of a container's previous run (`kubectl logs --previous`), read on demand for
the pod drill-down. Logs can hold secrets: they are shown, never recorded, never put in a report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from k8stop.queries.model.errors import FeedError
from k8stop.queries.model.facts import PodRecord
from k8stop.queries.model.sanitize import clean

if TYPE_CHECKING:
    from k8stop.queries.kube.connection import KubeConnection

TAIL_LINES = 40
# The server stops at limitBytes; a few long lines must not fill the screen or the memory.
MAX_BYTES = 64 * 1024
NOT_RECORDED = "previous logs are read live from the API server and never recorded"


@dataclass(frozen=True, slots=True)
class PreviousLog:
    container: str
    lines: tuple[str, ...]  # oldest first, control characters written out
    error: str = ""  # why there are no lines (403 names the permission, 400 no previous run)


def log_container(record: PodRecord | None, wanted: str) -> str:
    """The container asked for, else the one that restarted most (the one with a previous run)."""
    if wanted or record is None or not record.containers:
        return wanted
    return max(record.containers, key=lambda c: c.restarts).name


async def previous_log(
    connection: KubeConnection, namespace: str, pod: str, container: str, tail: int = TAIL_LINES
) -> PreviousLog:
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/log"
    params = [("previous", "true"), ("tailLines", str(tail)), ("limitBytes", str(MAX_BYTES))]
    if container:
        params.insert(0, ("container", container))
    what = f"get pods/log in namespace {namespace} (previous log of {pod})"
    try:
        text = await connection.get_text(path, params, what=what, max_bytes=MAX_BYTES + 1024)
    except FeedError as exc:  # the message may quote the server: cleaned like the log
        return PreviousLog(container, (), clean(str(exc)))
    return PreviousLog(container, tuple(clean(line) for line in text.splitlines()[-tail:]))
