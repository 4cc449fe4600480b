"""The shipped genre model: files verified on load, valid answers for any audio, a trainable classifier."""

from __future__ import annotations

import dataclasses
import io
import shutil
import threading

import numpy as np
import pytest

from explorer.audio.buffer import AudioBuffer
from explorer.errors import ExplorerError
from explorer.genre import features, train
from explorer.genre.classifier import LinearClassifier, fit
from explorer.genre.model import (
    CLASSIFIER_FILE,
    EMBEDDING_SIZE,
    GENRES,
    MANIFEST_FILE,
    MODEL_VERSION,
    NETWORKS,
    NO_VOCAL_TAGS,
    VOCAL_NETWORK,
    VOCAL_TAGS,
    GenreModel,
    Models,
    NetworkOutputs,
    describe,
    load_models,
    models_dir,
    read_manifest,
    read_verified,
    verify_models,
    vocal_score,
)

RNG = np.random.default_rng(7)


def noise(seconds: float, sr: int, *, seed: int, channels: int = 1, colour: float = 0.0) -> np.ndarray:
    """White (colour 0) or low-passed (colour → 1) noise, shape (n, channels)."""
    r = np.random.default_rng(seed).standard_normal((int(seconds * sr), channels)).astype(np.float32)
    if colour:
        from scipy.signal import lfilter

        r = lfilter([1 - colour], [1, -colour], r, axis=0).astype(np.float32)
    return 0.3 * r / np.max(np.abs(r))


def chord(seconds: float, sr: int, freqs=(220.0, 277.2, 329.6)) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.2 * sum(np.sin(2 * np.pi * f * t) for f in freqs)).astype(np.float32)[:, None]


def assert_valid(description):
    p = description.genre.probabilities
    assert tuple(p) == train.VOCABULARY == load_models().genre.genres
    assert description.genre.label == max(p, key=p.get)
    assert all(0.0 <= v <= 1.0 for v in p.values())
    assert sum(p.values()) == pytest.approx(1.0, abs=1e-6)
    e = description.embedding
    assert e.dtype == np.float32 and e.shape == (EMBEDDING_SIZE,)
    assert np.all(np.isfinite(e))
    assert float(np.linalg.norm(e)) == pytest.approx(1.0, abs=1e-5)
    assert description.vocal is not None and -1.0 <= description.vocal <= 1.0


def test_shipped_model_files_verify_and_load():
    folder = models_dir()
    manifest = read_manifest(folder)
    assert {f"{n}.onnx" for n in NETWORKS} | {CLASSIFIER_FILE} <= set(manifest)
    for name in manifest:
        assert read_verified(folder, name, manifest)
    assert not MODEL_VERSION.endswith("no-models")
    models = load_models()
    assert models is load_models()
    assert models.genre.classifier.classes == GENRES
    assert all(len(models.networks.tag_names[n]) == 50 for n in NETWORKS)
    assert (folder / "LICENSE-musicnn.md").read_text().startswith("Copyright (c) Music Technology Group")


def test_models_load_once_across_threads(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    got = []
    threads = [threading.Thread(target=lambda: got.append(load_models(folder))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(m is got[0] for m in got)


@pytest.mark.parametrize(
    "name, samples, sr",
    [
        ("silence", np.zeros((5 * 16000, 1), np.float32), 16000),
        ("0.1 s", noise(0.1, 44100, seed=1), 44100),
        ("no samples", np.zeros((0, 2), np.float32), 44100),
        ("8 channels at 192 kHz", noise(2.0, 192000, seed=2, channels=8), 192000),
        ("clipped and loud", np.clip(noise(4.0, 22050, seed=3) * 50, -4, 4), 22050),
    ],
)
def test_describe_gives_a_valid_answer_for_any_audio(name, samples, sr):
    assert_valid(describe(AudioBuffer(samples, sr)))


def test_embedding_puts_alike_sounds_closer():
    sr = 22050
    a, b = (describe(AudioBuffer(noise(8.0, sr, seed=s, colour=0.95), sr)).embedding for s in (10, 11))
    c = describe(AudioBuffer(chord(8.0, sr), sr)).embedding
    assert float(a @ b) > 0.9
    assert float(a @ b) > float(a @ c) + 0.2


def test_long_songs_are_judged_on_a_bounded_number_of_patches():
    for n_frames in (187, 500, 940, 3750, 60 * 3750):
        groups = features.window_patch_starts(n_frames)
        starts = np.concatenate(groups)
        assert 1 <= len(groups) <= 3 and len(starts) <= 18
        assert starts.min() >= 0 and starts.max() <= n_frames - features.PATCH_FRAMES
    hour = 60 * 3750
    first, *_, last = features.window_patch_starts(hour)
    assert first[0] < 0.25 * hour and last[-1] > 0.75 * hour  # spread over the whole song
    clip = np.concatenate(features.window_patch_starts(940))  # a 15 s clip is covered whole
    assert clip.min() == 0 and clip.max() == 940 - features.PATCH_FRAMES


def test_logmel_is_float32_and_not_saturated():
    y = noise(3.0, 16000, seed=4)[:, 0] * 30  # very loud: some bands have power > 6.5
    S = features.musicnn_logmel(y, sr=16000)
    assert S.dtype == np.float32 and S.shape[1] == 96
    # 10000 · power exceeds float16's 65504 for loud bands: computed in float16 it would be inf
    assert np.isfinite(S).all() and S.max() > np.log10(65504)


def test_classifier_learns_separable_classes_and_round_trips():
    centres = RNG.normal(0, 4, (3, 6))
    X = np.vstack([c + RNG.normal(0, 1, (40, 6)) for c in centres])
    y = np.repeat(["a", "b", "c"], 40)
    train_idx = np.arange(len(y)) % 4 != 0
    clf = fit(X[train_idx], y[train_idx], classes=("c", "b", "a"))
    assert clf.classes == ("c", "b", "a")
    assert np.mean(np.array(clf.predict(X[~train_idx])) == y[~train_idx]) >= 0.95
    again = LinearClassifier.from_bytes(clf.to_bytes())
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError):
        fit(X[:40], y[:40], classes=("a", "b"))


def synthetic_outputs(genre_index: int, seed: int, n_windows: int = 2) -> NetworkOutputs:
    r = np.random.default_rng(seed)
    n = 6 * n_windows
    centre = np.zeros(200)
    centre[genre_index * 20 : (genre_index + 1) * 20] = 3.0
    emb = {net: centre + r.normal(0, 1, (n, 200)) for net in NETWORKS}
    tags = {net: r.uniform(0, 1, (n, 50)) for net in NETWORKS}
    return NetworkOutputs(tags, emb, np.repeat(np.arange(n_windows), 6))


def test_genre_model_trained_on_separable_songs_recognises_new_ones():
    train_set = [(synthetic_outputs(g, 100 * g + i), GENRES[g]) for g in range(10) for i in range(4)]
    test_set = [(synthetic_outputs(g, 5000 + 100 * g + i, n_windows=3), GENRES[g]) for g in range(10) for i in range(3)]
    model = train.fit_genre_model(
        [o for o, _ in train_set], [g for _, g in train_set], zero_shot_weight=0.3, families=()
    )
    assert model.genres == GENRES
    model = GenreModel.from_bytes(model.to_bytes())
    tag_names = load_models().networks.tag_names
    predicted = [model.genres[int(np.argmax(model.probabilities(o, tag_names)))] for o, _ in test_set]
    assert np.mean(np.array(predicted) == np.array([g for _, g in test_set])) >= 0.9
    E = np.array([model.embedding(o) for o, _ in test_set])
    assert train.precision_at_k(E, [g for _, g in test_set], k=2) >= 0.9


def family_model(families=train.FAMILIES) -> GenreModel:
    songs = [(synthetic_outputs(g, 100 * g + i), GENRES[g]) for g in range(10) for i in range(3)]
    return train.fit_genre_model([o for o, _ in songs], [g for _, g in songs], zero_shot_weight=0.3, families=families)


def test_the_shipped_model_names_genres_beyond_the_ten_it_was_trained_on():
    genres = load_models().genre.genres
    assert genres[:10] == GENRES
    assert {"folk", "soul", "punk", "electronic"} <= set(genres[10:])
    assert len(set(genres)) == len(genres)


def test_a_family_member_takes_its_share_of_its_genre_by_the_tags():
    model = family_model()
    genres = model.genres
    country = np.eye(10)[GENRES.index("country")]  # the classifier hears country (it knows no folk)
    z = np.full(len(genres), 0.01)
    z[genres.index("folk")], z[genres.index("country")] = 0.6, 0.2  # the taggers hear folk more than country
    p = model.blend(country, z / z.sum())
    assert genres[int(np.argmax(p))] == "folk"
    assert p[genres.index("folk")] == pytest.approx(3 * p[genres.index("country")], rel=0.2)
    assert p.sum() == pytest.approx(1.0)
    # the family keeps what the classifier gave its genre: a member only divides it
    z[genres.index("folk")] = 0.0
    p = model.blend(country, z / z.sum())
    assert genres[int(np.argmax(p))] == "country" and p[genres.index("folk")] == 0.0
    # a member never takes what the classifier gave another family
    z[genres.index("folk")], z[genres.index("country")] = 0.6, 0.0
    p = model.blend(np.eye(10)[GENRES.index("metal")], z / z.sum())
    assert genres[int(np.argmax(p))] == "metal"


def test_a_member_of_several_families_adds_up_its_shares():
    model = family_model()
    genres = model.genres
    assert genres.count("electronic") == 1
    # the classifier hears pop and hip-hop, half each; the taggers hear electronic three times as much
    classified = 0.5 * (np.eye(10)[GENRES.index("pop")] + np.eye(10)[GENRES.index("hiphop")])
    z = np.full(len(genres), 0.01)
    z[genres.index("electronic")], z[genres.index("pop")], z[genres.index("hiphop")] = 0.6, 0.2, 0.2
    p = model.blend(classified, z / z.sum())
    assert genres[int(np.argmax(p))] == "electronic"
    assert p.sum() == pytest.approx(1.0)
    without = dataclasses.replace(model, families=tuple(f for f in model.families if f != ("electronic", "hiphop")))
    q = without.blend(classified, z / z.sum())
    # hip-hop's share is electronic's only through the hip-hop family: without it, hip-hop keeps it all
    assert q[genres.index("hiphop")] > p[genres.index("hiphop")]
    assert q[genres.index("electronic")] < p[genres.index("electronic")]
    # a genre the taggers do not hear as electronic keeps its classifier share
    r = model.blend(np.eye(10)[GENRES.index("disco")], z / z.sum())
    assert genres[int(np.argmax(r))] == "disco"


def test_family_members_round_trip_and_older_files_name_the_ten():
    model = family_model()
    again = GenreModel.from_bytes(model.to_bytes())
    assert again.families == model.families and again.genres == model.genres
    assert again.zero_shot == model.zero_shot
    ten = family_model(families=())
    assert GenreModel.from_bytes(ten.to_bytes()).genres == GENRES
    old = {k: v for k, v in np.load(io.BytesIO(ten.to_bytes()), allow_pickle=False).items() if k != "families"}
    buf = io.BytesIO()
    np.savez(buf, **old)  # a file written before genres had families
    assert GenreModel.from_bytes(buf.getvalue()).genres == GENRES


@pytest.mark.parametrize(
    "families",
    [(("folk", "polka"),), (("rock", "country"),), (("folk", "country"), ("folk", "country")), (("folk",),)],
)
def test_a_family_of_an_unknown_genre_is_refused(families):
    model = dataclasses.replace(family_model(families=()), families=families)
    with pytest.raises(ValueError, match="wrong shape"):
        GenreModel.from_bytes(model.to_bytes())


def tampered_copy(tmp_path, name, change):
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    change(folder / name)
    return folder


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", [f"{NETWORKS[1]}.onnx", CLASSIFIER_FILE])
def test_a_damaged_model_file_is_a_clear_error(tmp_path, name):
    folder = tampered_copy(tmp_path, name, flip_a_byte)
    with pytest.raises(ExplorerError, match="damaged") as info:
        Models(folder)
    assert name in info.value.message


def test_missing_model_files_are_a_clear_error(tmp_path):
    folder = tampered_copy(tmp_path, f"{NETWORKS[0]}.onnx", lambda p: p.unlink())
    with pytest.raises(ExplorerError, match="missing"):
        Models(folder)
    (folder / MANIFEST_FILE).unlink()
    with pytest.raises(ExplorerError, match="manifest is missing"):
        Models(folder)


def test_labelled_clips_reads_gtzan_names(tmp_path):
    for name in ("jazz.00001.flac", "rock.00042.mp3", "notes.txt", "polka.00001.wav"):
        (tmp_path / name).write_bytes(b"")
    assert [(p.name, g) for p, g in train.labelled_clips(tmp_path)] == [
        ("jazz.00001.flac", "jazz"),
        ("rock.00042.mp3", "rock"),
    ]


def test_hand_features_follow_the_table_columns():
    sr = 22050
    t = np.arange(3 * sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    values = dict(zip(features.TABLE_COLUMNS, features.hand_features(y, sr=sr)))
    assert len(values) == 57 and all(np.isfinite(list(values.values())))
    assert values["rms_mean"] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert values["spectral_centroid_mean"] == pytest.approx(1000.0, rel=0.05)
    assert values["zero_crossing_rate_mean"] == pytest.approx(2 * 1000.0 / sr, rel=0.05)
    louder = dict(zip(features.TABLE_COLUMNS, features.hand_features(2 * y, sr=sr)))
    assert louder["rms_mean"] == pytest.approx(2 * values["rms_mean"], rel=1e-3)


def test_patches_one_per_call_give_what_one_batch_gives(monkeypatch):
    """onnxruntime runs the patches in small batches (bounded memory): the outputs are the batch's."""
    from explorer.genre import model

    nets = load_models().networks
    x = np.random.default_rng(5).random((5, features.PATCH_FRAMES, features.MUSICNN_N_MELS), dtype=np.float32) * 3
    window = np.array([0, 0, 0, 1, 1])
    small = nets.run(x, window)
    monkeypatch.setattr(model, "PATCH_BATCH", 5)
    whole = nets.run(x, window)
    for n in NETWORKS:
        assert small.tags[n].shape == (5, 50) and small.embeddings[n].shape == (5, 200)
        np.testing.assert_allclose(small.tags[n], whole.tags[n], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(small.embeddings[n], whole.embeddings[n], rtol=1e-4, atol=1e-5)


def test_verify_models_checks_every_file_without_loading_them(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    verify_models(folder)
    data = bytearray((folder / "genre_classifier.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "genre_classifier.npz").write_bytes(bytes(data))
    with pytest.raises(ExplorerError, match="damaged"):
        verify_models(folder)


def _versions(folder, monkeypatch) -> tuple[str, str]:
    from explorer.genre import model
    from explorer.util.modelfiles import MODEL_DIR_ENV

    monkeypatch.setenv(MODEL_DIR_ENV, str(folder))
    return model._model_version(), model._embedding_version()


def _edit_manifest(folder, name, **fields):
    """Set (or, with None, remove) fields of one file's manifest entry."""
    import json

    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    entry = manifest["files"][name]
    entry.update(fields)
    manifest["files"][name] = {k: v for k, v in entry.items() if v is not None}
    path.write_text(json.dumps(manifest))


def test_a_file_rewritten_to_the_same_function_keeps_the_model_version(tmp_path, monkeypatch):
    # packaging/optimise_musicnn.py keeps the checksum of the graph it checked the rewrite against
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    name = f"{NETWORKS[0]}.onnx"
    entry = read_manifest(folder)[name]
    converted = entry.get("function_sha256", entry["sha256"])
    _edit_manifest(folder, name, sha256=converted, function_sha256=None)  # as the converter wrote it
    before = _versions(folder, monkeypatch)
    _edit_manifest(folder, name, sha256="0" * 64, function_sha256=converted)  # rewritten, same function
    assert _versions(folder, monkeypatch) == before
    _edit_manifest(folder, name, function_sha256="1" * 64)  # another function: what was cached is stale
    after = _versions(folder, monkeypatch)
    assert after[0] != before[0] and after[1] != before[1]


def test_a_new_structure_network_leaves_the_embedding_version(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    model_version, embedding_version = _versions(folder, monkeypatch)
    _edit_manifest(folder, "boundaries.npz", sha256="2" * 64)
    new_model, new_embedding = _versions(folder, monkeypatch)
    assert new_model != model_version  # cached results carry the structure network's answers
    assert new_embedding == embedding_version  # a listener's own genre model stays usable
    # the embeddings' statistics live there: a file with new ones names them by its own checksum
    _edit_manifest(folder, CLASSIFIER_FILE, sha256="3" * 64, embedding_sha256=None)
    assert _versions(folder, monkeypatch)[1] != embedding_version


def test_a_new_genre_model_with_the_same_embedding_statistics_keeps_the_embedding_version(tmp_path, monkeypatch):
    # tools/train_genre.py names statistics it kept by the checksum of the file that brought them
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    entry = read_manifest(folder)[CLASSIFIER_FILE]
    brought = entry.get("embedding_sha256", entry["sha256"])
    _edit_manifest(folder, CLASSIFIER_FILE, sha256=brought, embedding_sha256=None)
    model_version, embedding_version = _versions(folder, monkeypatch)
    _edit_manifest(folder, CLASSIFIER_FILE, sha256="4" * 64, embedding_sha256=brought)  # new genres, same statistics
    new_model, new_embedding = _versions(folder, monkeypatch)
    assert new_model != model_version  # the cached genre probabilities are stale
    assert new_embedding == embedding_version  # a listener's own genre model stays usable


def test_shipped_embeddings_are_the_ones_listeners_trained_on():
    # every release since the musicnn conversion computes these embeddings (the graph rewrite included):
    # when they change on purpose, listeners must train their genre models again and the legacy map goes
    from explorer.genre import model

    assert model.EMBEDDING_VERSION == "1-667a30487645"
    assert set(model.LEGACY_EMBEDDING_VERSIONS.values()) == {model.EMBEDDING_VERSION}
    assert model.EMBEDDING_VERSION != MODEL_VERSION


def test_vocal_score_is_the_vocal_tags_less_the_no_vocal_tags():
    """Over the patches: every vocal tag at .6 and .2 (mean .4), every no-vocal tag at .1, the rest at .9."""
    names = load_models().networks.tag_names
    assert set(VOCAL_TAGS) | set(NO_VOCAL_TAGS) <= set(names[VOCAL_NETWORK])
    tags = {}
    for network in NETWORKS:
        t = np.full((2, len(names[network])), 0.9)
        for i, name in enumerate(names[network]):
            if network == VOCAL_NETWORK and name in VOCAL_TAGS:
                t[:, i] = (0.6, 0.2)
            elif network == VOCAL_NETWORK and name in NO_VOCAL_TAGS:
                t[:, i] = 0.1
        tags[network] = t
    outputs = NetworkOutputs(tags, {n: np.zeros((2, 200)) for n in NETWORKS}, np.zeros(2, int))
    assert vocal_score(outputs, names) == pytest.approx(0.3)
