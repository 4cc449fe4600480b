"""The user's own genre model as data, and switching a library's model (real SQLite, a real cache)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tone, write_audio

from explorer.analysis.types import Analysis, Genre
from explorer.errors import ExplorerError
from explorer.genre import own
from explorer.library import genre_model
from explorer.library.cache import AnalysisCache, content_hash
from explorer.library.store import Library


def _songs(rng, n_per=6, genres=("a", "b", "c")):
    centres = rng.normal(0, 1, (len(genres), 16))
    X, y, artists = [], [], []
    for g, c in zip(genres, centres):
        for k in range(n_per):
            X.append(c + 0.2 * rng.normal(0, 1, 16))
            y.append(g)
            artists.append(f"artist {k}")
    return own.Songs(list(range(len(y))), np.array(X), y, artists)


def test_cross_validation_keeps_artists_apart_and_the_model_is_plain_data(tmp_path):
    songs = _songs(np.random.default_rng(0))
    report, P = own.cross_validate(songs)
    assert report.accuracy == 1.0 and report.artists == 6 and report.folds == 5
    assert np.array(report.confusion).trace() == 18 and P.shape == (18, 3)
    model = own.fit_own_model(songs, report, embedding_version="v")
    path = tmp_path / "m.npz"
    model.save(path, report)
    back = own.OwnModel.load(path)
    assert back.genres == ("a", "b", "c") and back.embedding_version == "v"
    assert np.allclose(back.probabilities(songs.X), model.probabilities(songs.X))
    assert own.read_report(path).to_dict() == report.to_dict()
    with np.load(path, allow_pickle=False) as npz:  # no object arrays anywhere
        assert all(npz[k].dtype != object for k in npz.files)


def test_a_model_on_these_embeddings_is_usable_and_one_on_others_is_refused():
    from explorer.genre.model import EMBEDDING_VERSION

    songs = _songs(np.random.default_rng(0))
    report, _ = own.cross_validate(songs)
    # trained now, with analysis 1.14 or 1.15 (their whole model version), or before 1.14
    for version in (EMBEDDING_VERSION, "1-9ce2b463ff09", "1-667a30487645"):
        genre_model.check_compatible(own.fit_own_model(songs, report, embedding_version=version))
    with pytest.raises(ExplorerError, match="train it again"):
        genre_model.check_compatible(own.fit_own_model(songs, report, embedding_version="1-000000000000"))


def test_too_few_songs_genres_or_artists():
    songs = _songs(np.random.default_rng(1), n_per=4)
    songs = own.Songs(songs.ids, songs.X, songs.genres, songs.artists, {"a": 4, "b": 4, "c": 4})
    with pytest.raises(own.NotEnoughSongs, match="at least 2 genres with 5 or more"):
        own.check_enough(own.Songs([], np.zeros((0, 16)), [], [], songs.left_out))
    one_artist = _songs(np.random.default_rng(2))
    one_artist = own.Songs(one_artist.ids, one_artist.X, one_artist.genres, ["x"] * 18)
    with pytest.raises(own.NotEnoughSongs, match="by 1 artist"):
        own.check_enough(one_artist)
    assert own.normalise_tag("  Hip  Hop; Rap") == "hip hop"


def test_switching_back_to_the_shipped_model_reads_the_cache(tmp_path):
    cache = AnalysisCache(tmp_path / "cache")
    lib = Library(tmp_path / "l.sqlite", cache=cache)
    paths = [write_audio(tmp_path / f"{i}.wav", tone(0.3, 22050, freq=200.0 + 50 * i), 22050) for i in range(2)]
    emb = np.ones(400, np.float32) / 20
    for i, p in enumerate(paths):
        t = lib.add_or_update_file(p)
        a = Analysis(
            file=str(p),
            duration=0.3,
            sample_rate=22050,
            channels=1,
            genre=Genre("jazz", {"jazz": 0.7, "pop": 0.3}),
            embedding=emb,
        )
        lib.record_analysis(t.id, a, content_hash(p))
        if i == 0:
            cache.store(content_hash(p), a)  # the second song's analysis is not in the cache any more
    lib.set_genres([(t.id, "mine", {"mine": 1.0}) for t in lib.tracks()])
    assert genre_model.use(lib, None) == 1
    first, second = (lib.track_by_path(str(p)) for p in paths)
    assert first.genre_label == "jazz" and first.state == "analysed"
    assert second.genre_label is None and second.state == "pending"  # the next scan analyses it again
    assert genre_model.chosen_path(lib) is None
    with pytest.raises(ExplorerError, match="genre model not found"):
        genre_model.use(lib, tmp_path / "nothing.npz")
    lib.close()
