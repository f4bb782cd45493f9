"""What every HTTP answer k8stop reads must respect, for the kube API and Prometheus alike.

k8stop runs with the most privileged credentials in the room against servers (and service
proxies) that tenants can influence. So it never follows a redirect (a 3xx would carry the
token or the custom headers to another path or host), never holds more than a configured
number of decompressed bytes from one answer (a 2 MB gzip body can expand to 2 GiB), and
names itself in User-Agent so the server's audit log says who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import aiohttp
from k8stop.queries.config import Settings
from k8stop.queries.model.errors import FeedError

MIB = 1024 * 1024


@cache
def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"k8stop/{version('k8stop')}"
    except PackageNotFoundError:
        return "k8stop/unknown"


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Caps from the config file (`max_response_mib`, `max_watch_line_mib`), in bytes."""

    max_body: int
    max_line: int


class TooLarge(FeedError):
    """An answer (or one watch line) passed its cap; the message names the setting to raise."""


def too_large(what: str, cap: int, setting: str) -> TooLarge:
    return TooLarge(
        f"{what} is larger than the {cap / MIB:g} MiB cap: not read (raise {setting} in the config file "
        "if this is a legitimate answer)"
    )


async def read_capped(response: aiohttp.ClientResponse, cap: int, what: str) -> bytes:
    """The decompressed body, or TooLarge as soon as it passes `cap` bytes.

    aiohttp inflates gzip in bounded steps as the body is consumed, so stopping here keeps
    memory near the cap whatever the compression ratio."""
    declared = response.content_length
    if declared is not None and declared > cap and not response.headers.get("Content-Encoding"):
        raise too_large(what, cap, "max_response_mib")
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > cap:
            raise too_large(what, cap, "max_response_mib")
    return bytes(body)


def is_redirect(status: int) -> bool:
    return 300 <= status < 400 and status != 304


def redirect_error(status: int, location: str | None, where: str) -> FeedError:
    """A 3xx is never followed: the credentials sent with the request must not go elsewhere."""
    target = "no Location"
    if location:
        parts = urlsplit(location)
        # Only the host (or the path for a same-host redirect): a Location may carry secrets
        target = f"Location host {parts.hostname}" if parts.hostname else f"Location path {parts.path or '/'}"
    return FeedError(
        f"{where} answered a redirect (HTTP {status}, {target}): not followed, since it would carry "
        "credentials elsewhere; point k8stop at the final URL"
    )


def limits_from(settings: Settings) -> HttpLimits:
    return HttpLimits(int(settings.max_response_mib * MIB), int(settings.max_watch_line_mib * MIB))


DEFAULT_LIMITS = limits_from(Settings())
