"""A gzip body that is small on the wire and huge once inflated, as a hostile server sends it."""

from __future__ import annotations

import gzip
from functools import cache

MEMBER = 16 * 1024 * 1024  # bytes of spaces per gzip member (compresses ~1000:1)


@cache
def gzip_bomb(expanded: int = 2 * 1024**3) -> bytes:
    """`expanded` bytes of JSON whitespace as concatenated gzip members (RFC 1952 allows
    several; every HTTP client inflates them all): 2 GiB take about 2 MB."""
    member = gzip.compress(b" " * MEMBER, compresslevel=9, mtime=0)
    count, rest = divmod(expanded, MEMBER)
    tail = gzip.compress(b" " * rest, compresslevel=9, mtime=0) if rest else b""
    return member * count + tail
