"""The recommendation sidebar on a real library: tiny songs made here, scanned by the real scanner."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from explorer.analysis.types import Analysis, Chorus, Genre, Section
from explorer.library.cache import AnalysisCache, default_folder
from explorer.library.store import Library
from explorer.recommend.preview import FALLBACK_PREVIEW, MAX_SECTION_PREVIEW, preview_region
from explorer.ui.recommend.sidebar import RecommendationSidebar
from tests.ui.helpers import SONGS

SR = 22050


@pytest.fixture
def sidebar(qtbot, library):
    sb = RecommendationSidebar(library)
    qtbot.addWidget(sb)
    sb.resize(420, 600)
    sb.show()
    yield sb
    sb.shutdown()


def _path(music: Path, name: str) -> str:
    return str(music / name)


def _titles(sb) -> list[str]:
    return [it.title for it in sb.items()]


def _show(qtbot, sb, path, mode):
    with qtbot.waitSignal(sb.recommendationsChanged, timeout=20000):
        sb.set_current(path, None)
        sb.set_mode(mode)


def test_recommendations_with_reasons(qtbot, sidebar, scanned):
    music = scanned[0]
    seed = _path(music, "sine0.mp3")
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        sidebar.set_current(seed, None)
    items = sidebar.items()
    assert len(items) == len(SONGS) - 1
    assert seed not in [it.path for it in items]
    # a reason only where it explains the row's rank: the best row has one, none is empty text
    assert items[0].reasons and all(isinstance(r, str) and r for it in items for r in it.reasons)
    assert all(0.0 <= it.score <= 1.0 for it in items)
    assert [it.score for it in items] == sorted((it.score for it in items), reverse=True)
    # The other soft sine sounds most like the seed ("Sounds like" chosen as a user would).
    tabs = sidebar.mode_tabs
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        qtbot.mouseClick(tabs, Qt.LeftButton, pos=tabs.tabRect(1).center())
    assert sidebar.mode == "sound"
    assert sidebar.items()[0].title == "Sine 1"
    assert "Sine 0" in sidebar.title_label.text()
    # Every mode answers.
    for mode in ("genre", "personal", "blend"):
        with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
            sidebar.set_mode(mode)
        assert len(sidebar.items()) == len(SONGS) - 1
    with pytest.raises(ValueError):
        sidebar.set_mode("astrology")


def _row_center_button(sb, row: int, name: str) -> QPoint:
    rect = sb.view.visualRect(sb.model.index(row))
    return sb.delegate.button_rects(rect, sb.view.fontMetrics())[name].center()


def test_like_and_dislike_rerank(qtbot, sidebar, library, scanned):
    music = scanned[0]
    _show(qtbot, sidebar, _path(music, "sine0.mp3"), "personal")
    before = _titles(sidebar)
    assert before[0] == "Sine 1"
    noise = before.index("Noise 4")
    assert noise > 0
    # 👍 on "Noise 4" (clicked like a user would): the other noise song, like it, rises; the liked song
    # itself does not rank itself up
    scores = {it.title: it.score for it in sidebar.items()}
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        qtbot.mouseClick(sidebar.view.viewport(), Qt.LeftButton, pos=_row_center_button(sidebar, noise, "like"))
    after = _titles(sidebar)
    liked = {it.title: it.score for it in sidebar.items()}
    assert liked["Noise 5"] > scores["Noise 5"], (scores, liked)
    assert liked["Noise 5"] - scores["Noise 5"] > liked["Noise 4"] - scores["Noise 4"]
    assert library.track_by_path(_path(music, "noise4.mp3")).rating == 1
    # 👎 on "Sine 1": it leaves the personal list at once.
    row = after.index("Sine 1")
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        qtbot.mouseClick(sidebar.view.viewport(), Qt.LeftButton, pos=_row_center_button(sidebar, row, "dislike"))
    assert "Sine 1" not in _titles(sidebar)
    assert library.track_by_path(_path(music, "sine1.mp3")).rating == -1
    # 👍 again on a liked song forgets the like.
    row = _titles(sidebar).index("Noise 4")
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        qtbot.mouseClick(sidebar.view.viewport(), Qt.LeftButton, pos=_row_center_button(sidebar, row, "like"))
    assert library.track_by_path(_path(music, "noise4.mp3")).rating == 0


def test_preview_button_emits_that_songs_chorus(qtbot, sidebar, library, scanned):
    music = scanned[0]
    _show(qtbot, sidebar, _path(music, "sine0.mp3"), "sound")
    for row in (0, 2):
        it = sidebar.items()[row]
        with qtbot.waitSignal(sidebar.previewRequested, timeout=2000) as sig:
            qtbot.mouseClick(sidebar.view.viewport(), Qt.LeftButton, pos=_row_center_button(sidebar, row, "play"))
        path, start, end = sig.args
        assert path == it.path
        track = library.track_by_path(path)
        assert (start, end) == pytest.approx(preview_region(library, track))
        assert 0 <= start < end <= track.duration + 0.01


def _double_click(qtbot, widget, pos):
    """What a mouse sends: press and release, then a double-click and release (QTest sends only the latter)."""
    qtbot.mouseClick(widget, Qt.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.LeftButton, pos=pos)


def test_double_click_and_keys_open_and_preview(qtbot, sidebar, scanned):
    music = scanned[0]
    _show(qtbot, sidebar, _path(music, "square2.mp3"), "sound")
    rect = sidebar.view.visualRect(sidebar.model.index(1))
    text_pos = QPoint(rect.center().x(), rect.top() + rect.height() // 2)
    with qtbot.waitSignal(sidebar.openRequested, timeout=2000) as sig:
        _double_click(qtbot, sidebar.view.viewport(), text_pos)
    assert sig.args == [sidebar.items()[1].path]
    # A double-click on a button is that button, not "open".
    opened = []
    sidebar.openRequested.connect(opened.append)
    with qtbot.waitSignal(sidebar.previewRequested, timeout=2000):
        _double_click(qtbot, sidebar.view.viewport(), _row_center_button(sidebar, 0, "play"))
    assert opened == []
    sidebar.view.setFocus()
    sidebar.view.setCurrentIndex(sidebar.model.index(2))
    with qtbot.waitSignal(sidebar.openRequested, timeout=2000) as sig:
        qtbot.keyClick(sidebar.view, Qt.Key_Return)
    assert sig.args == [sidebar.items()[2].path]


def test_stale_results_are_dropped(qtbot, sidebar, scanned):
    """Switching songs quickly: only the last song's list is ever shown."""
    music = scanned[0]
    shown = []
    sidebar.recommendationsChanged.connect(lambda: shown.append(sidebar.current_path()))
    for name in ("sine0.mp3", "square2.mp3", "noise4.mp3"):
        sidebar.set_current(_path(music, name), None)
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    qtbot.wait(300)
    assert shown == [_path(music, "noise4.mp3")]
    assert _path(music, "noise4.mp3") not in [it.path for it in sidebar.items()]


def test_genre_chart_shows_current_song(qtbot, sidebar, scanned):
    music = scanned[0]
    analysis = Analysis(
        file=None,
        duration=6.0,
        sample_rate=SR,
        channels=1,
        genre=Genre("jazz", {"jazz": 0.7, "blues": 0.2, "rock": 0.1}),
    )
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        sidebar.set_current(_path(music, "sine0.mp3"), analysis)
    assert [k for k, _ in sidebar.chart.probabilities] == ["jazz", "blues", "rock"]
    assert "jazz: 70.0%" in sidebar.chart.toolTip()
    img = sidebar.chart.grab().toImage()
    assert img.width() > 0 and img.height() >= 3 * sidebar.fontMetrics().height()
    assert sidebar.chart.isVisible()
    sidebar.set_current(None, None)
    assert sidebar.items() == [] and sidebar.chart.probabilities == [] and not sidebar.chart.isVisible()


def test_preview_region_prefers_chorus_then_repeated_section(library, scanned):
    music = scanned[0]
    track = library.track_by_path(_path(music, "square3.mp3"))
    # A detected chorus wins.
    a = Analysis(
        file=track.path,
        duration=60.0,
        sample_rate=SR,
        channels=1,
        sections=(Section(0, 10, "A"), Section(10, 30, "B"), Section(30, 42, "A"), Section(42, 60, "C")),
        choruses=(Chorus(10, 30, 0.4),),
        embedding=np.ones(4, np.float32),
    )
    library.record_analysis(track.id, a, track.content_hash)
    assert preview_region(library, library.track(track.id)) == (10, 30)
    # Without one: the longest section of the repeated label covering the most time.
    cache = AnalysisCache()
    cache.store(track.content_hash, a.replace(choruses=()))
    library.record_analysis(track.id, a.replace(choruses=()), track.content_hash)
    assert preview_region(library, library.track(track.id)) == (30, 42)
    # A long representative section is cut to its beginning.
    long = a.replace(choruses=(), sections=(Section(0, 100, "A"), Section(100, 110, "B"), Section(110, 200, "A")))
    cache.store(track.content_hash, long)
    assert preview_region(library, library.track(track.id)) == (0, MAX_SECTION_PREVIEW)
    # Without any analysis: a stretch from a third of the way in.
    other = library.track_by_path(_path(music, "noise5.mp3"))
    shutil.rmtree(default_folder())
    library.record_analysis(
        other.id,
        Analysis(file=other.path, duration=90.0, sample_rate=SR, channels=1, embedding=np.ones(4, np.float32)),
        other.content_hash,
    )
    assert preview_region(library, library.track(other.id)) == pytest.approx((30.0, 30.0 + FALLBACK_PREVIEW))


def test_long_reasons_wrap_in_a_narrow_sidebar(qtbot, sidebar):
    """A row shows all its reasons on as many lines as the sidebar's width needs (up to three), and
    grows with them; the list lays its rows out again when the sidebar is resized."""
    from explorer.ui.recommend.delegate import REASON_LINES, wrap_text
    from explorer.ui.recommend.ranking import Item

    reasons = ("similar genre mix (84%): mostly reggae 41%", "similar sound (83%)", "you liked Vibe Ace")
    rows = [
        Item("/m/a.mp3", 1, "Long reasons", "Artist", "reggae", 0.8, reasons, (0.0, 10.0), 0),
        Item("/m/b.mp3", 2, "One reason", "Artist", "jazz", 0.6, ("similar sound (60%)",), (0.0, 10.0), 0),
    ]
    # (with no song, the pane first ranks "for you": let that empty list land before showing these rows)
    qtbot.waitUntil(lambda: sidebar.status_label.text().startswith("Nothing to go on"), timeout=20000)
    sidebar.model.set_items(rows)
    sidebar.resize(300, 600)
    qtbot.waitUntil(lambda: sidebar.view.visualRect(sidebar.model.index(0)).width() < 300, timeout=5000)
    qtbot.wait(50)
    assert sidebar.rows_with_cut_reasons() == []
    tall = sidebar.view.visualRect(sidebar.model.index(0)).height()
    short = sidebar.view.visualRect(sidebar.model.index(1)).height()
    assert tall >= short + sidebar.view.fontMetrics().height()
    # a reason naming an untagged song (a file name, no spaces) wraps inside the name and is whole
    named = ("you liked 442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime", "similar sound (83%)")
    sidebar.model.set_items([replace(rows[0], reasons=named), rows[1]])
    qtbot.wait(50)
    assert sidebar.rows_with_cut_reasons() == []
    sidebar.model.set_items(rows)
    qtbot.wait(50)
    # wider: the long row needs fewer lines and the list follows
    sidebar.resize(900, 600)
    qtbot.waitUntil(lambda: sidebar.view.visualRect(sidebar.model.index(0)).height() < tall, timeout=5000)
    assert sidebar.rows_with_cut_reasons() == []
    # past three lines the last one ends in an ellipsis, and the sidebar says so
    fm = sidebar.view.fontMetrics()
    lines = wrap_text(fm, " · ".join(reasons * 4), 120, REASON_LINES)
    assert len(lines) == REASON_LINES and lines[-1].endswith("…")
    assert all(fm.horizontalAdvance(x) <= 120 for x in lines)
    assert wrap_text(fm, "short", 120, REASON_LINES) == ["short"]
    # the dot between two reasons ends a line, never starts one
    option = QStyleOptionViewItem()
    option.initFrom(sidebar.view)
    option.widget = sidebar.view
    for width in range(150, 700, 10):
        option.rect = QRect(0, 0, width, 80)
        lines = sidebar.delegate.reason_lines(option, rows[0])
        assert lines and not any(x.lstrip().startswith("·") for x in lines), lines
    sidebar.resize(300, 600)
    sidebar.model.set_items([replace(rows[0], reasons=reasons * 4)])
    qtbot.waitUntil(lambda: sidebar.rows_with_cut_reasons() == [0], timeout=5000)


def test_an_empty_list_says_why(qtbot, sidebar, scanned):
    """Every other song disliked: "For you" and Blend leave them all out and say so, with the way back;
    Sounds like still lists them (it used to say "add a folder of songs", to a full library)."""
    music = scanned[0]
    seed = _path(music, "sine0.mp3")
    _show(qtbot, sidebar, seed, "blend")
    for it in sidebar.items():
        with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
            sidebar.rate(it.path, -1)
    assert sidebar.items() == []
    status = sidebar.status_label.text()
    assert status.startswith("You disliked every other song") and "is:disliked" in status
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        sidebar.set_mode("sound")
    assert len(sidebar.items()) == len(SONGS) - 1 and "best first" in sidebar.status_label.text()


def test_with_no_song_open_for_you_and_blend_rank_by_taste(qtbot, sidebar, library, scanned):
    """No song open: "For you" and Blend list songs for the listener (from likes, dislikes and plays),
    and say what to do while there is nothing to go on; Genre and Sounds like ask for a song."""
    music = scanned[0]
    assert sidebar.current_path() is None and sidebar.mode == "blend"
    qtbot.waitUntil(lambda: sidebar.status_label.text().startswith("Nothing to go on yet"), timeout=20000)
    assert sidebar.items() == [] and sidebar.title_label.text().startswith("For you")
    assert not sidebar.chart.isVisible()  # no song: no genre chart saying "No genre estimate yet"
    for name in ("sine0.mp3", "sine1.mp3"):
        library.like(library.track_by_path(_path(music, name)).id)
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        sidebar.library_changed()  # as the window calls it when a rating changes the catalogue
    titles = _titles(sidebar)
    assert titles and titles[0].startswith("Sine")  # the liked kind of sound first
    assert sidebar.status_label.text().endswith("best first · for you")
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        sidebar.set_mode("personal")
    assert _titles(sidebar)[0].startswith("Sine")
    sidebar.set_mode("sound")
    assert sidebar.items() == [] and sidebar.status_label.text().startswith("Open a song")
    assert not sidebar.title_label.isVisible()
    sidebar.set_unavailable(_path(music, "sine0.mp3"), "no audio stream")  # a failed song: no list at all
    sidebar.set_mode("blend")
    qtbot.wait(200)
    assert sidebar.items() == [] and "could not be analysed" in sidebar.status_label.text()


def test_a_long_song_name_wraps_onto_two_lines(qtbot, sidebar):
    """At the sidebar's width at 1440 px a real song's name read "P. I. Tchaikovsky: Dance of …"; it now
    takes a second line (the row grows); a file name without spaces breaks after an underscore or a hyphen
    (it ended in "…" on one line); a name longer than TITLE_LINES lines ends in "…"."""
    from explorer.ui.recommend.delegate import TITLE_LINES
    from explorer.ui.recommend.ranking import Item

    long_title = "P. I. Tchaikovsky: Dance of the Sugar Plum Fairy"
    rows = [
        Item("/m/a.ogg", 1, long_title, "Kevin MacLeod", "jazz", 0.66, (), (0.0, 10.0), 0),
        Item("/m/b.ogg", 2, "Vibe Ace", "Kevin MacLeod", "reggae", 0.6, (), (0.0, 10.0), 0),
        Item(
            "/m/c.ogg", 3, "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime", "", "jazz", 0.5, (), (0, 9), 0
        ),
    ]
    qtbot.waitUntil(lambda: sidebar.status_label.text().startswith("Nothing to go on"), timeout=20000)
    sidebar.model.set_items(rows)
    sidebar.resize(330, 600)
    qtbot.waitUntil(lambda: sidebar.view.visualRect(sidebar.model.index(0)).width() < 330, timeout=5000)
    qtbot.wait(50)
    option = QStyleOptionViewItem()
    option.initFrom(sidebar.view)
    option.widget = sidebar.view

    def lines(row):
        option.rect = sidebar.view.visualRect(sidebar.model.index(row))
        return sidebar.delegate.title_lines(option, rows[row])

    assert len(lines(0)) == 2 and " ".join(lines(0)) == long_title
    assert lines(1) == ["Vibe Ace"]
    file_name = rows[2].title
    assert 2 <= len(lines(2)) <= TITLE_LINES
    assert lines(2)[0][-1] in "_-" and "".join(lines(2)) == file_name
    assert 0 not in sidebar.rows_with_cut_titles() and 1 not in sidebar.rows_with_cut_titles()
    # far too long for its lines: the last ends in "…", and the sidebar says the row is cut
    sidebar.model.set_items([replace(rows[2], title=file_name * 3)])
    qtbot.wait(50)
    assert sidebar.rows_with_cut_titles() == [0]
    tall = sidebar.view.visualRect(sidebar.model.index(0)).height()
    short = sidebar.view.visualRect(sidebar.model.index(1)).height()
    assert tall >= short + sidebar.view.fontMetrics().height()


def test_a_change_arriving_after_shutdown_leaves_no_connection_open(qtbot, library, scanned):
    """While the window closes, a scan's last change of the library can still reach the sidebar.
    Shut down, it ranks nothing more: a ranking would open a connection that outlives the window,
    and SQLite folds its write-ahead log into the library file only when the last connection closes.
    A rating handed over late is still written, through a connection that closes at once."""
    from explorer.ui.recommend.sidebar import LIVE_DELAY_MS

    music = scanned[0]
    sb = RecommendationSidebar(library)
    qtbot.addWidget(sb)
    song = _path(music, "sine0.mp3")
    _show(qtbot, sb, song, "blend")  # ranked once: the sidebar's worker has its own connection open
    sb.library_changed()  # a change just before the window closes: a ranking is due soon
    sb.shutdown()
    qtbot.wait(3 * LIVE_DELAY_MS)
    sb.refresh()
    sb.rate(song, 1)
    assert sb.tasks.wait(sb, timeout=60)
    library.close()  # the window's own connection, the last one when nothing else is open
    assert not library.path.with_name(library.path.name + "-wal").exists()
    with Library(library.path) as again:
        assert again.track_by_path(song).rating == 1
