"""How the library table paints its "Rating" column."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem


class RatingDelegate(QStyledItemDelegate):
    """The "Rating" column: the like or dislike icon in the middle of the cell (it has no text; the
    style would put the icon at the cell's left edge)."""

    def paint(self, painter, option, index):
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        icon = QIcon(opt.icon)
        opt.icon = QIcon()
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)  # background, focus
        if icon.isNull():
            return
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        rect = QStyle.alignedRect(opt.direction, Qt.AlignmentFlag.AlignCenter, opt.decorationSize, opt.rect)
        icon.paint(painter, rect, Qt.AlignmentFlag.AlignCenter, QIcon.Mode.Selected if selected else QIcon.Mode.Normal)
