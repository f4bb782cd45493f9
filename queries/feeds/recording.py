"""Recordings: every feed update of a session in one gzipped JSON-lines file.

Why gzip JSON lines: appending is one write, a Z_SYNC_FLUSH every few seconds leaves a
file readable up to that point after a crash or kill -9, and the stdlib reads it anywhere.
Measured on the bundled demo (979 updates, 15 min): 312 KiB as gzip JSON lines, 528 KiB
as SQLite with zlib per row (zstd is not in the stdlib; rows compress alone, so the
repetition between updates is lost). A linear replay needs no index SQLite would add.

Lines: a header, then updates, then an end record on a clean close. An update whose facts
equal the feed's previous facts stores {"same": 1} instead of the facts, so an idle hour
costs status lines only. No Textual here: `k8stop report --replay` reads recordings too.
"""

from __future__ import annotations

import gzip
import time
import zlib
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from k8stop.queries.feeds.source import SourceInfo
from k8stop.queries.model.codec import CODEC, CodecError
from k8stop.queries.model.sanitize import clean, scrub
from k8stop.queries.model.status import FeedUpdate
from k8stop.queries.private_files import PrivateFileError, create_private

FORMAT_NAME = "k8stop-recording"
FORMAT_VERSION = 1
SUFFIX = ".k8rec"
FLUSH_SECONDS = 2.0
_GZIP_MAGIC = b"\x1f\x8b"


class RecordingError(Exception):
    """A file that cannot be replayed; the message says which file and why, in one line."""


def _k8stop_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("k8stop")
    except PackageNotFoundError:
        return "unknown"


def default_recording_path(now: float | None = None, directory: Path | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return (directory or Path.cwd()) / f"k8stop-{stamp}{SUFFIX}"


@dataclass(frozen=True, slots=True)
class RecordingHeader:
    k8stop_version: str
    context: str
    cluster_version: str
    prometheus: str  # as the header showed it, credentials stripped
    start: float
    format_version: int = FORMAT_VERSION
    cluster: str = ""  # the fleet cluster it was scoped to; recordings without one read ""

    def info(self, flags: tuple[str, ...]) -> SourceInfo:
        return SourceInfo(self.context, self.cluster_version, self.prometheus, flags, self.cluster)


class Recorder:
    """Appends updates to `path`; attach `write` as an app listener, `close()` on exit."""

    def __init__(
        self,
        path: str | Path,
        info: SourceInfo,
        start: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.info = info  # the owner may refresh it until the first update writes the header
        self._start = start
        self._clock = clock
        self._previous: dict[str, Any] = {}
        self.updates = 0
        self.error: str | None = None
        self.header: RecordingHeader | None = None
        try:
            self._raw = create_private(self.path)
        except PrivateFileError as exc:
            raise RecordingError(str(exc)) from None
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        self._last = 0.0
        self._flushed = clock()

    def _ensure_header(self, first: float) -> None:
        if self.header is not None:
            return
        info = self.info
        h = self.header = RecordingHeader(
            _k8stop_version(),
            info.context,
            info.version,
            scrub(info.prometheus),
            first if self._start is None else self._start,
            cluster=info.cluster,
        )
        self._line(
            {
                "k": "header",
                "format": FORMAT_NAME,
                "version": h.format_version,
                "k8stop": h.k8stop_version,
                "context": h.context,
                "cluster_version": h.cluster_version,
                "prometheus": h.prometheus,
                "start": h.start,
                # only in a fleet session: a single cluster's header stays as it always was
                **({"cluster": h.cluster} if h.cluster else {}),
            }
        )

    @property
    def closed(self) -> bool:
        return self._gzip.closed

    def write(self, update: FeedUpdate[Any]) -> None:
        if self.closed:
            return
        self._ensure_header(update.at)
        record: dict[str, Any] = {"k": "u", "feed": update.feed, "at": update.at, "status": CODEC.encode(update.status)}
        previous = self._previous.get(update.feed)
        if update.facts is not None and previous is not None and update.facts == previous:
            record["same"] = 1
        else:
            record["facts"] = CODEC.encode(update.facts)
        self._previous[update.feed] = update.facts
        self._last = max(self._last, update.at)
        self.updates += 1
        self._line(record)
        if self.updates == 1 or self._clock() - self._flushed >= FLUSH_SECONDS:
            self._flush()

    def close(self, end: float | None = None) -> None:
        if self.closed:
            return
        self._ensure_header(time.time() if end is None else end)
        assert self.header is not None
        last = self._last or self.header.start
        self._line({"k": "end", "end": last if end is None else end, "updates": self.updates})
        try:
            self._gzip.close()
            self._raw.close()
        except OSError as exc:
            self.error = f"{self.path}: {exc.strerror}"

    def _line(self, record: dict[str, Any]) -> None:
        try:
            self._gzip.write(scrub(orjson.dumps(record).decode()).encode() + b"\n")
        except OSError as exc:
            # A full disk must not take the dashboard down: stop recording and say why.
            self.error = f"{self.path}: recording stopped ({exc.strerror})"
            self._gzip.close()
            self._raw.close()

    def _flush(self) -> None:
        if self.closed:
            return
        # A sync flush ends the deflate block on a byte boundary: everything written so
        # far decompresses even if the process dies before the gzip trailer is written.
        self._gzip.flush(zlib.Z_SYNC_FLUSH)
        self._raw.flush()
        self._flushed = self._clock()


@dataclass(slots=True)
class Recording:
    path: Path
    header: RecordingHeader
    updates: list[FeedUpdate[Any]]  # in file order, facts resolved
    end: float | None  # None when the file was cut short (crash, still being written)
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.times = [u.at for u in self.updates]

    @property
    def truncated(self) -> bool:
        return self.end is None

    @property
    def first(self) -> float:
        return self.times[0] if self.times else self.header.start

    @property
    def last(self) -> float:
        return self.end if self.end is not None else (self.times[-1] if self.times else self.header.start)

    def index_after(self, at: float) -> int:
        """Index of the first update later than `at`."""
        return bisect_right(self.times, at)

    def state_at(self, at: float) -> dict[str, FeedUpdate[Any]]:
        """The latest update of every feed at or before `at`."""
        state: dict[str, FeedUpdate[Any]] = {}
        for update in self.updates[: self.index_after(at)]:
            state[update.feed] = update
        return state


def read_recording(path: str | Path) -> Recording:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.startswith(_GZIP_MAGIC):
        raise RecordingError(f"{path}: not a k8stop recording (not gzip-compressed)")
    text = _inflate(path, raw)
    lines = text.split(b"\n")
    complete = lines[:-1]  # what follows the last newline was cut mid-record
    if not complete:
        raise RecordingError(f"{path}: empty or cut short before its header")
    header = _header(path, complete[0])
    updates: list[FeedUpdate[Any]] = []
    previous: dict[str, Any] = {}
    end: float | None = None
    for number, line in enumerate(complete[1:], start=2):
        try:
            record = orjson.loads(line)
            kind = record["k"]
            if kind == "end":
                end = float(record["end"])
                break
            if kind != "u":
                continue  # a record kind from a later minor version: skip, keep playing
            feed = clean(str(record["feed"]))
            facts = previous.get(feed) if record.get("same") else CODEC.decode(record.get("facts"))
            update = FeedUpdate(feed, facts, CODEC.decode(record["status"]), float(record["at"]))
        except (orjson.JSONDecodeError, CodecError, KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"{path}: corrupt record on line {number} ({exc})") from None
        previous[feed] = facts
        updates.append(update)
    return Recording(path, header, updates, end)


def _inflate(path: Path, raw: bytes) -> bytes:
    """Everything that decompresses; a missing gzip trailer just means cut short."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(raw) + inflater.flush()
    except zlib.error as exc:
        raise RecordingError(f"{path}: corrupt compressed data ({exc})") from None


def _header(path: Path, line: bytes) -> RecordingHeader:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise RecordingError(f"{path}: not a k8stop recording (no header)") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT_NAME:
        raise RecordingError(f"{path}: not a k8stop recording (unknown format)")
    version = record.get("version")
    if not isinstance(version, int):
        raise RecordingError(f"{path}: corrupt header (format version {version!r})")
    if version > FORMAT_VERSION:
        raise RecordingError(
            f"{path}: recorded by a newer k8stop ({clean(str(record.get('k8stop', '?')))}, format {version}); "
            f"this k8stop reads format {FORMAT_VERSION} and older: upgrade k8stop"
        )
    try:
        return RecordingHeader(
            clean(str(record["k8stop"])),
            clean(str(record["context"])),
            clean(str(record["cluster_version"])),
            clean(str(record["prometheus"])),
            float(record["start"]),
            version,
            clean(str(record.get("cluster") or "")),
        )
    except (KeyError, TypeError, ValueError):
        raise RecordingError(f"{path}: corrupt header") from None
