"""How a recommendation row is drawn, and its ▶ / 👍 / 👎 buttons.

One delegate draws every row (no widget per row): title and artist, genre, a similarity bar, the
reasons, and the three buttons; the geometry comes from the font, so rows stay readable and
clickable at any scaling.  The reasons wrap onto up to :data:`REASON_LINES` lines at the list's
width (the row grows with them), so a narrow sidebar still shows why a song is there.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QToolTip

from explorer.ui.common import theme
from explorer.ui.recommend.model import RecommendationModel
from explorer.ui.recommend.ranking import Item

#: Most lines a row gives its reasons; beyond them the last line ends in "…" (the tooltip has them all).
REASON_LINES = 3
#: Most lines a row gives its song's name ("P. I. Tchaikovsky: Dance of the Sugar Plum Fairy" is whole on
#: two lines of a 330-px sidebar, where one line showed "P. I. Tchaikovsky: Dance of …"; an untagged
#: file's name such as "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime" takes three).
TITLE_LINES = 3


#: Characters after which a word too wide for a line may break (file names: ``442789__lena-orsa__happy``).
BREAK_AFTER = "_-.,)"


def _break_word(fm: QFontMetrics, word: str, width: int) -> tuple[str, str]:
    """The widest head of ``word`` (at least one character) that fits ``width`` pixels, and the rest:
    cut after its last :data:`BREAK_AFTER` character when that keeps at least half the head."""
    lo, hi = 1, len(word)
    while lo < hi:  # the longest head that fits (widths grow with the head)
        mid = (lo + hi + 1) // 2
        if fm.horizontalAdvance(word[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    cuts = [k + 1 for k in range(lo) if word[k] in BREAK_AFTER and k + 1 < len(word)]
    cut = cuts[-1] if cuts and cuts[-1] >= lo // 2 else lo
    return word[:cut], word[cut:]


def wrap_text(fm: QFontMetrics, text: str, width: int, max_lines: int) -> list[str]:
    """``text`` broken at its (ordinary) spaces into lines at most ``width`` pixels wide, at most
    ``max_lines`` of them; a word wider than a line (a file name without spaces) breaks inside,
    after an underscore, hyphen or full stop where it has one; what does not fit on the last line is
    elided with "…".  A no-break space keeps its neighbours on one line."""
    words = [w for w in text.split(" ") if w]
    if not words or width <= 0:
        return [text] if text else []
    lines: list[str] = []
    current = ""
    k = 0
    while k < len(words):
        word = words[k]
        candidate = f"{current} {word}" if current else word
        if fm.horizontalAdvance(candidate) <= width:
            current = candidate
            k += 1
            continue
        if len(lines) == max_lines - 1:  # the last line: what does not fit ends in "…"
            rest = " ".join(([current] if current else []) + words[k:])
            lines.append(fm.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            return lines
        room = width - fm.horizontalAdvance(f"{current} ") if current else width
        if current and (fm.horizontalAdvance(word) <= width or room < 4 * fm.averageCharWidth()):
            lines.append(current)  # the word starts the next line
            current = ""
            continue
        # a word wider than a whole line begins where the line has room, and breaks
        head, words[k] = _break_word(fm, word, room)
        lines.append(f"{current} {head}" if current else head)
        current = ""
    lines.append(current)
    return lines


def _letters(text: str) -> str:
    """``text`` without its spaces (ordinary and no-break): what a wrapped text must still show."""
    return "".join(text.split())


def _mmss(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


class RecommendationDelegate(QStyledItemDelegate):
    """Paints a row and turns clicks on its ▶ / 👍 / 👎 into signals."""

    buttonClicked = Signal(QModelIndex, str)  # index, "play" | "like" | "dislike"
    rowActivated = Signal(QModelIndex)  # double-click outside the buttons

    BUTTONS = ("play", "like", "dislike")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._hover: tuple[int, str] | None = None

    # Geometry, all from the font: readable and clickable at any scaling.
    @staticmethod
    def _pad(fm: QFontMetrics) -> int:
        """The gap between a row's parts (px), from the font."""
        return max(2, fm.averageCharWidth() // 2 + 1)

    @classmethod
    def _metrics(cls, option) -> tuple[QFontMetrics, int, int]:
        fm = option.fontMetrics
        return fm, fm.height(), cls._pad(fm)

    @staticmethod
    def _bar_height(fm: QFontMetrics) -> int:
        return max(3, fm.height() // 5)

    def sizeHint(self, option, index) -> QSize:
        fm, line, pad = self._metrics(option)
        it: Item | None = index.data(RecommendationModel.ItemRole)
        n = max(1, len(self.reason_lines(option, it, full_width=True))) if it is not None else 1
        t = max(1, len(self.title_lines(option, it, full_width=True))) if it is not None else 1
        return QSize(fm.averageCharWidth() * 30, (1 + t + n) * line + self._bar_height(fm) + 3 * pad)

    def _text_rect(self, rect: QRect, fm: QFontMetrics) -> tuple[int, int]:
        """Left edge and width of a row's text between its ▶ and its 👍 / 👎."""
        pad = self._pad(fm)
        rects = self.button_rects(rect, fm)
        left = rects["play"].right() + 2 * pad
        return left, max(0, rects["like"].left() - 2 * pad - left)

    @staticmethod
    def _row_rect(option, full_width: bool) -> QRect:
        """``option.rect``, or with ``full_width`` the list's whole width (a size is asked for with a
        rect that is not the row's)."""
        rect = QRect(option.rect)
        view = option.widget
        if full_width and view is not None:
            viewport = view.viewport() if hasattr(view, "viewport") else view
            rect = QRect(0, 0, viewport.width(), 1)
        return rect

    @staticmethod
    def _bold(option) -> QFont:
        bold = QFont(option.font)
        bold.setBold(True)
        return bold

    def _pct_width(self, fm: QFontMetrics) -> int:
        return fm.horizontalAdvance("100%") + self._pad(fm)

    def title_lines(self, option, item: Item, *, full_width: bool = False) -> list[str]:
        """The lines a row shows its song's name on (bold, beside the score on the first line), at most
        :data:`TITLE_LINES`; a name without spaces breaks after an underscore or hyphen; a longer
        one ends in "…"."""
        _, width = self._text_rect(self._row_rect(option, full_width), option.fontMetrics)
        title_w = max(0, width - self._pct_width(option.fontMetrics))
        return wrap_text(QFontMetrics(self._bold(option)), item.title, title_w, TITLE_LINES)

    def title_cut(self, option, item: Item) -> bool:
        """Whether the row cannot show its song's whole name at the list's current width."""
        return _letters("".join(self.title_lines(option, item))) != _letters(item.title)

    def reason_lines(self, option, item: Item, *, full_width: bool = False) -> list[str]:
        """The lines a row shows its reasons on: in ``option.rect``, or with ``full_width`` across the
        whole list (a size is asked for with a rect that is not the row's)."""
        _, width = self._text_rect(self._row_rect(option, full_width), option.fontMetrics)
        # the "·" between two reasons stays at the end of a line, never starts one
        return wrap_text(option.fontMetrics, "\u00a0· ".join(item.reasons), width, REASON_LINES)

    def reasons_cut(self, option, item: Item) -> bool:
        """Whether the row cannot show all of its reasons at the list's current width."""
        # compared without spaces: a line may end inside a long word (a file name), with nothing lost
        return _letters("".join(self.reason_lines(option, item))) != _letters(" · ".join(item.reasons))

    def button_rects(self, rect: QRect, fm: QFontMetrics) -> dict[str, QRect]:
        """Where the buttons of a row occupying ``rect`` are."""
        line = fm.height()
        pad = self._pad(fm)
        b = int(line * 1.6)
        top = rect.top() + (rect.height() - b) // 2
        play = QRect(rect.left() + pad, top, b, b)
        dislike = QRect(rect.right() - pad - b, top, b, b)
        like = QRect(dislike.left() - pad // 2 - b, top, b, b)
        return {"play": play, "like": like, "dislike": dislike}

    def paint(self, painter: QPainter, option, index) -> None:
        it: Item = index.data(RecommendationModel.ItemRole)
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        fm, line, pad = self._metrics(option)
        c = theme.colors()
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = QColor(text)
        dim.setAlpha(170)
        rects = self.button_rects(option.rect, fm)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # buttons
        for name, r in rects.items():
            hovered = self._hover == (index.row(), name)
            active = (name == "like" and it.rating > 0) or (name == "dislike" and it.rating < 0)
            if hovered or active:
                bg = QColor(
                    c["good"]
                    if name == "like" and active
                    else c["bad"]
                    if name == "dislike" and active
                    else pal.color(QPalette.ColorRole.Mid)
                )
                bg.setAlpha(120 if active else 80)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(bg)
                painter.drawRoundedRect(QRectF(r), r.height() / 4, r.height() / 4)
            inner = r.adjusted(r.width() // 6, r.height() // 6, -r.width() // 6, -r.height() // 6)
            theme.icon(name).paint(painter, inner)
        # Title (up to two lines) and similarity on the first line, artist · genre under the title, then
        # the reasons, and a thin similarity bar under them all (full width: readable in a narrow dock).
        left, width = self._text_rect(option.rect, fm)
        right = left + width
        y = option.rect.top() + pad
        score = max(0.0, min(1.0, it.score))
        pct = f"{score:.0%}"
        pct_w = self._pct_width(fm)
        f = option.font
        painter.setFont(self._bold(option))
        painter.setPen(text)
        title_w = max(0, width - pct_w)
        titles = self.title_lines(option, it) or [""]
        for k, title_line in enumerate(titles):
            painter.drawText(
                QRect(left, y + k * line, title_w, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                title_line,
            )
        painter.setFont(f)
        painter.setPen(dim)
        painter.drawText(
            QRect(right - pct_w, y, pct_w, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, pct
        )
        y += (len(titles) - 1) * line
        for text_line in [" · ".join(x for x in (it.artist, it.genre) if x), *(self.reason_lines(option, it) or [""])]:
            y += line
            painter.drawText(
                QRect(left, y, width, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(text_line, Qt.TextElideMode.ElideRight, width),
            )
        y += line + pad // 2
        bh = self._bar_height(fm)
        track = QColor(pal.color(QPalette.ColorRole.Mid))
        track.setAlpha(110)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(QRectF(left, y, width, bh), bh / 2, bh / 2)
        painter.setBrush(QColor(c["bar"]))
        painter.drawRoundedRect(QRectF(left, y, max(bh, width * score), bh), bh / 2, bh / 2)
        painter.restore()

    def helpEvent(self, event, view, option, index) -> bool:
        name = self.hit(option.rect, option.fontMetrics, event.pos())
        it: Item = index.data(RecommendationModel.ItemRole)
        if name is None or it is None:
            return super().helpEvent(event, view, option, index)
        start, end = it.region
        tip = {
            "play": f"Play its chorus ({_mmss(start)}–{_mmss(end)})",
            "like": "Forget that you like it" if it.rating > 0 else "Like it: more songs like this one",
            "dislike": "Forget that you dislike it" if it.rating < 0 else "Dislike it: fewer songs like this one",
        }[name]
        QToolTip.showText(event.globalPos(), tip, view)
        return True

    def hit(self, option_rect: QRect, fm: QFontMetrics, pos) -> str | None:
        for name, r in self.button_rects(option_rect, fm).items():
            if r.contains(pos):
                return name
        return None

    def editorEvent(self, event, model, option, index) -> bool:
        t = event.type()
        if t not in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
            QEvent.Type.MouseMove,
        ):
            return False
        name = self.hit(option.rect, option.fontMetrics, event.position().toPoint())
        if t == QEvent.Type.MouseMove:
            hover = (index.row(), name) if name else None
            if hover != self._hover:
                self._hover = hover
                if option.widget is not None:
                    option.widget.update()
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if name is None:
            if t == QEvent.Type.MouseButtonDblClick:
                self.rowActivated.emit(QModelIndex(index))
                return True
            return False
        if t == QEvent.Type.MouseButtonRelease:
            self.buttonClicked.emit(QModelIndex(index), name)
        return True  # presses and double-clicks on a button are the button's
