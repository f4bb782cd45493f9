"""Errors with human reasons; `describe` turns any failure into one line for a status bar."""

from __future__ import annotations

import asyncio
import ssl

from k8stop.queries.model.sanitize import clean


class FeedError(Exception):
    """A failure whose message is already fit to show the user."""


class NotExposed(FeedError):
    """The source answered but does not have these metrics (e.g. managed etcd)."""


def describe(exc: BaseException) -> str:
    """One line; servers' own words may be echoed in it, so it is made inert (sanitize.py)."""
    return clean(_describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FeedError):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate not trusted ({exc.verify_message}): pass --prometheus-ca-file, "
            "or --insecure-skip-tls-verify to accept it"
        )
    if isinstance(exc, asyncio.TimeoutError):
        return "request timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
