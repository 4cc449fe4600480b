"""Run the real app on a folder of songs and save what a user sees (used by test_screenshots.py).

    python tests/ui/screenshot_app.py FOLDER OUT_DIR

Opens the window as ``music-explorer FOLDER`` does (the folder is scanned into the library, its
first song opened) at its default size (1440×900), waits for the song's analysis, the scan and the
recommendations, selects the first chorus, then saves ``main.png`` (the whole window),
``structure.png`` (the song view), ``matrix.png`` and ``sidebar.png`` into OUT_DIR; then the whole
window at 1440×900 and 1920×1080 in the light and the dark theme (``window-1440x900-dark.png`` …).
Prints a JSON summary on stdout, with what a test can check of each of those layouts: whether any
label in the song view's header, the sidebar or the library's status line is cut.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def wait(app, condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def cut_labels(w) -> list[str]:
    """What of the window's labels is not shown whole: the song view's header, the sidebar's title,
    tabs and status, the library's status line and count; and the pane widths."""
    cut = []

    def check(name, label):
        if (
            label.isVisible()
            and label.text()
            and not label.wordWrap()
            and label.fontMetrics().horizontalAdvance(label.text()) > label.contentsRect().width()
        ):
            cut.append(name)

    if w.title_label.shown_text() != w.title_label.text():
        cut.append("title")
    check("info", w.info_label)
    vb = w.matrix.plot.getViewBox().geometry()
    if (
        w.matrix.isVisible()
        and w.matrix.plot.isVisible()
        and vb.width() < w.matrix.fontMetrics().horizontalAdvance(w.matrix.TITLE)
    ):
        cut.append("matrix title")
    if w.sidebar is not None:
        sb = w.sidebar
        tabs = sb.mode_tabs
        if any(tabs.tabRect(i).right() > tabs.width() for i in range(tabs.count())) or any(
            tabs.tabRect(i).width() < tabs.fontMetrics().horizontalAdvance(tabs.tabText(i)) for i in range(tabs.count())
        ):
            cut.append("sidebar tabs")
        if sb.isVisible() and sb.rows_with_cut_reasons():
            cut.append("sidebar reasons")
        if sb.isVisible() and sb.rows_with_cut_titles():
            cut.append("sidebar titles")
    if w.library_pane is not None:
        pane = w.library_pane
        if pane.status_label.text() and pane.status_label.shown_text() != pane.status_label.text():
            cut.append("library status")
        check("library count", pane.count_label)
    return cut


def main(folder: str, out: str) -> int:
    from explorer.app import build_window

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    app, w = build_window([folder])
    wait(app, lambda: w.song_path is not None and w._job is None, 180)  # the song's job has ended
    analysed = w.analysis is not None and w.song is not None
    scanned = wait(app, lambda: w.library_pane is None or not w.library_pane.is_scanning(), 240)
    if w.sidebar is not None:  # it follows the library by itself: wait for its list
        wait(app, lambda: w.sidebar.model.rowCount() > 0, 30)
    if w.analysis is not None and w.analysis.choruses:
        c = w.analysis.choruses[0]
        w.waveform.set_selection(c.start, c.end)
        w.structure.highlight((c.start, c.end))
        w.show_status(f"Selected the first chorus: {c.start:.1f}–{c.end:.1f} s")
    wait(app, lambda: False, 0.5)  # let everything paint
    shots = {"main": w, "structure": w.waveform, "matrix": w.matrix, "sidebar": w.sidebar}
    saved = {}
    for name, widget in shots.items():
        if widget is not None:
            path = out_dir / f"{name}.png"
            widget.grab().save(str(path))
            saved[name] = str(path)
    layouts = {}
    for size in ((1440, 900), (1920, 1080)):
        for mode in ("light", "dark"):
            w.set_theme(mode)
            w.resize(*size)
            wait(app, lambda: False, 0.6)
            name = f"window-{size[0]}x{size[1]}-{mode}"
            path = out_dir / f"{name}.png"
            w.grab().save(str(path))
            saved[name] = str(path)
            layouts[name] = cut_labels(w)
    a = w.analysis
    summary = {
        "analysed": analysed,
        "scanned": scanned,
        "saved": saved,
        "title": w.windowTitle(),
        "sections": len(a.sections) if a else 0,
        "choruses": len(a.choruses) if a else 0,
        "motifs": len(a.motifs) if a else 0,
        "banner": w.banner.text,
        "layouts": layouts,
        "recommendations": w.sidebar.model.rowCount() if w.sidebar is not None else None,
        "library_rows": w.library_pane.model.rowCount() if w.library_pane is not None else None,
    }
    print(json.dumps(summary))
    w.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main(sys.argv[1], sys.argv[2]))
