"""A structure edit as a step of the window's undo stack."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtGui import QUndoCommand


class StructureState(NamedTuple):
    """What an edit changes of a song: its sections and choruses, and whether they are the user's
    (kept in the library as edits) or the analysis' own."""

    sections: tuple
    choruses: tuple
    edited: bool


class StructureEdit(QUndoCommand):
    """One structure edit on the window's undo stack: ``apply(state)`` shows and keeps a state;
    redo applies ``after``, undo ``before``."""

    def __init__(self, apply, before: StructureState, after: StructureState, text: str):
        super().__init__(text)
        self._apply, self.before, self.after = apply, before, after

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)
