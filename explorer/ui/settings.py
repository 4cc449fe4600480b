"""The window's settings, declared once: name, type and default of each, stored with QSettings.

The settings file is an INI file in the user's config folder (``$XDG_CONFIG_HOME/music-explorer``),
resolved when :class:`Settings` is created, so tests that point ``XDG_CONFIG_HOME`` elsewhere get
their own.  Window geometry and dock/splitter state are kept apart from the user's preferences,
under ``layout/``, as opaque byte strings Qt made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

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
    """Typed access to the declared settings; unknown names are a programming error."""

    def __init__(self, path: str | None = None):
        self.path = path or settings_path()
        self._q = QSettings(self.path, QSettings.Format.IniFormat)
        self._migrate()

    def _migrate(self) -> None:
        version = int(self._q.value("schema_version", 0) or 0)
        if version < SCHEMA_VERSION:
            self._q.setValue("schema_version", SCHEMA_VERSION)

    def get(self, name: str):
        s = SETTINGS[name]
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
        self._q.setValue(name, value)

    def sync(self) -> None:
        self._q.sync()
