"""A read-only, copyable log of what happened: errors from scans and analyses, notices, warnings."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from explorer.ui.common import theme

LEVELS = ("debug", "info", "warning", "error")


class LogPanel(QWidget):
    """Timestamped lines, newest at the bottom; select and copy with the mouse or "Copy all".

    Signals
    -------
    messageAppended(str level, str message)
    cleared()
    """

    messageAppended = Signal(str, str)
    cleared = Signal()

    #: Older lines are dropped beyond this many, so a scan of a huge, broken folder cannot eat memory.
    MAX_LINES = 5000

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(self.MAX_LINES)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.view.setPlaceholderText("Nothing to report.")
        self.copy_button = copy = QPushButton(theme.icon("log"), "Copy all", self)
        copy.clicked.connect(self.copy_all)
        clear = QPushButton("Clear", self)
        clear.clicked.connect(self.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(copy)
        buttons.addWidget(clear)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view, 1)
        lay.addLayout(buttons)
        self._count = 0

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: the icon is drawn in its text colour
            self.copy_button.setIcon(theme.icon("log"))
        super().changeEvent(event)

    def append(self, level: str, message: str) -> None:
        """Add one line ``HH:MM:SS LEVEL message``; ``level`` is debug, info, warning or error."""
        level = level.lower()
        if level not in LEVELS:
            level = "info"
        stamp = time.strftime("%H:%M:%S")
        c = theme.colors()
        color = {"error": c["bad"], "warning": "#d29922", "debug": c["dim_text"]}.get(level)
        tag = html.escape(level.upper())
        tag = f'<span style="color:{color}">{tag}</span>' if color else tag
        text = html.escape(message).replace("\n", "<br>")
        self.view.appendHtml(f'<span style="color:{c["dim_text"]}">{stamp}</span> {tag} {text}')
        self._count += 1
        self.messageAppended.emit(level, message)

    def text(self) -> str:
        """Everything in the log as plain text."""
        return self.view.toPlainText()

    def line_count(self) -> int:
        """Lines appended since the panel was created or cleared (dropped old lines included)."""
        return self._count

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def clear(self) -> None:
        self.view.clear()
        self._count = 0
        self.cleared.emit()
