"""The structure over the waveform: what is drawn, what a click or a key does, edits that stay."""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from explorer.analysis import edits
from explorer.analysis.types import Section
from explorer.audio.playback import to_pcm16
from explorer.ui.song import structure_style as st
from tests.ui.helpers import click, hover, make_known_analysis, open_and_wait, view_point, viewport_of, wait_played

pytestmark = pytest.mark.timeout(120)


def show_known(qtbot, window, song_file):
    open_and_wait(qtbot, window, song_file)
    a = make_known_analysis(str(song_file), window.song.buffer.duration)
    with qtbot.waitSignal(window.matrixReady, timeout=5000):
        window.set_analysis(a)  # the song view at once, the matrix a turn later
    return a


def test_sections_choruses_and_motifs_are_drawn_with_their_colours(qtbot, window, song_file):
    a = show_known(qtbot, window, song_file)
    items = window.structure.section_items()
    assert [(s, e, lab) for s, e, lab, _ in items] == [(x.start, x.end, x.label) for x in a.sections]
    by_label = {}
    for *_, lab, c in items:
        by_label.setdefault(lab, set()).add(c.name())
    assert all(len(v) == 1 for v in by_label.values()), by_label  # same letter, same colour
    assert by_label["A"] != by_label["B"]
    assert window.structure.chorus_items() == [(c.start, c.end) for c in a.choruses]
    marks = window.structure.motif_marks()
    assert len(marks) == sum(len(m.occurrences) for m in a.motifs)
    motif_colours = {}
    for mid, _, _, c in marks:
        motif_colours.setdefault(mid, set()).add(c.name())
    assert all(len(v) == 1 for v in motif_colours.values())
    assert len({next(iter(v)) for v in motif_colours.values()}) == len(a.motifs)
    # one picture item per kind, bounded by the song, boundaries as handles
    assert window.structure.bands.boundingRect().width() == pytest.approx(a.duration)
    assert len(window.structure.handles) == len(a.sections) - 1
    assert window.waveform.motif_lane.isVisible()
    assert window.matrix.image.image.shape == a.recurrence.shape
    assert "4 sections" in window.info_label.text()


def test_real_analysis_reaches_the_screen(qtbot, window, song_file):
    window.auto_analyze = True
    open_and_wait(qtbot, window, song_file)
    a = window.analysis
    assert a is not None and a.sections
    assert len(window.structure.section_items()) == len(a.sections)
    shown = sorted(a.motifs, key=lambda m: -m.score)[: st.MAX_MOTIF_ROWS]
    assert len(window.structure.motif_marks()) == sum(len(m.occurrences) for m in shown)
    assert window.structure.bands.boundingRect().width() == pytest.approx(a.duration)


def test_hovering_a_motif_lights_up_all_its_occurrences(qtbot, window, song_file):
    a = show_known(qtbot, window, song_file)
    best = max(a.motifs, key=lambda m: m.score)
    o = best.occurrences[0]
    lane = window.waveform.motif_lane
    hover(lane, 4.5, 0.75)  # nothing there
    assert window.structure.motif_lane.hovered_motif is None
    hover(lane, (o.start + o.end) / 2, 0.75)
    qtbot.waitUntil(lambda: window.structure.motif_lane.hovered_motif == 0, timeout=2000)
    assert window.structure.motif_spans._spans == [(x.start, x.end) for x in best.occurrences]
    assert "motif 1" in window.status_label.text()


def test_arrows_home_end_step_through_sections(qtbot, window, song_file):
    a = show_known(qtbot, window, song_file)
    window.waveform.setFocus()
    QTest.keyClick(window.waveform, Qt.Key.Key_Right)
    assert window.waveform.selected() == pytest.approx((a.sections[1].start, a.sections[1].end))
    QTest.keyClick(window.waveform, Qt.Key.Key_Right)
    assert window.waveform.selected() == pytest.approx((a.sections[2].start, a.sections[2].end))
    QTest.keyClick(window.waveform, Qt.Key.Key_Left)
    assert window.waveform.selected() == pytest.approx((a.sections[1].start, a.sections[1].end))
    QTest.keyClick(window.waveform, Qt.Key.Key_End)
    assert window.waveform.selected() == pytest.approx((a.sections[-1].start, a.sections[-1].end))
    QTest.keyClick(window.waveform, Qt.Key.Key_Home)
    assert window.waveform.selected() == pytest.approx((a.sections[0].start, a.sections[0].end))
    assert "Verse" in window.status_label.text() and "0:00.0" in window.status_label.text()
    span = np.diff(window.waveform.view_range())[0]
    QTest.keyClick(window.waveform, Qt.Key.Key_Plus)
    assert np.diff(window.waveform.view_range())[0] == pytest.approx(span / 1.5, rel=1e-3)


def test_arrows_step_from_outside_the_sections_to_the_nearest_one(qtbot, window, song_file):
    """Silence at either end of a song lies outside its sections: stepping from there goes to the
    nearest section in the direction asked."""
    open_and_wait(qtbot, window, song_file)
    full = make_known_analysis(str(song_file), window.song.buffer.duration)
    end = full.duration
    inner = (replace(full.sections[0], start=0.5), *full.sections[1:-1], replace(full.sections[-1], end=end - 0.5))
    with qtbot.waitSignal(window.matrixReady, timeout=5000):
        window.set_analysis(full.replace(sections=inner))
    window.waveform.setFocus()
    window.waveform.set_cursor(end - 0.2)  # after the last section
    QTest.keyClick(window.waveform, Qt.Key.Key_Left)
    assert window.waveform.selected() == pytest.approx((inner[-1].start, inner[-1].end))
    window.waveform.set_cursor(end - 0.2)
    QTest.keyClick(window.waveform, Qt.Key.Key_Right)
    assert window.waveform.selected() == pytest.approx((inner[-1].start, inner[-1].end))
    window.waveform.set_cursor(0.1)  # before the first
    QTest.keyClick(window.waveform, Qt.Key.Key_Right)
    assert window.waveform.selected() == pytest.approx((inner[0].start, inner[0].end))
    window.waveform.set_cursor(0.1)
    QTest.keyClick(window.waveform, Qt.Key.Key_End)
    assert window.waveform.selected() == pytest.approx((inner[-1].start, inner[-1].end))
    window.waveform.set_cursor(end - 0.2)
    QTest.keyClick(window.waveform, Qt.Key.Key_Home)
    assert window.waveform.selected() == pytest.approx((inner[0].start, inner[0].end))


def saved_edits(window):
    """The edits in the library once the window's edits lane has saved what it was given."""
    assert window.tasks.wait(window, lane="edits", timeout=10)
    return window.library.structure_edits(window.song.content_hash)


def test_boundary_drag_is_saved_and_survives_reopening(qtbot, window, song_file, tmp_path):
    window.auto_analyze = True
    open_and_wait(qtbot, window, song_file)
    known = make_known_analysis(str(song_file), window.song.buffer.duration)
    window.save_sections(known.sections)  # start from a known structure, saved as an edit
    handle = window.structure.handles[0]  # between sections 0 and 1
    old = handle.value()
    lane = window.waveform.section_lane
    vp = viewport_of(lane)
    a, b = view_point(lane, old, 0.3), view_point(lane, old + 0.4, 0.3)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 9):
        QTest.qWait(30)  # pyqtgraph drops moves closer than its rate limit (a drag would become a click)
        QTest.mouseMove(vp, a + (b - a) * (k / 8))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b, 10)
    moved = window.analysis.sections[1].start
    assert moved == pytest.approx(old + 0.4, abs=0.05)
    assert window.analysis.sections[0].end == moved
    saved = saved_edits(window)
    assert saved is not None and saved[1].start == pytest.approx(moved, abs=1e-3)
    # open something else, then the song again: the edit is back (cache + library), not re-detected
    other = tmp_path / "other.wav"
    other.write_bytes(song_file.read_bytes()[:-4000])
    open_and_wait(qtbot, window, other)
    open_and_wait(qtbot, window, song_file)
    assert window.analysis.sections[1].start == pytest.approx(moved, abs=1e-3)
    assert window.structure.handles[0].value() == pytest.approx(moved, abs=1e-3)


def test_split_merge_rename_edit_the_structure(qtbot, window, song_file):
    a = show_known(qtbot, window, song_file)
    window.waveform.set_cursor(0.5)
    window.split_at_cursor()
    assert [s.start for s in window.analysis.sections] == pytest.approx([0.0, 0.5, 1.5, 3.0, 4.5])
    window.merge_at_cursor(0.2)
    assert [s.start for s in window.analysis.sections] == pytest.approx([s.start for s in a.sections])
    window.rename_section(2, label="C", function="bridge")
    s2 = window.analysis.sections[2]
    assert (s2.label, s2.function) == ("C", "bridge")
    assert window.structure.section_items()[2][3].name() == st.label_color("C").name()
    saved = saved_edits(window)
    assert [(s.label, s.function) for s in saved] == [("A", "verse"), ("B", "chorus"), ("C", "bridge"), ("B", "chorus")]
    # the context menu offers the same edits at the clicked time
    menu = window.build_context_menu(2.0)
    texts = [act.text() for act in menu.actions()]
    assert "Split section here" in texts and "Merge with next section" in texts and "Rename label…" in texts


def test_matrix_click_plays_the_two_moments(qtbot, window, song_file, alsa_capture):
    a = show_known(qtbot, window, song_file)
    with qtbot.waitSignal(window.matrix.momentsClicked) as blocker:
        window.matrix.click_cell(1, 7)
    first, second = blocker.args
    times = a.recurrence_times
    assert first[0] == times[1] and second[0] == times[7]
    assert first[1] - first[0] >= 2.0 - 1e-9
    wait_played(qtbot, window)
    got, sr = alsa_capture.read()  # the device file holds the last region played: the second moment
    want, _, _ = to_pcm16(window.song.buffer.region(*second), window.song.buffer.sr)
    assert np.array_equal(got, want)


def test_matrix_cell_click_through_the_mouse(qtbot, window, song_file, alsa_capture):
    show_known(qtbot, window, song_file)
    window.matrix.plot.setRange(xRange=(0, 12), yRange=(0, 12), padding=0)
    qtbot.wait(20)
    vb = window.matrix.plot.getViewBox()
    p = window.matrix.plot.mapFromScene(vb.mapViewToScene(QPointF(2.5, 5.5)))
    with qtbot.waitSignal(window.matrix.momentsClicked) as blocker:
        QTest.mouseClick(window.matrix.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    first, second = blocker.args
    assert (first[0], second[0]) == (window.matrix.times[2], window.matrix.times[5])


def test_export_writes_and_never_overwrites_silently(qtbot, window, song_file, tmp_path):
    show_known(qtbot, window, song_file)
    out = tmp_path / "song.lab"
    assert window.export_to(str(out), "lab")
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and lines[1].split("\t")[2] == "B chorus"
    out.write_text("mine\n")
    assert not window.export_to(str(out), "lab")
    assert out.read_text() == "mine\n"
    assert "already exists" in window.banner.text
    assert window.export_to(str(tmp_path / "song.jams"), "jams")


def test_double_click_loops_a_section(qtbot, window, song_file, alsa_capture):
    a = show_known(qtbot, window, song_file)
    s = a.sections[2]
    click(window.waveform.section_lane, (s.start + s.end) / 2, 0.3, double=True)
    qtbot.waitUntil(lambda: window.player.state == "playing" and window.player.loop, timeout=3000)
    assert window.player.player.current_region() == pytest.approx((s.start, s.end))
    assert window.act_loop.isChecked()
    window.stop()


def test_edit_functions_keep_sections_contiguous():
    secs = (Section(0, 4, "A", "verse"), Section(4, 8, "B", "chorus"), Section(8, 12, "A", "verse"))
    moved = edits.move_boundary(secs, index=1, to=100.0)
    assert moved[0].end == moved[1].start == 8 - edits.MIN_SECTION
    assert edits.split_section(secs, at=4.2) == secs  # too close to a boundary
    split = edits.split_section(secs, at=6.0)
    assert [(s.start, s.end) for s in split] == [(0, 4), (4, 6), (6, 8), (8, 12)]
    assert edits.merge_with_next(split, index=1)[1] == Section(4, 8, "B", "chorus", 1.0)
    assert edits.merge_with_next(secs, index=2) == secs
    assert edits.section_index_at(secs, time=12) == 2 and edits.section_index_at(secs, time=13) is None
    renamed = edits.rename_section(secs, index=0, function="chorus")
    assert [c.start for c in edits.edited_choruses(renamed)] == [0, 4]


def test_an_edit_is_saved_off_the_gui_thread_and_a_failed_save_is_shown(qtbot, window, song_file, monkeypatch):
    import threading

    from explorer.errors import LibraryError

    show_known(qtbot, window, song_file)
    real = window.library.save_structure_edits
    gate, threads = threading.Event(), []

    def slow(content_hash, sections):  # a disk that takes its time
        threads.append(threading.current_thread().name)
        assert gate.wait(10)
        real(content_hash, sections)

    monkeypatch.setattr(window.library, "save_structure_edits", slow)
    with qtbot.waitSignal(window.editSaved, timeout=10000):
        window.rename_section(0, label="Z")  # returns while the save waits
        assert window.analysis.sections[0].label == "Z"  # on screen at once
        assert window.library.structure_edits(window.song.content_hash) is None  # not written yet
        gate.set()
    assert threads == ["explorer-edits"]
    assert saved_edits(window)[0].label == "Z"

    def broken(content_hash, sections):
        raise LibraryError("the disk is full", path="library.db")

    monkeypatch.setattr(window.library, "save_structure_edits", broken)
    with qtbot.waitSignal(window.errorShown, timeout=10000) as sig:
        window.rename_section(1, label="Y")
    assert sig.args[0] == "Could not save the edit: the disk is full"
    assert window.analysis.sections[1].label == "Y"  # the edit stays on screen


def test_header_counts_follow_every_edit(qtbot, window, song_file):
    """Issue 15.3: "4 sections · 2 choruses" stayed after a merge, a split or a new function."""
    a = show_known(qtbot, window, song_file)
    assert "4 sections · 2 choruses" in window.info_label.text()
    window.merge_at_cursor(a.sections[0].start + 0.1)  # A verse + B chorus -> one A verse
    assert "3 sections · 1 chorus ·" in window.info_label.text()
    window.split_at_cursor(a.sections[0].start + 1.0)
    assert "4 sections · 1 chorus ·" in window.info_label.text()
    window.rename_section(0, function="chorus")
    assert "4 sections · 2 choruses" in window.info_label.text()


def test_header_tooltip_names_a_key_change(qtbot, window, song_file):
    a = show_known(qtbot, window, song_file)
    assert "Key change" not in window.info_label.toolTip()
    with qtbot.waitSignal(window.matrixReady, timeout=5000):
        window.set_analysis(a.replace(key_change=(3.0, 2)))
    assert "Key change at 0:03: 2 semitones up" in window.info_label.toolTip()


def _sections(window):
    return [(round(s.start, 3), round(s.end, 3), s.label, s.function) for s in window.analysis.sections]


def _flush(window):
    assert window.tasks.wait(window, lane="edits", timeout=10)


def test_every_edit_can_be_undone_and_redone_with_the_keys(qtbot, window, song_file):
    """Issue 15.7: drag, split, merge, rename and function are steps of Ctrl+Z / Ctrl+Shift+Z."""
    window.auto_analyze = True
    open_and_wait(qtbot, window, song_file)
    automatic = _sections(window)
    window.save_sections(make_known_analysis(str(song_file), window.song.buffer.duration).sections)
    states = [_sections(window)]
    window.split_at_cursor(0.5)
    states.append(_sections(window))
    window.merge_at_cursor(2.0)
    states.append(_sections(window))
    window.rename_section(0, label="C")
    states.append(_sections(window))
    window.rename_section(1, function="bridge")
    states.append(_sections(window))
    # a boundary dragged with the mouse; the sections follow it while it moves, before the release
    handle = window.structure.handles[0]
    old = handle.value()
    lane = window.waveform.section_lane
    vp = viewport_of(lane)
    a, b = view_point(lane, old, 0.3), view_point(lane, old + 0.4, 0.3)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 5):
        QTest.qWait(30)  # pyqtgraph drops moves closer than its rate limit
        QTest.mouseMove(vp, a + (b - a) * (k / 8))
    assert window.structure.sections_lane.sections[1].start == pytest.approx(old + 0.2, abs=0.05)
    assert window.structure.bands.boundingRect().width() == pytest.approx(window.analysis.duration)
    assert window.analysis.sections[1].start == pytest.approx(old)  # not an edit until the release
    for k in range(5, 9):
        QTest.qWait(30)
        QTest.mouseMove(vp, a + (b - a) * (k / 8))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b, 10)
    assert window.analysis.sections[1].start == pytest.approx(old + 0.4, abs=0.05)
    states.append(_sections(window))
    assert len({tuple(x) for x in states}) == len(states)  # every step changed something
    assert window.act_undo.text() == "&Undo Move a boundary"
    window.waveform.setFocus()
    for expected in reversed(states[:-1]):
        qtbot.keyClick(window.waveform, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert _sections(window) == expected
        assert f"{len(expected)} section" in window.info_label.text()
    _flush(window)
    assert [(round(s.start, 3), round(s.end, 3), s.label, s.function) for s in saved_edits(window)] == states[0]
    for expected in states[1:]:
        qtbot.keyClick(
            window.waveform, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
        assert _sections(window) == expected
    _flush(window)
    assert [(round(s.start, 3), round(s.end, 3), s.label, s.function) for s in saved_edits(window)] == states[-1]
    # back to the automatic analysis: the edits leave the library; Undo brings them back
    assert window.act_revert.isEnabled()
    window.act_revert.trigger()
    assert _sections(window) == automatic and not window.act_revert.isEnabled()
    _flush(window)
    assert saved_edits(window) is None
    qtbot.keyClick(window.waveform, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _sections(window) == states[-1]
    window.act_revert.trigger()
    _flush(window)
    open_and_wait(qtbot, window, song_file)  # reopened: the automatic analysis, nothing to undo
    assert _sections(window) == automatic
    assert not window.undo_stack.canUndo() and not window.act_revert.isEnabled()


def test_the_window_says_why_a_song_has_no_chorus_and_keeps_the_title(qtbot, window, song_file):
    """The reason is written where the choruses would be, and in the header's tooltip; the header
    itself says only "no chorus", so the song's name stays whole beside it (the whole reason in the
    header left no room for the name at 1440 px)."""
    a = show_known(qtbot, window, song_file)
    note = "no repeated section found, only short motifs that return"
    with qtbot.waitSignal(window.matrixReady, timeout=5000):
        window.set_analysis(a.replace(choruses=(), chorus_note=note))
    assert "no chorus" in window.info_label.text() and note not in window.info_label.text()
    assert f"No chorus — {note}" in window.info_label.toolTip()
    assert window.structure.sections_lane.no_chorus_text == f"No chorus — {note}"
    qtbot.waitUntil(lambda: window.title_label.shown_text() == window.title_label.text() == song_file.name)
    with qtbot.waitSignal(window.matrixReady, timeout=5000):
        window.set_analysis(a)  # a song with a chorus: nothing to explain
    assert "no chorus" not in window.info_label.text() and window.structure.sections_lane.no_chorus_text == ""


def test_matrix_ticks_fall_on_round_times_and_a_click_marks_both_moments(qtbot, window, song_file, alsa_capture):
    """Issue 15.13: ticks at round times, the plot no wider than its square, both moments on the waveform."""
    show_known(qtbot, window, song_file)
    m = window.matrix
    axis = m.bottom_axis
    axis.times = np.linspace(0.0, 200.0, 401)  # a 200 s song, two beats a second
    ((step, values),) = axis.tickValues(0, 400, 300)
    labels = axis.tickStrings(values, 1.0, step)
    assert step in (30, 60) and labels[:3] == (["0:00", "0:30", "1:00"] if step == 30 else ["0:00", "1:00", "2:00"])
    qtbot.wait(50)
    m.resize(m.width() + 1, m.height())  # (a fit uses the plot's own layout of the one before)
    qtbot.wait(50)
    vb = m.plot.getViewBox().geometry()
    title = m.fontMetrics().horizontalAdvance(m.TITLE)
    assert m.plot.width() < m.width()  # not an axis across the whole panel
    assert title - 5 <= vb.width() <= max(vb.height(), title) + 45  # about square, the title whole
    with qtbot.waitSignal(m.momentsClicked) as blocker:
        m.click_cell(1, 7)
    a, b = blocker.args
    assert window.waveform.marked_moments() == [pytest.approx(a), pytest.approx(b)]


def test_export_dialog_names_the_format_and_remembers_its_folder(qtbot, window, song_file, tmp_path, monkeypatch):
    """Issue 15.12: the last export folder (not the music folder), a filter for the format, a readable title."""
    from PySide6.QtWidgets import QFileDialog

    show_known(qtbot, window, song_file)
    asked = []
    out = tmp_path / "exports"
    out.mkdir()

    def dialog(parent, caption, suggested, filters):
        asked.append((caption, suggested, filters))
        return str(out / "mine.txt"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    window.export_actions["audacity"].trigger()
    caption, suggested, filters = asked[0]
    assert caption == "Export structure as Audacity labels"
    assert filters.startswith("Audacity labels (*.txt)")
    assert os.path.dirname(suggested) != str(song_file.parent) and suggested.endswith("song.txt")
    assert (out / "mine.txt").exists()
    window.export_actions["json"].trigger()
    assert asked[1][1] == str(out / "song.json") and asked[1][2].startswith("JSON (*.json)")
