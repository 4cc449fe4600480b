"""The context menu of a library row, and removing songs that failed or whose file is missing (the files stay)."""

from __future__ import annotations

import os

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from explorer.errors import ExplorerError
from explorer.ui.common import theme

#: Catalogue states whose rows the context menu offers to remove.
REMOVABLE = ("failed", "missing")


def confirm_removal(parent: QWidget, paths: list[str]) -> bool:
    """Ask whether to remove ``paths`` from the library; True when the user said yes."""
    what = f"“{os.path.basename(paths[0])}”" if len(paths) == 1 else f"{len(paths)} songs"
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Remove from library",
        f"Remove {what} from the library?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setInformativeText(
        "The files are not deleted. Their likes and listening history are forgotten; "
        "a song whose file is found by a later scan comes back."
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes


def build_row_menu(pane, path: str) -> QMenu:
    """The context menu of ``pane``'s row of ``path``: open, like / dislike (checked when so), remove (a failed
    or missing song, or all of them), copy, show."""
    menu = QMenu(pane)
    menu.addAction(theme.icon("open"), "Open", lambda: pane.songOpenRequested.emit(path))
    menu.addSeparator()
    rating = pane.model.rating_of(path) or 0
    for value, icon, text in ((1, "like", "Like"), (-1, "dislike", "Dislike")):
        a = menu.addAction(theme.icon(icon), text)
        a.triggered.connect(lambda _=False, v=value: pane.rateRequested.emit(path, 0 if rating == v else v))
        a.setCheckable(True)
        a.setChecked(rating == value)
    if pane.model.state_of(path) in REMOVABLE:
        menu.addAction("Remove from library…", lambda: remove_songs(pane, [path]))
    gone = [p for p in pane.model.paths() if pane.model.state_of(p) in REMOVABLE]
    if len(gone) > 1:
        menu.addAction(f"Remove all {len(gone)} failed and missing songs…", lambda: remove_songs(pane, gone))
    menu.addSeparator()
    menu.addAction("Copy path", lambda: QApplication.clipboard().setText(path))
    menu.addAction(
        theme.icon("folder"), "Show folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))
    )
    return menu


def remove_songs(pane, paths, *, confirm: bool = True) -> int:
    """Remove ``paths`` from ``pane``'s catalogue (the files stay), after asking; how many were removed."""
    paths = [p for p in paths if pane.model.has(p)]
    if not paths or (confirm and not confirm_removal(pane, paths)):
        return 0
    try:
        n = pane.library.remove_tracks([i for i in map(pane.model.id_of, paths) if i is not None])
    except ExplorerError as e:
        pane.errorOccurred.emit(e.message)
        return 0
    pane.model.remove_paths(paths)
    pane.update_count()
    return n
