"""Library ▸ Train genre model on my tags…: train on the library's tagged songs and show how good it is.

The dialog starts training at once, in the background (a task of :mod:`explorer.ui.tasks`), with a
progress bar and Cancel.  When it ends it shows the report: accuracy on songs by artists the model
did not see, per-genre precision, recall and F1 as grouped bars, and the confusion matrix (both
drawn with pyqtgraph), plus the text of the report.  The new model is saved beside the library
database and the library uses it at once; "Use the shipped model" switches back.  The window's
library pane, sidebar and song header then show the new genres.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.ui.common import theme
from explorer.ui.tasks import Task, manager

_BARS = (("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))


class _TrainTask(Task):
    """Train, save and use the library's own genre model; finishes with (report, model path, songs relabelled)."""

    def __init__(self, library, *, use_default: bool = False):
        super().__init__()
        self.library = library
        self.use_default = use_default

    def work(self):
        from explorer.library.genre_model import default_model_path, train, use

        if self.use_default:
            return None, None, use(self.library, None)

        def progress(fraction: float, stage: str) -> None:
            self.check()
            self.report(0.9 * fraction, stage)

        self.report(0.0, "reading the library")
        model, report = train(self.library, progress=progress)
        path = default_model_path(self.library)
        model.save(path, report)
        self.check()
        self.report(0.92, "relabelling the library")
        n = use(self.library, path)
        return report, path, n


class TrainDialog(QDialog):
    """Trains a genre model on the library's tags in the background and shows its report.

    Parameters
    ----------
    library : Library
    parent : QWidget or None
        The window: after training, its library pane, sidebar and song header are refreshed when it
        has them (``library_pane``, ``sidebar``, ``refresh_genres``).

    Signals
    -------
    trained(object)
        The report (:class:`explorer.genre.own.Report`) of a model now in use.
    switched()
        The library's genre model changed (trained, or back to the shipped one).
    """

    trained = Signal(object)
    switched = Signal()

    def __init__(self, library, parent=None, *, start: bool = True):
        super().__init__(parent)
        from explorer.genre.own import RULE

        self.library = library
        self.report = None
        self.model_path = None
        self.setWindowTitle("Train a genre model on your tags")
        self.tasks = manager()
        self._job: _TrainTask | None = None

        self.intro = QLabel(
            f"Learns the genres your files are tagged with, from the sound of the analysed songs "
            f"in your library. It needs {RULE}. It is tested on songs by artists it was not "
            f"trained on, so the figures say how it does on music it has not heard."
        )
        self.intro.setWordWrap(True)
        self.stage = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.summary.setFont(font)

        self.bars = pg.PlotWidget()
        self.bars.setMenuEnabled(False)
        self.bars.setMouseEnabled(x=False, y=False)
        self.bars.setYRange(0, 1.3, padding=0)
        legend = self.bars.addLegend(offset=(5, 5))
        legend.setColumnCount(len(_BARS))
        self.confusion = pg.PlotWidget()
        self.confusion.setMenuEnabled(False)
        self.confusion.setMouseEnabled(x=False, y=False)
        self.confusion.setAspectLocked(True)
        self.confusion.invertY(True)
        self.confusion.setLabel("left", "your tag")
        self.confusion.setLabel("bottom", "predicted")
        self.confusion_image = pg.ImageItem()
        self.confusion.addItem(self.confusion_image)
        self.bar_items: list[pg.BarGraphItem] = []
        self.count_items: list[pg.TextItem] = []
        plots = QHBoxLayout()
        plots.addWidget(self.bars, 3)
        plots.addWidget(self.confusion, 2)
        self.plots = QWidget()
        self.plots.setLayout(plots)
        self.plots.setMinimumHeight(self.fontMetrics().height() * 18)

        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMaximumHeight(self.fontMetrics().height() * 9)

        self.retrain_button = QPushButton("Train again")
        self.retrain_button.clicked.connect(self.start)
        self.default_button = QPushButton("Use the shipped model")
        self.default_button.setToolTip("Name genres with the model that comes with Music Explorer again")
        self.default_button.clicked.connect(self.use_default)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.retrain_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.default_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.stage)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self._show_report(None)
        self.apply_theme()
        theme.notifier().changed.connect(self.apply_theme)
        self.resize(self.fontMetrics().averageCharWidth() * 120, self.fontMetrics().height() * 42)
        if start:
            self.start()

    def apply_theme(self) -> None:
        """Take the current theme's colours (called again whenever a theme is applied)."""
        c = theme.colors()
        for plot, title in ((self.bars, "Precision, recall and F1 per genre"), (self.confusion, "Confusion matrix")):
            plot.setBackground(c["base"])
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(c["text"])
                axis.setTextPen(c["text"])
            plot.setTitle(title, size="9pt", color=c["text"])
        legend = self.bars.plotItem.legend
        if legend is not None:
            legend.setLabelTextColor(c["text"])
        if self.report is not None:
            self._draw_bars(self.report)

    # -- running ----------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None

    def start(self, *, use_default: bool = False) -> None:
        """Train (or, with ``use_default``, switch back to the shipped model) in the background."""
        if self._job is not None:
            return
        job = _TrainTask(self.library, use_default=use_default)
        job.signals.progress.connect(self._on_progress)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.cancelled.connect(self._on_cancelled)
        self._job = job
        self._set_running(True, "switching back" if use_default else "starting")
        self.tasks.start(job, owner=self)

    def use_default(self) -> None:
        self.start(use_default=True)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _set_running(self, on: bool, stage: str = "") -> None:
        self.progress.setVisible(on)
        self.progress.setValue(0)
        self.stage.setText(stage)
        self.cancel_button.setVisible(on)
        self.retrain_button.setEnabled(not on)
        self.default_button.setEnabled(not on)

    def _on_progress(self, _rid: int, fraction: float, stage: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.stage.setText(stage)

    def _on_finished(self, _rid: int, result) -> None:
        self._job = None
        report, path, n = result
        self._set_running(False)
        if report is None:
            self.stage.setText(f"The library uses the shipped genre model again ({n} songs relabelled).")
        else:
            self.model_path = path
            self.stage.setText(f"Saved to {path.name}; the library uses it ({n} songs relabelled).")
            self._show_report(report)
            self.trained.emit(report)
        self._refresh_window()
        self.switched.emit()

    def _on_failed(self, _rid: int, message: str) -> None:
        self._job = None
        self._set_running(False)
        self.summary.setText(message[:1].upper() + message[1:])
        self.stage.setText("")

    def _on_cancelled(self, _rid: int) -> None:
        self._job = None
        self._set_running(False, "Cancelled; the library's genre model is unchanged.")

    def _refresh_window(self) -> None:
        window = self.parent()
        pane = getattr(window, "library_pane", None)
        if pane is not None:
            pane.refresh()
        refresh = getattr(window, "refresh_genres", None)
        if refresh is not None:
            refresh()

    def done(self, result: int) -> None:
        self.cancel()
        self.tasks.wait(self)
        super().done(result)

    # -- the report -----------------------------------------------------------------------------------------
    def _show_report(self, report) -> None:
        self.report = report
        self.plots.setVisible(report is not None)
        self.text.setVisible(report is not None)
        if report is None:
            self.summary.setText("")
            return
        self.summary.setText(
            f"{report.accuracy:.0%} of {report.songs} songs by {report.artists} artists named "
            f"right by a model that had not heard their artist"
        )
        self.text.setPlainText(report.text())
        self._draw_bars(report)
        self._draw_confusion(report)

    def _draw_bars(self, report) -> None:
        for item in self.bar_items:
            self.bars.removeItem(item)
        self.bar_items = []
        legend = self.bars.plotItem.legend
        if legend is not None:
            legend.clear()
        c = theme.colors()
        colors = (c["bar"], c["good"], "#e0a030")
        n = len(report.genres)
        width = 0.8 / len(_BARS)
        x = np.arange(n, dtype=float)
        for k, ((key, name), color) in enumerate(zip(_BARS, colors)):
            heights = [report.per_genre[g][key] for g in report.genres]
            item = pg.BarGraphItem(
                x=x - 0.4 + width * (k + 0.5),
                height=heights,
                width=width * 0.9,
                brush=pg.mkBrush(color),
                pen=pg.mkPen(None),
                name=name,
            )
            self.bars.addItem(item)  # (its name puts it in the legend)
            self.bar_items.append(item)
        self.bars.getAxis("bottom").setTicks([list(zip(x.tolist(), report.genres))])
        self.bars.setXRange(-0.6, n - 0.4, padding=0)
        self.bars.setYRange(0, 1.3, padding=0)
        self.bars.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]])

    def _draw_confusion(self, report) -> None:
        m = np.asarray(report.confusion, dtype=float)
        share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        self.confusion_image.setImage(share.T, levels=(0, 1))  # ImageItem's first axis is x (the column)
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        for item in self.count_items:
            self.confusion.removeItem(item)
        self.count_items = []
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                t = pg.TextItem(str(int(m[i, j])), color="w" if share[i, j] < 0.6 else "k", anchor=(0.5, 0.5))
                t.setPos(j + 0.5, i + 0.5)
                self.confusion.addItem(t)
                self.count_items.append(t)
        ticks = [[(k + 0.5, g) for k, g in enumerate(report.genres)]]
        self.confusion.getAxis("bottom").setTicks(ticks)
        self.confusion.getAxis("left").setTicks(ticks)
        self.confusion.setRange(xRange=(0, m.shape[1]), yRange=(0, m.shape[0]), padding=0.02)

    def confusion_counts(self) -> np.ndarray:
        """The counts the matrix shows [shape=(n_genres, n_genres)] (rows: tag, columns: predicted)."""
        assert self.report is not None, "no report shown"
        return np.array(
            [
                [
                    int(t.toPlainText())
                    for t in self.count_items[i * len(self.report.genres) : (i + 1) * len(self.report.genres)]
                ]
                for i in range(len(self.report.genres))
            ]
        )

    def bar_heights(self) -> dict[str, list[float]]:
        """The heights of the drawn bars, per measure (precision, recall, f1), in the report's genre order."""
        return {key: list(item.opts["height"]) for (key, _), item in zip(_BARS, self.bar_items)}
