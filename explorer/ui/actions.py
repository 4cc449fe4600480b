"""The main window's actions, menus and toolbar, and which of them apply to the song on screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QToolBar,
)

from explorer.ui.common import theme
from explorer.ui.editing import EXPORT_LABELS
from explorer.ui.window_base import WindowBase


class WindowActions(WindowBase):
    """The main window's actions (a part of :class:`~explorer.ui.main_window.MainWindow`)."""

    def _action(
        self,
        text: str,
        slot,
        shortcut=None,
        *,
        icon: str | None = None,
        context=None,
        checkable: bool = False,
        tip: str = "",
    ) -> QAction:
        a = QAction(text, self)
        if icon:
            theme.bind_icon(a, icon)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(k) for k in keys])
        a.setCheckable(checkable)
        if tip:
            a.setToolTip(tip)
        a.triggered.connect(slot)
        if context is not None:
            a.setShortcutContext(context)
            self.waveform.addAction(a)
        else:
            self.addAction(a)
        return a

    def _build_actions(self) -> None:
        # Transport, zoom and section/pan keys work wherever the focus is (a text field keeps the keys
        # it types with: it claims them first); Home/End, split and merge only in the song view, as lists
        # and the library's type-ahead use those keys themselves.
        song = Qt.ShortcutContext.WidgetWithChildrenShortcut
        A = self._action
        self.act_open = A("&Open…", self.open_dialog, QKeySequence.StandardKey.Open, icon="open")
        self.act_open_folder = A(
            "&Add folder…",
            self.open_folder_dialog,
            "Ctrl+Shift+O",
            icon="folder-add",
            tip="Add a folder of songs to the library (Ctrl+Shift+O)",
        )
        self.act_rescan = A(
            "&Rescan library",
            self.rescan,
            "F5",
            tip="Look again in the library's folders: new, changed and missing songs (F5)",
        )
        self.act_quit = A("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_play = A(
            "Play / pause",
            self.toggle_play,
            "Space",
            icon="play",
            tip="Play the selection (or from the cursor); pause and resume (Space)",
        )
        self.act_stop = A("Stop", self.stop, "Esc", icon="stop", tip="Stop (Esc)")
        self.act_loop = A("Loop", self.toggle_loop, "L", icon="loop", checkable=True, tip="Loop the region (L)")
        self.act_choruses = A(
            "Play all choruses", self.play_all_choruses, "C", tip="Play every chorus, one after the other (C)"
        )
        self.act_occurrences = A(
            "Play all occurrences",
            self.play_all_occurrences,
            "O",
            tip="Play every occurrence of the highlighted motif (O)",
        )
        self.act_zoom_in = A("Zoom in", lambda: self.waveform.zoom(1.5), ["+", "=", "Ctrl++"], icon="zoom-in")
        self.act_zoom_out = A("Zoom out", lambda: self.waveform.zoom(1 / 1.5), ["-", "Ctrl+-"], icon="zoom-out")
        self.act_zoom_all = A("Whole song", self.zoom_all, "0")
        self.act_prev = A("Previous section", lambda: self.step_section(-1), "Left")
        self.act_next = A("Next section", lambda: self.step_section(1), "Right")
        self.act_home = A("First section", lambda: self.step_section(-(10**6)), "Home", context=song)
        self.act_end = A("Last section", lambda: self.step_section(10**6), "End", context=song)
        self.act_pan_left = A("Pan left", lambda: self.waveform.pan(-0.25), "Shift+Left")
        self.act_pan_right = A("Pan right", lambda: self.waveform.pan(0.25), "Shift+Right")
        self.act_split = A("Split section at cursor", self.split_at_cursor, "S", context=song)
        self.act_merge = A("Merge section with next", self.merge_at_cursor, "M", context=song)
        self.undo_stack = QUndoStack(self)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)])
        self.addActions([self.act_undo, self.act_redo])
        self.act_revert = A(
            "Revert to automatic analysis",
            self.revert_to_automatic,
            tip="Forget your edits of this song's structure (Undo brings them back)",
        )
        self.act_filter = A("Filter library", self.focus_filter, QKeySequence.StandardKey.Find)
        self.act_about = A("&About Music Explorer", self.about)
        self.act_train_genre = A(
            "Train genre model on my tags…",
            self.train_genre_model,
            tip="Learn the genres your files are tagged with, and see how well it does",
        )
        self.export_actions = {}
        for fmt, label in EXPORT_LABELS.items():
            self.export_actions[fmt] = A(f"{label}…", lambda _=False, f=fmt: self.export_dialog(f))

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_open, self.act_open_folder, self.act_rescan])
        self.act_rescan.setEnabled(self.library_pane is not None)
        self.export_menu = m.addMenu("&Export structure")
        theme.bind_icon(self.export_menu, "export")
        self.export_menu.addActions(list(self.export_actions.values()))
        m.addSeparator()
        m.addAction(self.act_quit)
        mb.addMenu("&Library").addAction(self.act_train_genre)
        self.act_train_genre.setEnabled(self.library is not None)
        m = mb.addMenu("&Play")
        m.addActions([self.act_play, self.act_stop, self.act_loop])
        m.addSeparator()
        m.addActions([self.act_choruses, self.act_occurrences])
        m = mb.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_split, self.act_merge])
        m.addSeparator()
        m.addAction(self.act_revert)
        m = mb.addMenu("&View")
        m.addActions([self.act_zoom_in, self.act_zoom_out, self.act_zoom_all])
        m.addSeparator()
        m.addActions([self.act_prev, self.act_next, self.act_home, self.act_end, self.act_pan_left, self.act_pan_right])
        m.addSeparator()
        panels = m.addMenu("Panels")
        for dock in (self.library_dock, self.sidebar_dock, self.log_dock):
            if dock is not None:
                panels.addAction(dock.toggleViewAction())
        self.act_show_matrix = panels.addAction("Self-similarity matrix")
        self.act_show_matrix.setCheckable(True)
        self.act_show_matrix.setChecked(True)
        self.act_show_matrix.toggled.connect(self.matrix.setVisible)
        themes = m.addMenu("Theme")
        group = QActionGroup(self)
        current = self.settings.get("theme")
        for mode in ("system", "dark", "light"):
            a = themes.addAction(mode.capitalize())
            a.setCheckable(True)
            a.setChecked(mode == current)
            group.addAction(a)
            a.triggered.connect(lambda _=False, md=mode: self.set_theme(md))
        m = mb.addMenu("&Help")
        m.addAction(self.act_about)

        tb = QToolBar("Transport")
        tb.setObjectName("transportToolbar")
        tb.setMovable(False)
        tb.addActions([self.act_open, self.act_open_folder])
        tb.addSeparator()
        tb.addActions([self.act_play, self.act_stop, self.act_loop])
        tb.addSeparator()
        tb.addActions([self.act_choruses, self.act_occurrences])
        tb.addSeparator()
        tb.addActions([self.act_zoom_in, self.act_zoom_out])
        self.addToolBar(tb)
        panels.addAction(tb.toggleViewAction())
        self._update_actions()

    def _update_actions(self) -> None:
        has_song = self.song is not None
        for a in (self.act_play, self.act_stop, self.act_loop):
            a.setEnabled(has_song)
        shown = self.analysis if has_song else None
        has_analysis = shown is not None
        self.act_choruses.setEnabled(
            shown is not None and bool(shown.choruses or any(s.function == "chorus" for s in shown.sections))
        )
        self.act_occurrences.setEnabled(shown is not None and bool(shown.motifs))
        self.export_menu.setEnabled(self.analysis is not None)
        self.act_revert.setEnabled(has_analysis and self._edited)

    def zoom_all(self) -> None:
        self.waveform.set_range(0.0, self.waveform.duration)

    def focus_filter(self) -> None:
        if self.library_pane is not None and hasattr(self.library_pane, "focus_filter"):
            self.library_pane.focus_filter()

    def set_theme(self, mode: str) -> None:
        """View ▸ Theme: the whole window takes the new colours at once (the plots and their items
        listen to :func:`explorer.ui.common.theme.notifier` themselves)."""
        self.settings.set("theme", mode)
        theme.apply_theme(QApplication.instance(), mode)

    def _on_theme_changed(self) -> None:
        theme.refresh_icons(self)  # the toolbar's and menus' icons, in the new text colour
