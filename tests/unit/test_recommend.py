"""Recommendations on a real SQLite catalogue filled with tracks of known genre and sound."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.analysis.types import Analysis, Genre
from explorer.cli.main import main
from explorer.errors import LibraryError
from explorer.library.store import Library
from explorer.recommend import MODES, recommend

GENRES = ("jazz", "metal", "pop")


def _fill(
    lib: Library, folder, per_genre: int = 10, *, artists_per_genre: int = 5, dim: int = 24, seed: int = 0
) -> dict[int, str]:
    """Tracks in three well separated clusters; returns id -> genre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (len(GENRES), dim)) * 3
    genre_of = {}
    entries, analyses = [], []
    for g, name in enumerate(GENRES):
        for i in range(per_genre):
            path = str(folder / name / f"{name}{i:02d}.mp3")
            tags = {"title": f"{name} {i}", "artist": f"{name}-artist{i % artists_per_genre}"}
            entries.append((path, 1000 + i, 1.0, tags, f"{name}-{i}"))
            probs = {n: 0.1 for n in GENRES}
            probs[name] = 0.8
            analyses.append(
                Analysis(
                    file=path,
                    duration=200.0,
                    sample_rate=22050,
                    channels=2,
                    tempo=80.0 + 40 * g + i,
                    genre=Genre(name, probs),
                    embedding=(centres[g] + rng.normal(0, 1, dim)).astype(np.float32),
                )
            )
    ids = lib.upsert_files(entries)
    for tid, (_, _, _, _, h), a in zip(ids, entries, analyses):
        lib.record_analysis(tid, a, h)
        genre_of[tid] = a.genre.label
    return genre_of


@pytest.fixture
def lib(tmp_path):
    library = Library(tmp_path / "lib.sqlite")
    library.genre_of = _fill(library, tmp_path)
    yield library
    library.close()


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_finds_the_seeds_genre_with_reasons(lib, mode):
    seed = next(t for t, g in lib.genre_of.items() if g == "jazz")
    recs = recommend(lib, seed, k=5, mode=mode)
    assert len(recs) == 5
    assert all(lib.genre_of[r.track.id] == "jazz" for r in recs)
    assert all(r.reasons and all(isinstance(s, str) and s for s in r.reasons) for r in recs)
    assert seed not in [r.track.id for r in recs]
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)


def test_genre_reason_names_the_genre_and_probability(lib):
    seed = next(t for t, g in lib.genre_of.items() if g == "metal")
    recs = recommend(lib, seed, k=3, mode="genre")
    assert "same genre: metal 80%" in recs[0].reasons


def test_never_the_seed_nor_a_duplicate_of_it(lib, tmp_path):
    seed = lib.track(next(iter(lib.genre_of)))
    (dup,) = lib.upsert_files([(str(tmp_path / "copy of seed.mp3"), 1, 1.0, {"artist": "someone"}, seed.content_hash)])
    a = Analysis(
        file="x",
        duration=200.0,
        sample_rate=22050,
        channels=2,
        genre=Genre("jazz", {"jazz": 1.0}),
        embedding=np.frombuffer(lib.index_rows()[0][6], np.float32).copy(),
    )
    lib.record_analysis(dup, a, seed.content_hash)
    for mode in MODES:
        got = [r.track.id for r in recommend(lib, seed.id, k=29, mode=mode)]
        assert seed.id not in got and dup not in got and len(got) == 29


def test_at_most_two_per_artist_unless_nobody_else_is_left(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        genre_of = _fill(lib, tmp_path, per_genre=12, artists_per_genre=2)
        seed = next(t for t, g in genre_of.items() if g == "pop")
        recs = recommend(lib, seed, k=10, mode="sound")
        artists = [r.track.artist for r in recs]
        assert max(artists.count(a) for a in set(artists)) <= 2
        assert len(recs) == 10
        # a library of one artist: the limit cannot hold, the list is still full
    with Library(tmp_path / "one.sqlite") as lib:
        genre_of = _fill(lib, tmp_path, per_genre=4, artists_per_genre=1)
        lib._conn.execute("UPDATE tracks SET artist = 'Only One'")
        recs = recommend(lib, next(iter(genre_of)), k=10, mode="blend")
        assert len(recs) == 10


def test_personal_follows_likes_and_dislikes(lib):
    jazz = [t for t, g in lib.genre_of.items() if g == "jazz"]
    metal = [t for t, g in lib.genre_of.items() if g == "metal"]
    seed = next(t for t, g in lib.genre_of.items() if g == "pop")

    def share(mode):
        recs = recommend(lib, seed, k=10, mode=mode)
        gs = [lib.genre_of[r.track.id] for r in recs]
        return gs.count("jazz") / len(gs), gs.count("metal") / len(gs), recs

    before_jazz, before_metal, _ = share("personal")
    for t in jazz[:3]:
        lib.like(t)
    for t in metal[:3]:
        lib.dislike(t)
    after_jazz, after_metal, recs = share("personal")
    assert after_jazz > before_jazz and after_metal <= before_metal
    assert not set(metal[:3]) & {r.track.id for r in recs}
    assert any(s.startswith("you liked jazz-artist") for r in recs for s in r.reasons)
    for r in recs:  # a liked song rises with the other liked songs, never "you liked <itself>"
        assert f"you liked {r.track.display_name}" not in r.reasons
    b_jazz, b_metal, _ = share("blend")
    assert b_jazz > 0


def test_skips_push_similar_songs_down_and_say_so(lib):
    metal = [t for t, g in lib.genre_of.items() if g == "metal"]
    seed = metal[0]
    before = {r.track.id: r.score for r in recommend(lib, seed, k=29, mode="personal")}
    for t in metal[1:6]:
        for _ in range(3):
            assert lib.record_play(t, 1.0, 200.0) == "skip"
    after = {r.track.id: r.score for r in recommend(lib, seed, k=29, mode="personal")}
    assert list(after) != list(before)
    assert all(after[t] < before[t] - 0.1 for t in metal[1:])  # every song like the skipped ones goes down
    assert all(after[t] > before[t] for t in after if lib.genre_of[t] != "metal")
    recs = recommend(lib, seed, k=3, mode="blend")  # the seed still pulls metal up: say what holds it back
    assert all(lib.genre_of[r.track.id] == "metal" and "you skip songs like this" in r.reasons for r in recs)


def test_unknown_mode_and_empty_library(tmp_path, lib):
    with pytest.raises(LibraryError, match="mode"):
        recommend(lib, 1, mode="vibes")
    with Library(tmp_path / "empty.sqlite") as empty:
        assert recommend(empty, 1) == []


def test_index_follows_catalogue_changes(lib):
    seed = next(iter(lib.genre_of))
    first = recommend(lib, seed, k=3, mode="sound")[0].track.id
    lib.mark_missing([first])
    assert first not in [r.track.id for r in recommend(lib, seed, k=29, mode="sound")]


def test_recommend_json_cli_shape(lib, capsys):
    seed = next(iter(lib.genre_of))
    assert main(["recommend", str(seed), "--db", str(lib.path), "-k", "4", "--mode", "sound", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"seed", "mode", "recommendations"}
    assert doc["seed"] == lib.track(seed).path and doc["mode"] == "sound"
    assert len(doc["recommendations"]) == 4
    for r in doc["recommendations"]:
        assert set(r) == {"path", "title", "artist", "score", "genre", "reasons"}
        assert r["genre"] in GENRES and r["reasons"]


def test_cli_like_dislike_unlike_history(lib, capsys):
    a, b = list(lib.genre_of)[:2]
    db = str(lib.path)
    assert main(["like", str(a), "--db", db]) == 0
    assert main(["dislike", lib.track(b).path, "--db", db]) == 0
    assert main(["unlike", str(a), "--db", db]) == 0
    assert lib.track(a).rating == 0 and lib.track(b).rating == -1
    capsys.readouterr()
    assert main(["history", "--db", db, "--json"]) == 0
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]
    assert kinds == ["unlike", "dislike", "like"]
    assert main(["like", "999999", "--db", db]) == 2
    assert "no such track" in capsys.readouterr().err


def test_playlist_is_relative_and_never_overwrites_without_force(lib, tmp_path, capsys):
    seed = next(iter(lib.genre_of))
    out = tmp_path / "lists" / "mix.m3u8"
    out.parent.mkdir()
    assert main(["playlist", str(seed), "-k", "5", "--out", str(out), "--db", str(lib.path)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "#EXTM3U"
    paths = [ln for ln in lines if not ln.startswith("#")]
    assert len(paths) == 6 and all(p.startswith("../") for p in paths)
    assert paths[0].endswith(lib.track(seed).path.split("/")[-1])
    before = out.read_text()
    assert main(["playlist", str(seed), "-k", "2", "--out", str(out), "--db", str(lib.path)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == before
    assert main(["playlist", str(seed), "-k", "2", "--out", str(out), "--db", str(lib.path), "--force"]) == 0
    assert len([ln for ln in out.read_text().splitlines() if not ln.startswith("#")]) == 3


def test_m3u8_entries_are_escaped():
    from explorer.export.playlist import m3u8_entry

    assert m3u8_entry("/music/#1 hit.mp3", "/music") == "./#1 hit.mp3"
    assert m3u8_entry("/music/a b/ü 🎵.mp3", "/lists") == "../music/a b/ü 🎵.mp3"
    assert m3u8_entry("/music/two\nlines.mp3", "/music") is None


def test_no_seed_ranks_by_taste_alone(lib):
    assert recommend(lib, None, k=5, mode="personal") == []
    jazz = [t for t, g in lib.genre_of.items() if g == "jazz"]
    for t in jazz[:2]:
        lib.like(t)
    for mode in ("personal", "blend"):
        recs = recommend(lib, None, k=5, mode=mode)
        assert [lib.genre_of[r.track.id] for r in recs] == ["jazz"] * 5


def test_big_library_index_is_kept_on_disk_and_checked(lib, monkeypatch):
    from explorer.recommend import index as index_module

    monkeypatch.setattr(index_module, "PERSIST_MIN_TRACKS", 10)
    index_module._indexes.clear()
    seed = next(iter(lib.genre_of))
    first = [(r.track.id, r.score) for r in recommend(lib, seed, k=8, mode="blend")]
    path, _ = index_module._index_file(lib)
    assert path.exists()
    index_module._indexes.clear()
    loaded = index_module.get_index(lib)
    assert loaded.generation == lib.index_generation() and len(loaded) == 30
    assert [(r.track.id, r.score) for r in recommend(lib, seed, k=8, mode="blend")] == first
    lib.mark_missing([first[0][0]])  # the catalogue changed: the copy on disk is stale
    index_module._indexes.clear()
    assert index_module._load(path, index_module._index_file(lib)[1], lib.index_generation()) is None
    assert len(index_module.get_index(lib)) == 29
    path.write_bytes(b"garbage")
    index_module._indexes.clear()
    assert len(index_module.get_index(lib)) == 29


# -- issue 15.5: honest scores and reasons ------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_scores_are_in_0_1_in_every_mode(lib, mode):
    lib.like(next(t for t, g in lib.genre_of.items() if g == "metal"))
    seed = next(t for t, g in lib.genre_of.items() if g == "jazz")
    recs = recommend(lib, seed, k=29, mode=mode)
    assert recs and all(0.0 <= r.score <= 1.0 for r in recs), [r.score for r in recs[:3]]


def test_scores_mean_the_same_in_every_tab(lib):
    """One scale everywhere: Blend's score is a weighted mean of what the Sounds like and Genre tabs show."""
    seed = next(t for t, g in lib.genre_of.items() if g == "jazz")
    by_mode = {mode: {r.track.id: r.score for r in recommend(lib, seed, k=29, mode=mode)} for mode in MODES}
    for tid, blend in by_mode["blend"].items():
        sound, genre = by_mode["sound"][tid], by_mode["genre"][tid]
        assert min(sound, genre) - 0.03 <= blend <= max(sound, genre) + 0.03, (sound, genre, blend)
    assert by_mode["personal"] == pytest.approx(by_mode["sound"])  # no taste yet: For you is Sounds like


def test_a_liked_song_does_not_rank_itself_first(lib):
    jazz = [t for t, g in lib.genre_of.items() if g == "jazz"]
    seed = next(t for t, g in lib.genre_of.items() if g == "pop")
    lib.like(jazz[0])
    recs = recommend(lib, seed, k=29, mode="personal")
    ids = [r.track.id for r in recs]
    assert ids[0] != jazz[0]
    assert ids.index(jazz[0]) > min(ids.index(t) for t in jazz[1:])  # the songs like it rise, not itself
    assert not any("you liked it" in r.reasons or "closest" in " ".join(r.reasons) for r in recs)


def test_reasons_only_where_they_explain_the_rank(lib):
    seed = next(t for t, g in lib.genre_of.items() if g == "jazz")
    recs = recommend(lib, seed, k=29, mode="sound")
    far = [r for r in recs if lib.genre_of[r.track.id] != "jazz"]
    assert far and all(r.reasons == [] for r in far), [r.reasons for r in far[:3]]  # no "closest by sound (-0.2)"
    assert all(r.reasons for r in recs[:5])
    # one like: only the songs it lifts say so
    lib.like(next(t for t, g in lib.genre_of.items() if g == "metal"))
    for r in recommend(lib, seed, k=29, mode="personal"):
        if any(s.startswith("you liked") for s in r.reasons):
            assert lib.genre_of[r.track.id] == "metal", r.reasons


def test_a_dislike_leaves_other_scores_comparable(lib):
    """Issue 15.6: one dislike dropped every other score (62 % -> 29 %)."""
    seed = next(t for t, g in lib.genre_of.items() if g == "pop")
    metal = [t for t, g in lib.genre_of.items() if g == "metal"]
    for mode in ("blend", "personal"):
        before = {r.track.id: r.score for r in recommend(lib, seed, k=29, mode=mode)}
        lib.dislike(metal[0])
        after = {r.track.id: r.score for r in recommend(lib, seed, k=29, mode=mode)}
        lib.unlike(metal[0])
        assert metal[0] not in after
        pop = [t for t in after if lib.genre_of[t] == "pop"]
        assert max(abs(after[t] - before[t]) for t in pop) < 0.1, mode
        assert all(after[t] < before[t] for t in metal[1:])  # the disliked song's kind goes down


def test_a_seed_outside_the_library_is_analysed_only_by_the_callers_service(lib, tmp_path):
    """Ranking never analyses a song itself: an unanalysed file seed goes through the ``analyze`` the caller
    gives (the CLI passes the analysis service), and without one it is one clear error."""
    song = tmp_path / "outside.mp3"
    song.write_bytes(b"not analysed anywhere")
    with pytest.raises(LibraryError, match="not analysed yet"):
        recommend(lib, str(song), k=3, mode="genre")
    jazz = next(t for t, g in lib.genre_of.items() if g == "jazz")
    asked = []

    def analyze(path):
        asked.append(path)
        return lib.analysis(jazz) or Analysis(
            file=path,
            duration=200.0,
            sample_rate=22050,
            channels=2,
            genre=Genre("jazz", {"jazz": 0.8, "metal": 0.1, "pop": 0.1}),
        )

    recs = recommend(lib, str(song), k=3, mode="genre", analyze=analyze)
    assert asked == [str(song)]
    assert [lib.genre_of[r.track.id] for r in recs] == ["jazz"] * 3


def test_an_empty_list_says_why(tmp_path, capsys):
    """Nothing analysed, nothing but the seed (and its copy), nothing but disliked songs: each is
    told apart, in the ranking module, on the command line and (tests/ui) in the sidebar."""
    from explorer.cli.library import ALL_DISLIKED, NO_RECOMMENDATIONS
    from explorer.recommend import rank, why_nothing

    with Library(tmp_path / "empty.sqlite") as empty:
        assert why_nothing(empty, 1) == rank.NO_SONGS
    with Library(tmp_path / "lib.sqlite") as lib:
        ids = list(_fill(lib, tmp_path, per_genre=2, artists_per_genre=2))
        seed, others = ids[0], ids[1:]
        assert recommend(lib, seed) and why_nothing(lib, seed) == ""
        assert why_nothing(lib, None, mode="personal") == rank.NO_TASTE  # "for you" with nothing to go on
        for t in others:
            lib.dislike(t)
        for mode in ("personal", "blend"):  # they leave disliked songs out …
            assert recommend(lib, seed, mode=mode) == []
            assert why_nothing(lib, seed, mode=mode) == rank.ALL_DISLIKED
        for mode in ("genre", "sound"):  # … these do not
            assert len(recommend(lib, seed, mode=mode)) == len(others) and why_nothing(lib, seed, mode=mode) == ""
        assert main(["recommend", str(seed), "--db", str(lib.path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["note"] == ALL_DISLIKED
        assert main(["recommend", str(seed), "--db", str(lib.path)]) == 0
        assert capsys.readouterr().out.strip() == ALL_DISLIKED
        lib.mark_missing(others)  # only the seed is left
        assert why_nothing(lib, seed, mode="sound") == rank.NO_OTHER_SONGS
        assert main(["recommend", str(seed), "--db", str(lib.path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["note"] == NO_RECOMMENDATIONS


def test_the_command_line_recommends_for_you_without_a_song(tmp_path, capsys):
    """``recommend`` without FILE ranks by the listener's taste, as the sidebar's "For you" can: until
    something was liked, disliked or played it says so; a mode that needs a song says that instead."""
    from explorer.cli.library import NO_TASTE

    with Library(tmp_path / "lib.sqlite") as lib:
        genre_of = _fill(lib, tmp_path, per_genre=4, artists_per_genre=4)
        ids = list(genre_of)
        db = str(lib.path)
        assert main(["recommend", "--db", db, "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["seed"] is None and doc["recommendations"] == [] and doc["note"] == NO_TASTE
        assert main(["recommend", "--db", db]) == 0
        assert capsys.readouterr().out.strip() == NO_TASTE
        for mode in ("sound", "genre"):
            assert main(["recommend", "--db", db, "--mode", mode]) == 2
            assert "needs a song to start from" in capsys.readouterr().err
        liked = [t for t in ids if genre_of[t] == "jazz"][:2]
        for t in liked:
            lib.like(t)
        for mode in ("blend", "personal"):
            assert main(["recommend", "--db", db, "--json", "-k", "4", "--mode", mode]) == 0
            doc = json.loads(capsys.readouterr().out)
            assert doc["seed"] is None and "note" not in doc and len(doc["recommendations"]) == 4
            paths = {lib.track(t).path: genre_of[t] for t in ids}
            # what the listener liked leads: the jazz songs they did not rate first
            top = [paths[r["path"]] for r in doc["recommendations"]]
            assert top[0] == "jazz", (mode, top)


def test_a_playlist_for_you_without_a_song(tmp_path, capsys):
    """``playlist --out`` without FILE writes the songs for you (no seed line first); with nothing to go
    on it writes no file and says why in one line."""
    from explorer.cli.library import NO_TASTE

    with Library(tmp_path / "lib.sqlite") as lib:
        genre_of = _fill(lib, tmp_path, per_genre=4, artists_per_genre=4)
        db = str(lib.path)
        out = tmp_path / "for-you.m3u8"
        assert main(["playlist", "--db", db, "--out", str(out)]) == 2
        assert capsys.readouterr().err.strip() == f"music-explorer: error: {NO_TASTE}" and not out.exists()
        assert main(["playlist", "--db", db, "--mode", "sound", "--out", str(out)]) == 2
        assert "needs a song to start from" in capsys.readouterr().err and not out.exists()
        for t in [t for t, g in genre_of.items() if g == "jazz"][:2]:
            lib.like(t)
        assert main(["playlist", "--db", db, "-k", "3", "--out", str(out)]) == 0
        assert capsys.readouterr().out.strip() == f"{out}: 3 songs"
        lines = out.read_text().splitlines()
        assert lines[0] == "#EXTM3U" and len([x for x in lines if not x.startswith("#")]) == 3
        by_path = {lib.track(t).path: g for t, g in genre_of.items()}
        first = next(x for x in lines[1:] if not x.startswith("#"))
        assert by_path[str((tmp_path / first).resolve())] == "jazz"


def test_for_you_without_a_seed_ranks_by_the_taste_alone_with_its_reasons(tmp_path):
    """No seed: the score is the taste similarity itself (the same in Blend and For you), not a score
    damped towards 50 % by how few ratings there are; the best rows say which liked song they are like."""
    with Library(tmp_path / "lib.sqlite") as lib:
        genre_of = _fill(lib, tmp_path, per_genre=5, artists_per_genre=5)
        jazz = [t for t, g in genre_of.items() if g == "jazz"]
        lib.like(jazz[0])
        blend = recommend(lib, None, k=6, mode="blend")
        personal = recommend(lib, None, k=6, mode="personal")
        assert [(r.track.id, r.score) for r in blend] == [(r.track.id, r.score) for r in personal]
        others = [r for r in blend if r.track.id != jazz[0]]
        assert all(genre_of[r.track.id] == "jazz" for r in others[:4])  # one like: its kind first
        assert others[0].score >= 0.6  # not ~50 % for everything
        liked = lib.track(jazz[0]).display_name
        assert others[0].reasons == [f"you liked {liked}"]
