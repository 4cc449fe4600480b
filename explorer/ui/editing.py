"""Editing the song's structure in the main window (split, merge, rename, move, revert, each a
step of the undo stack and saved in the library's edits lane), and exporting it."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QMenu,
)

from explorer.analysis import edits
from explorer.analysis.types import FUNCTIONS
from explorer.errors import ExplorerError
from explorer.ui.song.structure_edit import StructureEdit, StructureState
from explorer.ui.song.structure_style import describe_section
from explorer.ui.song.time_axis import format_time
from explorer.ui.window_base import WindowBase

#: The export formats, as the menu and the dialog name them.
EXPORT_LABELS = {"json": "JSON", "jams": "JAMS", "audacity": "Audacity labels", "lab": "MIREX .lab"}


class Editing(WindowBase):
    """The main window's structure editing and export (a part of :class:`~explorer.ui.main_window.MainWindow`)."""

    def step_section(self, step: int) -> None:
        """Select and show the previous/next section (±1), the first or the last (huge steps).

        Without sections, the arrows pan the view instead."""
        if self.analysis is None or not self.analysis.sections:
            self.waveform.pan(0.25 if step > 0 else -0.25)
            return
        secs = self.analysis.sections
        sel = self.waveform.selected()
        here = sel[0] if sel is not None else self.waveform.cursor_time
        i = edits.section_index_at(secs, time=here + 1e-6)
        if i is None:
            # before the first section or after the last (silence, a ringing tail): the first step
            # goes to the nearest one in the direction asked
            ahead = [k for k, s in enumerate(secs) if s.start > here]
            behind = [k for k, s in enumerate(secs) if s.end <= here]
            if step > 0:
                j = ahead[0] + step - 1 if ahead else len(secs) - 1
            else:
                j = behind[-1] + step + 1 if behind else 0
        elif sel is None and step < 0 and here - secs[i].start > 1e-3:
            j = i  # inside a section: "previous" first goes back to its own start
        else:
            j = i + step
        s = secs[max(0, min(len(secs) - 1, j))]
        self.waveform.set_selection(s.start, s.end)
        self.waveform.cursor_time = s.start
        self.waveform.ensure_visible(s.start, s.end)
        self.show_status(describe_section(s))

    def save_sections(self, sections, text: str = "Edit the structure") -> None:
        """Apply edited sections to the song on screen and keep them in the library at once (in
        the edits writer's thread; :attr:`editSaved` says when they are in), as one step of the
        undo stack (Edit ▸ Undo, Ctrl+Z) named ``text``."""
        if self.analysis is None:
            return
        sections = tuple(sections)
        if sections == self.analysis.sections:
            return  # nothing changed (a split too close to a boundary, a drag back to its place)
        edited = edits.with_sections(self.analysis, sections=sections)
        self.undo_stack.push(
            StructureEdit(
                self._apply_structure,
                self._structure_state(),
                StructureState(edited.sections, edited.choruses, True),
                text,
            )
        )

    def revert_to_automatic(self) -> None:
        """Edit ▸ Revert to automatic analysis: the song's structure as the analysis found it, its
        edits removed from the library (a step of the undo stack too)."""
        if self.analysis is None or self._automatic is None or not self._edited:
            self.show_status("The structure on screen is the automatic analysis.")
            return
        self.undo_stack.push(
            StructureEdit(
                self._apply_structure, self._structure_state(), self._automatic, "Revert to automatic analysis"
            )
        )

    def _structure_state(self) -> StructureState:
        assert self.analysis is not None, "only called with a song's analysis on screen"
        return StructureState(self.analysis.sections, self.analysis.choruses, self._edited)

    def _apply_structure(self, state: StructureState) -> None:
        """Show ``state`` and keep it: the user's sections saved as the song's edits, or the edits
        removed when it is the automatic analysis (in the edits writer's thread)."""
        if self.analysis is None:
            return
        self.analysis = self.analysis.replace(sections=state.sections, choruses=state.choruses)
        self._edited = state.edited
        self.structure.set_analysis(self.analysis)
        self._show_song_info()  # the header counts sections and choruses: they just changed
        self._update_actions()
        if self.library is not None and self.song is not None and self.song.content_hash:
            library, content_hash, sections = self.library, self.song.content_hash, state.sections
            saved, failed, edited = self.editSaved, self.threadFailed, state.edited

            def save(_task) -> None:  # in the edits lane
                try:
                    if edited:
                        library.save_structure_edits(content_hash, sections)
                    else:
                        library.clear_structure_edits(content_hash)
                except ExplorerError as e:
                    failed.emit(f"Could not save the edit: {e.message}")
                else:
                    saved.emit()

            self.show_status("Saving the edit…")
            self.tasks.run(save, owner=self, lane="edits", check_cancel=False)
        else:
            self.show_status("Edit applied (no library to keep it in).")

    def split_at_cursor(self, t: float | None = None) -> None:
        if self.analysis is not None:
            t = self.waveform.cursor_time if t is None or t is False else t
            pos = self.player.position()
            t = pos if pos is not None and self.player.state != "stopped" else t
            self.save_sections(edits.split_section(self.analysis.sections, at=t), f"Split at {format_time(t, 1)}")

    def merge_at_cursor(self, t: float | None = None) -> None:
        if self.analysis is not None:
            t = self.waveform.cursor_time if t is None or t is False else t
            i = edits.section_index_at(self.analysis.sections, time=t)
            if i is not None:
                self.save_sections(edits.merge_with_next(self.analysis.sections, index=i), "Merge sections")

    def rename_section(self, index: int, label: str | None = None, function: str | None = None) -> None:
        if self.analysis is not None:
            text = f"Rename section to {label}" if label is not None else f"Set function to {function}"
            renamed = edits.rename_section(self.analysis.sections, index=index, label=label, function=function)
            self.save_sections(renamed, text)

    def _context_menu(self, t: float, screen_pos) -> None:
        menu = self.build_context_menu(t)
        if menu is not None:
            menu.popup(screen_pos)

    def build_context_menu(self, t: float) -> QMenu | None:
        if self.song is None:
            return None
        menu = QMenu(self)
        menu.addAction(self.act_play)
        duration = self.song.buffer.duration
        menu.addAction("Play from here", lambda: self.play_region(t, duration))
        secs = self.analysis.sections if self.analysis is not None else ()
        i = edits.section_index_at(secs, time=t)
        if i is not None:
            s = secs[i]
            menu.addSeparator()
            menu.addAction(f"Play section {s.label} ({s.function})", lambda: self.play_region(s.start, s.end))
            menu.addAction(
                "Split section here",
                lambda: self.save_sections(edits.split_section(secs, at=t), f"Split at {format_time(t, 1)}"),
            )
            if i + 1 < len(secs):
                menu.addAction("Merge with next section", lambda: self.merge_at_cursor(s.start))
            menu.addAction("Rename label…", lambda: self._ask_label(i))
            fm = menu.addMenu("Function")
            for fn in FUNCTIONS:
                a = fm.addAction(fn.capitalize())
                a.triggered.connect(lambda _=False, f=fn: self.rename_section(i, function=f))
                a.setCheckable(True)
                a.setChecked(fn == s.function)
        return menu

    def _ask_label(self, index: int) -> None:
        if self.analysis is None:
            return
        cur = self.analysis.sections[index].label
        text, ok = QInputDialog.getText(self, "Rename section", "Label (e.g. A, B, C):", text=cur)
        if ok and text.strip():
            self.rename_section(index, label=text.strip())

    def export_dialog(self, fmt: str) -> None:
        from explorer.export.formats import EXTENSIONS

        if self.analysis is None:
            self.show_error("Nothing to export yet: open a song and wait for its analysis.")
            return
        stem = Path(self.song_path or "song").stem
        # where the last export went; at first the user's documents, never the music folder itself
        folder = (
            self.settings.get("last_export_folder")
            or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
            or os.path.expanduser("~")
        )
        suggested = os.path.join(folder, stem + EXTENSIONS[fmt])
        label = EXPORT_LABELS[fmt]
        # Qt's save dialog asks before replacing an existing file.
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export structure as {label}", suggested, f"{label} (*{EXTENSIONS[fmt]});;All files (*)"
        )
        if path:
            self.settings.set("last_export_folder", os.path.dirname(path))
            self.export_to(path, fmt, overwrite=True)

    def export_to(self, path: str, fmt: str, *, overwrite: bool = False) -> bool:
        """Write the structure of the song on screen to ``path``; never replaces a file unless told."""
        from explorer.export.formats import render
        from explorer.util.fs import atomic_write_text

        if self.analysis is None:
            self.show_error("Nothing to export yet: open a song and wait for its analysis.")
            return False
        try:
            atomic_write_text(path, render(self.analysis, fmt), overwrite=overwrite)
        except ExplorerError as e:
            self.show_error(e.message)
            return False
        self.show_status(f"Exported {fmt.upper()} to {path}")
        return True
