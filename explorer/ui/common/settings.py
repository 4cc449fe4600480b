"""The window's settings, declared once: name, type and default of each, stored in an INI file.

The settings file is an INI file in the user's config folder (``$XDG_CONFIG_HOME/music-explorer``),
resolved when :class:`Settings` is created, so tests that point ``XDG_CONFIG_HOME`` elsewhere get
their own.  Window geometry and dock/splitter state are kept apart from the user's preferences,
under ``layout/``, as opaque byte strings Qt made (written in base64).

The file is read and written here, as text, never by ``QSettings``: QSettings turns an
``@Variant(…)`` value into whatever object it names, and for PySide's ``PyObjectWrapper`` that is
``pickle.loads`` of bytes from the file, run when *any* key of its section is read.  So a file a
user was handed could run code when the window starts.  Here a value is a string, and becomes a
string, a boolean, an integer or bytes as its setting declares; anything else is ignored with a
warning.  The file stays in the layout QSettings reads (sections, Qt's escapes), so older versions
still find the preferences in it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QCoreApplication

from explorer.errors import ExplorerError
from explorer.ui.tasks import Task, manager
from explorer.util.fs import atomic_write_bytes

log = logging.getLogger(__name__)

#: Bumped when a setting changes meaning; older files are migrated in :meth:`Settings._migrate`.
#: 2: the layout is base64 text (1: Qt's ``@ByteArray(…)``, still read).
SCHEMA_VERSION = 2


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
        Setting(
            "layout/library_header",
            QByteArray,
            QByteArray(),
            "Library table: columns shown, their order, widths and the sort (QHeaderView.saveState).",
        ),
    )
}
#: What the file holds: the settings and the version of their meanings.
_STORED = {**SETTINGS, "schema_version": Setting("schema_version", int, 0, "The meanings the file was written with.")}


def settings_path() -> str:
    """Where the settings live: ``<config dir>/music-explorer/settings.ini``."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "music-explorer", "settings.ini")


# -- the INI file, as QSettings lays it out -----------------------------------------------------
#: Largest settings file read (ours is well under 10 KB); a bigger one is not ours.
MAX_FILE_BYTES = 1 << 20
_GENERAL = "General"  # QSettings' section of the keys without a "/"
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "?": "?",
    "'": "'",
    "\\": "\\",
}
_HEX = "0123456789abcdefABCDEF"


def parse_ini(text: str) -> dict[str, str | list[str]]:
    """The values of a QSettings INI file, unescaped as QSettings does, by key (``section/name``; the keys of
    ``[General]`` without a section).  A value with unquoted commas is a list.  Nothing is interpreted:
    ``@ByteArray(…)`` or ``@Variant(…)`` stay strings."""
    values: dict[str, str | list[str]] = {}
    section = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        while line.endswith("\\") and not line.endswith("\\\\") and i < len(lines):  # a continued line
            line = line[:-1] + lines[i]
            i += 1
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            name = _unpercent(stripped[1:-1].strip())
            section = "" if name == _GENERAL else name
            continue
        key, eq, raw = line.partition("=")
        if not eq:
            continue
        key = _unpercent(key.strip()).replace("\\", "/")
        if key:
            values[f"{section}/{key}" if section else key] = _unescape(raw)
    return values


def _unpercent(key: str) -> str:
    """QSettings writes the characters of keys and section names outside ``[A-Za-z0-9_-./]`` as %XX or %UXXXX."""
    out, i = [], 0
    while i < len(key):
        if (
            key[i] == "%"
            and key[i + 1 : i + 2] == "U"
            and all(c in _HEX for c in key[i + 2 : i + 6])
            and i + 6 <= len(key)
        ):
            out.append(chr(int(key[i + 2 : i + 6], 16)))
            i += 6
        elif key[i] == "%" and all(c in _HEX for c in key[i + 1 : i + 3]) and i + 3 <= len(key):
            out.append(chr(int(key[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(key[i])
            i += 1
    return "".join(out)


def _unescape(raw: str) -> str | list[str]:
    """One value as QSettings reads it: quotes group, backslash escapes (``\\n``, ``\\x1b``, octal), unquoted
    commas separate list items, spaces around unquoted items are dropped, ``;`` outside quotes starts a comment."""
    items: list[str] = []
    cur: list[str] = []
    quoted_item = in_quotes = False
    i, n = 0, len(raw)

    def finish():
        text = "".join(cur)
        items.append(text if quoted_item else text.strip(" \t"))

    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n:
            nxt = raw[i + 1]
            i += 2
            if nxt in _ESCAPES:
                cur.append(_ESCAPES[nxt])
            elif nxt == "x":
                j = i
                while j < n and raw[j] in _HEX:
                    j += 1
                if j > i:
                    cur.append(chr(int(raw[i:j], 16) & 0xFFFF))
                i = j
            elif nxt in "01234567":
                j = i - 1
                while j < n and raw[j] in "01234567" and j < i + 2:
                    j += 1
                cur.append(chr(int(raw[i - 1 : j], 8)))
                i = j
        elif ch == '"':
            in_quotes, quoted_item = not in_quotes, True
            i += 1
        elif ch == "," and not in_quotes:
            finish()
            cur, quoted_item = [], False
            i += 1
        elif ch == ";" and not in_quotes:
            break
        else:
            cur.append(ch)
            i += 1
    finish()
    return items if len(items) > 1 else items[0]


def _escape(value: str) -> str:
    """``value`` as QSettings writes a string: escapes for the backslash, quote and control characters, in
    quotes when it holds ``;``, ``,`` or ``=`` or starts or ends with a space."""
    out = []
    hex_before = False
    for ch in value:
        if hex_before and ch in _HEX:  # "\x1b" then "c" would read as \x1bc
            out.append(f"\\x{ord(ch):x}")
            continue
        hex_before = False
        code = {"\a": "a", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v", '"': '"', "\\": "\\"}.get(
            ch
        )
        if code is not None:
            out.append("\\" + code)
        elif ord(ch) <= 0x1F or 0xD800 <= ord(ch) <= 0xDFFF:  # controls; a lone surrogate has no UTF-8
            out.append(f"\\x{ord(ch):x}")
            hex_before = True
        else:
            out.append(ch)
    text = "".join(out)
    if any(c in value for c in ";,=") or value.startswith(" ") or value.endswith(" ") or not value:
        text = f'"{text}"'
    return text


def format_ini(values: dict[str, str]) -> str:
    """The text of an INI file holding these string values (``section/name`` keys), readable by QSettings."""
    sections: dict[str, list[str]] = {}
    for key in sorted(values):
        section, _, name = key.rpartition("/")
        sections.setdefault(section or _GENERAL, []).append(f"{name}={_escape(values[key])}")
    order = sorted(sections, key=lambda s: (s != _GENERAL, s))
    return "\n".join(f"[{s}]\n" + "\n".join(sections[s]) + "\n" for s in order)


def _to_text(setting: Setting, value) -> str:
    """How a value of ``setting`` is written: the string itself (a leading "@" doubled, as QSettings does),
    true/false, a number, base64."""
    if setting.type is QByteArray:
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "@" + text if text.startswith("@") else text


_KINDS = {QByteArray: "base64 text", bool: "true or false", int: "whole number", str: "string"}


def _from_text(setting: Setting, raw: str | list[str], *, warn: bool = True) -> Any:
    """The value of ``setting`` stored as ``raw``; ``_UNSET`` (with a warning when ``warn``) for anything
    but the plain string, boolean, whole number or bytes it declares."""
    kind = setting.type
    value: Any = _UNSET
    if isinstance(raw, str):
        if raw.startswith("@ByteArray(") and raw.endswith(")") and kind is QByteArray:
            content = raw[len("@ByteArray(") : -1]  # the layout as version 1 stored it: latin-1 characters
            if all(ord(c) < 256 for c in content):
                return QByteArray(content.encode("latin-1"))
        if raw.startswith("@@") and kind is str:
            value = raw[1:]  # a string that starts with "@"
        elif raw.startswith("@"):
            pass  # @Variant(…) and the other objects QSettings would build from the text: never built here
        elif kind is QByteArray:
            try:
                value = QByteArray(base64.b64decode(raw, validate=True))
            except (ValueError, binascii.Error):
                pass
        elif kind is bool:
            value = {"true": True, "false": False}.get(raw.lower(), _UNSET)
        elif kind is int:
            value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else _UNSET
        else:
            value = raw
    if value is _UNSET and warn:
        shown = repr(raw if isinstance(raw, str) else ",".join(raw))
        log.warning(
            "settings: ignored the stored value of %r, which is not a plain %s: %s",
            setting.name,
            _KINDS.get(kind, kind.__name__),
            shown[:60] + ("…" if len(shown) > 60 else ""),
        )
    return value


def read_settings_file(path: str) -> dict[str, str | list[str]]:
    """The raw values of the settings file at ``path``; empty (with a warning) when it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as e:
        log.warning("could not read the settings in %s: %s", path, e.strerror)
        return {}
    if len(data) > MAX_FILE_BYTES:
        log.warning("ignored the settings in %s: larger than %d bytes, not a settings file", path, MAX_FILE_BYTES)
        return {}
    return parse_ini(data.decode("utf-8", "replace"))


def load_settings(path: str, *, warn: bool = True) -> dict[str, Any]:
    """The declared settings (and ``schema_version``) stored in the file at ``path``, as their types; the keys
    not declared are left out, and so are the values that are not of their setting's plain type."""
    out = {}
    for key, raw in read_settings_file(path).items():
        setting = _STORED.get(key)
        if setting is not None:
            value = _from_text(setting, raw, warn=warn)
            if value is not _UNSET:
                out[key] = value
    return out


class Settings:
    """Typed access to the declared settings; unknown names are a programming error.

    Reads come from memory (what this session set) or the file, read once when created.  Writes
    never touch the disk in the calling thread: :meth:`set` hands the value to the ``settings``
    lane of :mod:`explorer.ui.tasks`, which saves a burst of changes together half a second
    later: saving fsyncs the file, which can take long while a scan writes to the same disk, and
    opening a song sets ``last_song``.  Without a Qt application (no GUI thread to keep free)
    :meth:`set` saves at once.  :meth:`sync` (at close) saves everything before it returns.
    """

    #: Seconds the settings lane waits for more changes before saving.
    WRITE_DELAY = 0.5

    def __init__(self, path: str | None = None):
        self.path = path or settings_path()
        self._stored = load_settings(self.path)  # what the file held when the window started
        self._memory: dict[str, Any] = {}  # set in this session: the truth for get()
        self._pending: dict[str, Any] = {}  # set but not saved yet
        self._save_scheduled = False
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()  # one save at a time (settings lane or sync())
        self._migrate()

    def _migrate(self) -> None:
        if self._stored.get("schema_version", 0) < SCHEMA_VERSION:
            # the save rewrites every stored value in today's form (the layout in base64)
            self._queue("schema_version", SCHEMA_VERSION)

    def get(self, name: str):
        s = SETTINGS[name]
        with self._lock:
            value = self._memory.get(name, _UNSET)
        if value is _UNSET:
            value = self._stored.get(name, s.default)
        return QByteArray(value) if s.type is QByteArray else value

    def set(self, name: str, value) -> None:
        s = SETTINGS[name]  # KeyError for undeclared names
        if s.type is QByteArray:
            value = QByteArray(value)  # our own copy: the settings lane reads it later
        else:
            value = s.type(value)
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
        app = QCoreApplication.instance()
        if app is None:  # no GUI thread to keep free (a script, a test without Qt): save at once
            self._save_later(None)
            return
        manager().run(self._save_later, owner=app, lane="settings", check_cancel=False)

    def _save_later(self, task: Task | None) -> None:
        if task is not None:  # gather a burst of changes into one save (saved at once on quit)
            task.pause(self.WRITE_DELAY)
        with self._lock:
            self._save_scheduled = False
        self._save()

    def _save(self) -> None:
        with self._save_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            # the file as it is now (another window may have saved since), with this session's changes
            values = {**load_settings(self.path, warn=False), **pending}
            text = format_ini({name: _to_text(_STORED[name], v) for name, v in values.items()})
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                atomic_write_bytes(self.path, text.encode("utf-8"))
            except (OSError, ExplorerError) as e:
                log.warning("could not save the settings to %s: %s", self.path, e)


_UNSET = object()
