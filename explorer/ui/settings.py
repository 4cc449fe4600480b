"""The window's settings, declared once: name, type and default of each, stored with QSettings.

The settings file is an INI file in the user's config folder (``$XDG_CONFIG_HOME/music-explorer``),
resolved when :class:`Settings` is created, so tests that point ``XDG_CONFIG_HOME`` elsewhere get
their own.  Window geometry and dock/splitter state are kept apart from the user's preferences,
under ``layout/``, as opaque byte strings Qt made.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from explorer.errors import ExplorerError
from explorer.fsutil import atomic_write_bytes
from explorer.threadutil import JobThread

log = logging.getLogger(__name__)

#: Bumped when a setting changes meaning; older files are migrated in :meth:`Settings._migrate`.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    doc: str


#: Every setting the window reads or writes.
SETTINGS = {
    s.name: s
    for s in (
        Setting("theme", str, "system", "Colour theme: system, dark or light."),
        Setting("last_song", str, "", "The song open when the window was last closed."),
        Setting("last_folder", str, "", "Folder the Open dialogs start in."),
        Setting("sidebar/mode", str, "blend", "The recommendation tab chosen last (genre, sound, personal, blend)."),
        Setting("last_export_folder", str, "", "Folder the Export dialog starts in (the last export's)."),
        Setting("follow_playhead", bool, True, "Scroll the detail view to keep the playhead visible."),
        Setting("layout/geometry", QByteArray, QByteArray(), "Window geometry (Qt's saveGeometry)."),
        Setting("layout/state", QByteArray, QByteArray(), "Docks and toolbars (Qt's saveState)."),
        Setting("layout/splitter", QByteArray, QByteArray(), "Song view splitter (QSplitter.saveState)."),
    )
}


def settings_path() -> str:
    """Where the settings live: ``<config dir>/music-explorer/settings.ini``."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "music-explorer", "settings.ini")


class Settings:
    """Typed access to the declared settings; unknown names are a programming error.

    Reads come from memory (what this session set) or the file.  Writes never touch the disk in
    the calling thread: :meth:`set` hands the value to a writer thread, which saves a burst of
    changes together half a second later.  Saving an INI file fsyncs it, and while a scan writes
    its catalogue and cache that took 330 ms, which froze the window each time a song was opened
    (it records ``last_song``).  :meth:`sync` (at close) saves everything before it returns.
    """

    #: Seconds the writer waits for more changes before saving.
    WRITE_DELAY = 0.5

    def __init__(self, path: str | None = None):
        self.path = path or settings_path()
        self._q = QSettings(self.path, QSettings.Format.IniFormat)
        self._memory: dict[str, Any] = {}  # set in this session: the truth for get()
        self._pending: dict[str, Any] = {}  # set but not saved yet
        self._save_scheduled = False
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # one save at a time (writer thread or sync())
        _WRITER.start()  # now, at start-up: set() only hands it work
        self._migrate()

    def _migrate(self) -> None:
        version = int(self._q.value("schema_version", 0) or 0)
        if version < SCHEMA_VERSION:
            self._queue("schema_version", SCHEMA_VERSION)

    def get(self, name: str):
        s = SETTINGS[name]
        with self._lock:
            value = self._memory.get(name, _UNSET)
        if value is _UNSET:
            value = self._q.value(name, s.default)
        if value is None:
            return s.default
        if s.type is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if s.type is QByteArray:
            return value if isinstance(value, QByteArray) else s.default
        try:
            return s.type(value)
        except (TypeError, ValueError):
            return s.default

    def set(self, name: str, value) -> None:
        SETTINGS[name]  # noqa: B018 - KeyError for undeclared names
        if isinstance(value, QByteArray):
            value = QByteArray(value)  # our own copy: the writer thread reads it later
        self._queue(name, value)

    def sync(self) -> None:
        """Save every change now (in the calling thread)."""
        self._save()

    # -- saving ------------------------------------------------------------------------------
    def _queue(self, name: str, value) -> None:
        with self._lock:
            self._memory[name] = value
            self._pending[name] = value
            if self._save_scheduled:
                return
            self._save_scheduled = True
        _WRITER.submit(self._save_later)

    def _save_later(self) -> None:
        time.sleep(self.WRITE_DELAY)  # gather a burst of changes into one save
        with self._lock:
            self._save_scheduled = False
        self._save()

    def _save(self) -> None:
        with self._save_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            # PySide holds the GIL through QSettings.sync(), and a sync to disk takes 80-330 ms while
            # a scan writes (its fsync, or ext4 flushing a rewritten file): the window froze.  So Qt
            # only ever writes a scratch copy in memory (tmpfs), and the project's atomic write
            # (fsync, rename) puts it in place from Python, which lets the other threads run.
            try:
                fd, scratch = tempfile.mkstemp(prefix="music-explorer-settings-", suffix=".ini", dir=_scratch_dir())
            except OSError as e:
                log.warning("could not save the settings to %s: %s", self.path, e)
                return
            os.close(fd)
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                if os.path.exists(self.path):
                    shutil.copyfile(self.path, scratch)  # the keys not changed now are kept
                q = QSettings(scratch, QSettings.Format.IniFormat)  # this thread's own (QSettings is reentrant)
                q.setAtomicSyncRequired(False)
                for name, value in pending.items():
                    q.setValue(name, value)
                q.sync()
                if q.status() != QSettings.Status.NoError:
                    raise OSError("Qt could not write the settings")
                del q
                with open(scratch, "rb") as f:
                    atomic_write_bytes(self.path, f.read())
            except (OSError, ExplorerError) as e:
                log.warning("could not save the settings to %s: %s", self.path, e)
            finally:
                with contextlib.suppress(OSError):
                    os.remove(scratch)


def _scratch_dir() -> str | None:
    """A folder in memory for the settings' scratch copy (``/dev/shm`` on Linux), else the system's temp folder."""
    for folder in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
            return folder
    return None


_UNSET = object()
#: Saves every Settings' changes (one thread for all of them; see :mod:`explorer.threadutil`).
_WRITER = JobThread("explorer-settings-writer", "saving the settings")
