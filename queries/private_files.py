"""Files k8stop writes (recordings, diagnosis reports): created new, owner-only, never via a link.

They hold pod names, events and alert text, so they are mode 0600. They are written into the
working directory, which may be shared: a planted symlink at the name must not redirect the
write onto another file (O_NOFOLLOW), and an existing file is never overwritten (O_EXCL).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

MODE = 0o600
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class PrivateFileError(OSError):
    """The file could not be created; str() is one line naming the file and why."""


def create_private(path: Path) -> BinaryIO:
    """A new file at `path` opened for binary writing; refuses a symlink or an existing file."""
    try:
        fd = os.open(path, _EXCLUSIVE, MODE)
    except FileExistsError:
        raise PrivateFileError(_exists(path)) from None
    except OSError as exc:
        raise PrivateFileError(f"{path}: cannot create ({exc.strerror})") from None
    return os.fdopen(fd, "wb")


def write_private(path: Path, text: str) -> None:
    with create_private(path) as handle:
        handle.write(text.encode("utf-8"))


def write_replacing(path: Path, text: str) -> None:
    """An output file the user named (`--output`): an existing regular file is replaced, as a
    shell redirection would, but a symlink is refused, not followed; a new file is 0600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, MODE)
    except OSError as exc:
        if path.is_symlink():
            raise PrivateFileError(_symlink(path)) from None
        raise PrivateFileError(f"{path}: cannot write ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))


def _exists(path: Path) -> str:
    if path.is_symlink():
        return _symlink(path)
    return f"{path}: already exists; not overwriting it"


def _symlink(path: Path) -> str:
    return f"{path}: is a symbolic link; refusing to write through it (remove it or choose another name)"
