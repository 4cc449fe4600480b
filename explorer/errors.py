"""Errors a user can cause.  Each carries one clear sentence naming the file.

The CLI prints ``music-explorer: error: <message>`` and exits with status 2; the
window shows the message and carries on.  Programming errors are *not*
``ExplorerError`` and are never caught and hidden.
"""

from __future__ import annotations

import os


class ExplorerError(Exception):
    """Base class of every error caused by input the user gave us."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.path = os.fspath(path) if path is not None else None

    @property
    def message(self) -> str:
        return str(self.args[0])


class FileMissing(ExplorerError):
    """The file does not exist (any more), or is not a regular file."""


class UnsupportedFormat(ExplorerError):
    """The file holds no audio stream we can read."""


class DecodeError(ExplorerError):
    """ffmpeg could not decode the file (corrupt, truncated, unreadable)."""


class EmptyAudio(ExplorerError):
    """The file decodes to no samples at all."""


class TooLong(ExplorerError):
    """The file is longer than the documented limit."""


class Cancelled(ExplorerError):
    """A long job was cancelled by the user; not an error to report."""


class LibraryError(ExplorerError):
    """The catalogue could not be read or written."""


class NoSoundOutput(ExplorerError):
    """The sound device could not be opened (none, busy, unplugged): not the file's fault; the next play tries
    the device again."""
