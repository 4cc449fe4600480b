"""The look of the window: a clean dark and light palette, and the icons in ``resources/icons``.

``apply_theme(app, mode)`` with ``mode`` one of ``system`` (follow the desktop's colour scheme),
``dark`` or ``light``.  Sizes are never given in pixels here: everything scales with the font, so the
window stays readable at 100–200 % scaling.  ``icon(name)`` loads ``resources/icons/<name>.svg``;
monochrome icons draw in ``currentColor``, which is replaced by the theme's text colour, so they read
well on both palettes.

A theme can change while the window is open (View ▸ Theme, or the desktop's scheme in ``system``
mode).  Widgets follow the palette by themselves; what paints with :func:`colors` (plots, items,
icons) listens to :func:`notifier`'s ``changed`` signal and takes its colours again.  Icons given
with :func:`bind_icon` are drawn again by :func:`refresh_icons`.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

MODES = ("system", "dark", "light")

#: Rendered sizes of every icon (device-independent pixels; Qt picks and scales the closest).
_ICON_SIZES = (16, 20, 24, 32, 48, 64, 128)

_DARK = {
    "window": "#2b2d31",
    "base": "#1f2023",
    "alt_base": "#26282c",
    "text": "#e3e5e8",
    "dim_text": "#8e939b",
    "button": "#35383d",
    "highlight": "#3d7eff",
    "highlight_text": "#ffffff",
    "link": "#6ea2ff",
    "tooltip_base": "#111214",
    "tooltip_text": "#e3e5e8",
    "mid": "#4a4d53",
    "shadow": "#141517",
}
_LIGHT = {
    "window": "#f3f4f6",
    "base": "#ffffff",
    "alt_base": "#f6f7f9",
    "text": "#1d1f23",
    "dim_text": "#6b7078",
    "button": "#e8eaed",
    "highlight": "#2f6fed",
    "highlight_text": "#ffffff",
    "link": "#1f5fd6",
    "tooltip_base": "#fffff4",
    "tooltip_text": "#1d1f23",
    "mid": "#c4c7cc",
    "shadow": "#8a8d93",
}

_state: dict[str, Any] = {"dark": False, "system_palette": None, "mode": None, "following": False, "notifier": None}
#: The property naming the icon :func:`bind_icon` gave an object.
ICON_PROPERTY = "themeIcon"


class ThemeNotifier(QObject):
    """``changed()``: a theme was applied; whatever paints with :func:`colors` takes them again."""

    changed = Signal()


def notifier() -> ThemeNotifier:
    """The one object whose ``changed`` signal says that a theme was applied."""
    if _state["notifier"] is None:
        _state["notifier"] = ThemeNotifier()
    return _state["notifier"]


def bind_icon(target, name: str) -> None:
    """Give ``target`` (an action, a button) the icon ``name`` now and after every theme change
    (:func:`refresh_icons` draws it again in the new text colour)."""
    target.setIcon(icon(name))
    target.setProperty(ICON_PROPERTY, name)


def refresh_icons(root: QObject) -> None:
    """Draw again, in the current theme, the icons :func:`bind_icon` gave ``root`` and its children."""
    for obj in (root, *root.findChildren(QObject)):
        name = obj.property(ICON_PROPERTY)
        if name and hasattr(obj, "setIcon"):
            obj.setIcon(icon(name))


def resources_dir() -> Path:
    """The ``resources`` folder: beside the package, or inside a PyInstaller bundle (``sys._MEIPASS``)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[3] / "resources"


def is_dark() -> bool:
    """Whether the theme applied last is dark."""
    return bool(_state["dark"])


def colors() -> dict[str, str]:
    """Named colours (``#rrggbb``) of the theme applied last, for painting code and plots.

    Keys: window, base, alt_base, text, dim_text, button, highlight, highlight_text, link, tooltip_base,
    tooltip_text, mid, shadow, plus accent, good, bad, bar (similarity / probability bars).
    """
    c = dict(_DARK if is_dark() else _LIGHT)
    c.update(
        accent=c["highlight"],
        good="#3fb950" if is_dark() else "#1a8f3a",
        bad="#f06a6a" if is_dark() else "#c93c3c",
        bar="#5b8def" if is_dark() else "#3b73e0",
    )
    return c


def _palette(c: dict[str, str]) -> QPalette:
    p = QPalette()
    R = QPalette.ColorRole
    roles = {
        R.Window: "window",
        R.WindowText: "text",
        R.Base: "base",
        R.AlternateBase: "alt_base",
        R.Text: "text",
        R.Button: "button",
        R.ButtonText: "text",
        R.BrightText: "highlight_text",
        R.Highlight: "highlight",
        R.HighlightedText: "highlight_text",
        R.Link: "link",
        R.ToolTipBase: "tooltip_base",
        R.ToolTipText: "tooltip_text",
        R.PlaceholderText: "dim_text",
        R.Mid: "mid",
        R.Dark: "shadow",
        R.Shadow: "shadow",
    }
    for role, key in roles.items():
        p.setColor(role, QColor(c[key]))
    p.setColor(QPalette.ColorRole.Light, QColor(c["button"]).lighter(130))
    p.setColor(QPalette.ColorRole.Midlight, QColor(c["button"]).lighter(115))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(c["dim_text"]))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(c["mid"]))
    return p


def _system_is_dark(app) -> bool:
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    base = _state["system_palette"] or app.palette()
    return base.color(QPalette.ColorRole.Window).lightness() < 128


def apply_theme(app, mode: str = "system") -> str:
    """Give ``app`` the dark or light look; ``mode`` is ``system``, ``dark`` or ``light``.

    Returns ``"dark"`` or ``"light"``: what was applied.  In ``system`` mode the choice follows the
    desktop's colour scheme (or, where the platform does not say, the darkness of its palette).
    """
    if mode not in MODES:
        raise ValueError(f"theme mode must be one of {', '.join(MODES)}, not {mode!r}")
    if _state["system_palette"] is None:
        _state["system_palette"] = QPalette(app.palette())
    if not _state["following"]:  # in "system" mode, follow the desktop when it switches scheme
        app.styleHints().colorSchemeChanged.connect(
            lambda _scheme: _state["mode"] == "system" and apply_theme(app, "system")
        )
        _state["following"] = True
    _state["mode"] = mode
    dark = _system_is_dark(app) if mode == "system" else mode == "dark"
    _state["dark"] = dark
    app.setStyle("Fusion")
    app.setPalette(_palette(colors()))
    _icon.cache_clear()
    _configure_plots()
    notifier().changed.emit()
    return "dark" if dark else "light"


def _configure_plots() -> None:
    """pyqtgraph draws with its own colours: make them the theme's (if it is in use at all)."""
    pg = sys.modules.get("pyqtgraph")
    if pg is None:
        return
    c = colors()
    pg.setConfigOptions(background=c["base"], foreground=c["text"], antialias=True)


def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` drawn in the current theme's text colour.

    Raises ``FileNotFoundError`` for an icon that does not exist (a programming error).
    """
    return _icon(name, colors()["text"])


@lru_cache(maxsize=128)
def _icon(name: str, color: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    svg = path.read_text(encoding="utf-8").replace("currentColor", color)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"{path}: not a valid SVG icon")
    app = QGuiApplication.instance()
    ratio = app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0
    ic = QIcon()
    for size in _ICON_SIZES:
        px = max(1, round(size * ratio))
        pm = QPixmap(QSize(px, px))
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, px, px))
        painter.end()
        pm.setDevicePixelRatio(ratio)
        ic.addPixmap(pm)
    return ic


def icon_size(widget, lines: float = 1.0) -> QSize:
    """A square icon size of ``lines`` text lines in ``widget``'s font (scales with the user's DPI)."""
    h = round(widget.fontMetrics().height() * lines)
    return QSize(h, h)
