"""The library table header's context menu: which columns show (the title always does)."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QMenu, QWidget


def build_column_menu(
    header: QHeaderView, names: tuple[str, ...], *, keep: int = 0, parent: QWidget | None = None
) -> QMenu:
    """A menu with one checkable entry per column of ``header``, in the order they are shown; toggling
    one shows or hides that column.  Column ``keep`` is always shown (its entry is disabled), and the
    last shown column cannot be hidden.  Hidden columns are part of the header's saved state.

    Parameters
    ----------
    header : QHeaderView
    names : tuple of str
        The columns' names, by logical index.
    keep : int
        Logical index of the column that stays.
    """
    menu = QMenu("Columns", parent)
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    for visual in range(header.count()):
        col = header.logicalIndex(visual)
        action = menu.addAction(names[col])
        action.setCheckable(True)
        action.setChecked(not header.isSectionHidden(col))
        action.setEnabled(col != keep and not (len(shown) == 1 and col in shown))
        action.toggled.connect(lambda on, c=col: header.setSectionHidden(c, not on))
    return menu
