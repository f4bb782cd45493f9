"""Untrusted text made inert: control and invisible characters shown as visible escapes.

Every string from the cluster, Prometheus or a recording is text a tenant may control (a
termination message, an event, a label value, an alert annotation). Written raw to a
terminal, ESC ] 52 rewrites the clipboard, ESC ] 0 the window title, ESC [ 6n makes the
terminal type into the shell; U+009B is an 8-bit CSI; bidi overrides and zero-width
characters make a name read as another. `clean` turns each such character into a visible
escape: `\\x1b`, `\\x9b`, `U+202E`. Newline and tab stay (messages are multi-line).

The result holds no character `clean` would change, so cleaning twice changes nothing:
strings are cleaned where they become facts and again where reports are written.
Cheap on purpose: 150,000 pods are parsed on start. Every character `clean` escapes is in
Unicode's Cc or Cf category, which `str.isprintable` rejects, so that one C loop proves
most strings clean; only text with a newline, tab or another separator goes on to the
regex. A clean string comes back unchanged (the same object).
"""

from __future__ import annotations

import re

# C0 except \t and \n; DEL and C1 (U+0080-U+009F, U+009B is CSI); zero-width space/joiners
# and LRM/RLM (U+200B-U+200F); bidi embeddings and overrides (U+202A-U+202E); word joiner
# (U+2060); bidi isolates (U+2066-U+2069); BOM / zero-width no-break space (U+FEFF).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0x9F else f"U+{code:04X}"


def clean(text: str) -> str:
    """`text` with every control or invisible character written out as an escape."""
    if text.isprintable() or _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_visible, text)


def clean_optional(text: str | None) -> str | None:
    return None if text is None else clean(text)


# Credentials that could ride along inside free text (error reasons, descriptions): URL
# userinfo, query strings and Authorization-style values. Facts never hold them; status
# reasons come from exception messages, so every line is scrubbed before it is written.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"']+@")
_QUERY = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s\"'?#]*)[?#][^\s\"']*")
_AUTH_VALUE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")


def scrub(text: str) -> str:
    """Remove URL credentials, query strings and bearer/basic values from free text."""
    text = _USERINFO.sub(r"\1", text)
    text = _QUERY.sub(r"\1", text)
    return _AUTH_VALUE.sub(r"\1 <redacted>", text)
