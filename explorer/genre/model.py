"""Describe a track for the library: genre probabilities and a fixed-length sound embedding.

How a song is described (:func:`describe`)
------------------------------------------
1. Its mono mix is resampled to 16 kHz and turned into musicnn's log-mel spectrogram
   (:func:`explorer.genre.features.song_patches`); up to 3 windows of ~10 s spread over the song, each of
   6 half-overlapping 3-second patches (≤ 18 patches, whatever the song's length: ~1.5 s of CPU).
2. Both pretrained musicnn taggers (``MSD_musicnn``, ``MTT_musicnn``; ONNX files in ``resources/models``,
   converted by ``packaging/convert_musicnn.py``) give, per patch, 50 tag probabilities and the
   200-d penultimate layer.
3. Genre: for every window, the mean and standard deviation over its patches of both networks'
   penultimate layers (800 numbers) go through a logistic-regression classifier
   (``genre_classifier.npz``, trained by ``tools/train_genre.py`` on the GTZAN dev clips); the
   windows' probabilities are averaged, then blended with a zero-shot mapping of the networks' genre
   tags (``zero_shot_weight``; e.g. MSD "jazz" → jazz, MTT "classical" → classical) so genres the
   small training set covers thinly still get a say.
   Genres the taggers know and the ten training genres do not (:attr:`GenreModel.families`: folk,
   soul/R&B, punk, electronic) are members of the family of one or more of the ten (folk of country,
   soul of blues, punk of rock, electronic of pop and hip-hop): the classifier's probability of
   a family's genre is shared among it and its members in the proportion of their zero-shot scores,
   and a member of several families adds up its shares.  The result is a distribution over
   :attr:`GenreModel.genres` (:data:`GENRES`, then those members).
4. Embedding (:data:`EMBEDDING_SIZE` = 400 float32 numbers, unit length): the mean over all patches of the
   MSD penultimate layer (200) and of the MTT penultimate layer (200), each standardised with fixed
   per-dimension statistics stored in ``genre_classifier.npz`` (``embed_mean``/``embed_scale``: mean and
   standard deviation over the 50 GTZAN dev clips, no labels used), weighted by ``embed_weights`` per
   network (MSD 1.0, MTT 0.5 in the shipped model), concatenated and L2-normalised.  Cosine similarity (= dot
   product) of two embeddings is "sounds like".  No genre label was used to build it.

Every model file is verified against the SHA-256 in ``resources/models/manifest.json`` when it is
loaded; a missing or damaged file raises :class:`~explorer.errors.ExplorerError` naming it.  The
ONNX sessions are created once per process, lazily and thread-safely.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.analysis.types import Genre
from explorer.audio.buffer import AudioBuffer
from explorer.errors import Cancelled, ExplorerError
from explorer.genre.classifier import LinearClassifier
from explorer.util.modelfiles import (  # noqa: F401 - MANIFEST_FILE and MODEL_DIR_ENV are part of this module's API
    MANIFEST_FILE,
    MODEL_DIR_ENV,
    models_dir,
    read_manifest,
    read_verified,
)

CancelFn = Callable[[], bool]

#: The genres the shipped classifier is trained on, in this order (GTZAN's ten); the shipped model
#: also names the members of their families (:attr:`GenreModel.genres`).
GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
#: The two musicnn networks, by file stem.
NETWORKS = ("MSD_musicnn", "MTT_musicnn")
#: Width of one network's penultimate layer.
NETWORK_EMBEDDING = 200
#: Length of :attr:`TrackDescription.embedding`.
EMBEDDING_SIZE = NETWORK_EMBEDDING * len(NETWORKS)
#: Length of the classifier's input (per window: mean and std of both penultimate layers).
WINDOW_FEATURES = 2 * EMBEDDING_SIZE
CLASSIFIER_FILE = "genre_classifier.npz"
#: The MagnaTagATune network's tags that hear a voice and those that hear none: a song's vocal score
#: (:func:`vocal_score`) is the mean of the first less the mean of the second, over its patches.  Our
#: sung renders score above .02 (87 of 90), instrumental ones below (all but 0–5 of 90 per rendering).
VOCAL_TAGS = (
    "vocal",
    "vocals",
    "singing",
    "voice",
    "female vocal",
    "male vocal",
    "female voice",
    "male voice",
    "woman",
    "man",
    "female",
    "male",
)
NO_VOCAL_TAGS = ("no vocals", "no vocal", "no voice")
VOCAL_NETWORK = "MTT_musicnn"


@dataclass(frozen=True, eq=False)
class TrackDescription:
    genre: Genre = field(default_factory=Genre)
    #: Fixed-length float32 vector (:data:`EMBEDDING_SIZE`, unit length); cosine similarity = "sounds like".
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(EMBEDDING_SIZE, np.float32))
    #: How clearly the taggers hear a voice (:func:`vocal_score`); None when not measured.
    vocal: float | None = None


@dataclass(frozen=True, eq=False)
class NetworkOutputs:
    """What the musicnn networks said about the patches of one song.

    Attributes
    ----------
    tags : dict of str → np.ndarray [shape=(n_patches, 50)]
        Tag probabilities per network.
    embeddings : dict of str → np.ndarray [shape=(n_patches, 200)]
        Penultimate layer per network.
    window : np.ndarray [shape=(n_patches,), dtype=int]
        The window each patch belongs to (0 … n_windows - 1).
    """

    tags: dict[str, np.ndarray]
    embeddings: dict[str, np.ndarray]
    window: np.ndarray

    def window_features(self) -> np.ndarray:
        """Classifier inputs, one row per window [shape=(n_windows, 800)]: means then stds of MSD, MTT."""
        rows = []
        for w in np.unique(self.window):
            sel = self.window == w
            parts = [self.embeddings[n][sel].mean(axis=0) for n in NETWORKS]
            parts += [self.embeddings[n][sel].std(axis=0) for n in NETWORKS]
            rows.append(np.concatenate(parts))
        return np.asarray(rows, dtype=np.float64)

    def mean_embedding(self) -> np.ndarray:
        """Mean penultimate layers over all patches, MSD then MTT [shape=(400,)]."""
        return np.concatenate([self.embeddings[n].mean(axis=0) for n in NETWORKS]).astype(np.float64)

    def mean_tags(self) -> dict[str, np.ndarray]:
        """Mean tag probabilities over all patches, per network [shape=(50,)]."""
        return {n: self.tags[n].mean(axis=0) for n in NETWORKS}


def vocal_score(outputs: NetworkOutputs, tag_names: Mapping[str, Sequence[str]]) -> float:
    """How clearly the taggers hear a voice in a song: the mean over its patches of the MagnaTagATune
    network's :data:`VOCAL_TAGS` less that of its :data:`NO_VOCAL_TAGS` (about −.1 to +.2).

    Parameters
    ----------
    outputs : NetworkOutputs
    tag_names : dict network -> tag names, in the order of the network's outputs
    """
    tags = dict(zip(tag_names[VOCAL_NETWORK], outputs.mean_tags()[VOCAL_NETWORK]))
    return float(np.mean([tags[t] for t in VOCAL_TAGS]) - np.mean([tags[t] for t in NO_VOCAL_TAGS]))


def vocabulary(families) -> tuple[str, ...]:
    """The genres a model with these ``families`` ((member, genre) pairs) names: :data:`GENRES`, then
    the members, each once, in the order they first appear."""
    return GENRES + tuple(dict.fromkeys(member for member, _ in families))


@dataclass(frozen=True, eq=False)
class GenreModel:
    """The trained part of the genre model (``genre_classifier.npz``).

    Attributes
    ----------
    classifier : LinearClassifier
        Window features (800) → :data:`GENRES`.
    zero_shot : tuple of (genre, network, tag)
        Which tags vote for which genre; a genre's zero-shot score is the largest probability among
        its tags (genres without tags score 0); the scores are normalised to sum to 1.
    families : tuple of (member, genre)
        Genres outside :data:`GENRES`, each a member of the family of one or more of them (e.g. folk
        of country; electronic of pop and hip-hop): they share each such genre's classifier
        probability with it by their zero-shot scores.
    zero_shot_weight : float in [0, 1]
        Weight of the zero-shot distribution in the final blend.
    embed_mean, embed_scale : np.ndarray [shape=(400,)]
        Standardisation of :meth:`NetworkOutputs.mean_embedding`.
    embed_weights : np.ndarray [shape=(2,)]
        Weight of each network's block in the embedding.
    """

    classifier: LinearClassifier
    zero_shot: tuple[tuple[str, str, str], ...]
    zero_shot_weight: float
    embed_mean: np.ndarray
    embed_scale: np.ndarray
    embed_weights: np.ndarray
    families: tuple[tuple[str, str], ...] = ()

    @property
    def genres(self) -> tuple[str, ...]:
        """The genres this model names (:func:`vocabulary` of its families)."""
        return vocabulary(self.families)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(
            buf,
            **self.classifier.arrays("clf_"),  # type: ignore[arg-type]  # (numpy's stubs)
            zero_shot=np.array(["\t".join(t) for t in self.zero_shot], dtype=str),
            zero_shot_weight=np.float64(self.zero_shot_weight),
            embed_mean=self.embed_mean,
            embed_scale=self.embed_scale,
            embed_weights=self.embed_weights,
            families=np.array(["\t".join(f) for f in self.families], dtype=str),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> GenreModel:
        """Read :meth:`to_bytes` output (``allow_pickle=False``); ``ValueError`` if it is not one."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                clf = LinearClassifier.from_arrays(npz, "clf_")
                zero_shot: tuple = tuple(tuple(str(s).split("\t")) for s in npz["zero_shot"])
                families: tuple = tuple(tuple(str(s).split("\t")) for s in npz.get("families", ()))
                model = cls(
                    clf,
                    zero_shot,
                    float(npz["zero_shot_weight"]),
                    np.asarray(npz["embed_mean"], np.float64),
                    np.asarray(npz["embed_scale"], np.float64),
                    np.asarray(npz["embed_weights"], np.float64),
                    families,
                )
        except (KeyError, OSError, EOFError) as e:
            raise ValueError(f"not a genre model file ({e})") from None
        if (
            clf.classes != GENRES
            or clf.n_features != WINDOW_FEATURES
            or model.embed_mean.shape != (EMBEDDING_SIZE,)
            or model.embed_scale.shape != (EMBEDDING_SIZE,)
            or model.embed_weights.shape != (len(NETWORKS),)
            or any(len(t) != 3 for t in zero_shot)
            or any(len(f) != 2 or f[0] in GENRES or f[1] not in GENRES for f in families)
            or len(set(families)) != len(families)
            or any(t[0] not in model.genres for t in zero_shot)
        ):
            raise ValueError("genre model file has the wrong shape")
        return model

    def zero_shot_probabilities(self, mean_tags: dict[str, np.ndarray], tag_names: dict[str, list[str]]) -> np.ndarray:
        """Distribution over :attr:`genres` from the networks' mean tag probabilities [shape=(n_genres,)]."""
        genres = self.genres
        scores = np.zeros(len(genres))
        for genre, network, tag in self.zero_shot:
            value = float(mean_tags[network][tag_names[network].index(tag)])
            i = genres.index(genre)
            scores[i] = max(scores[i], value)
        total = scores.sum()
        return scores / total if total > 0 else np.full(len(genres), 1.0 / len(genres))

    def probabilities(self, outputs: NetworkOutputs, tag_names: dict[str, list[str]]) -> np.ndarray:
        """Genre distribution of a song over :attr:`genres` [shape=(n_genres,)], summing to 1."""
        return self.blend(
            self.classifier.predict_proba(outputs.window_features()).mean(axis=0),
            self.zero_shot_probabilities(outputs.mean_tags(), tag_names),
        )

    def blend(self, classified: np.ndarray, zero_shot: np.ndarray) -> np.ndarray:
        """The song's distribution over :attr:`genres` [shape=(n_genres,)] from the classifier's over
        :data:`GENRES` [shape=(10,)] and the zero-shot one over :attr:`genres` [shape=(n_genres,)].

        A family's share of ``classified`` goes to its genre and members in the proportion of their
        zero-shot scores (all of it to the genre when none of them scores); a member of several
        families gets the sum of its shares.  Then the two distributions are mixed with
        :attr:`zero_shot_weight`.
        """
        genres = self.genres
        p = np.zeros(len(genres))
        p[: len(GENRES)] = classified
        for parent in dict.fromkeys(parent for _, parent in self.families):
            head = genres.index(parent)
            members = [genres.index(m) for m, f in self.families if f == parent]
            votes = zero_shot[[head] + members]
            if votes.sum() > 0:
                share = classified[GENRES.index(parent)] * votes / votes.sum()
                p[head] = share[0]
                p[members] += share[1:]
        if self.zero_shot_weight > 0:
            p = (1.0 - self.zero_shot_weight) * p + self.zero_shot_weight * zero_shot
        return p / p.sum()

    def embedding(self, outputs: NetworkOutputs) -> np.ndarray:
        """The song's sound embedding [shape=(400,), float32, unit length] (see the module docstring)."""
        z = (outputs.mean_embedding() - self.embed_mean) / self.embed_scale
        z = z.reshape(len(NETWORKS), NETWORK_EMBEDDING) * self.embed_weights[:, None]
        return unit(z.ravel())


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 as float32 (a vector without a direction becomes the all-equal one)."""
    v = np.nan_to_num(np.asarray(v, dtype=np.float64))
    norm = float(np.linalg.norm(v))
    if norm < 1e-12:
        v, norm = np.ones_like(v), float(np.sqrt(v.size))
    return (v / norm).astype(np.float32)


#: How onnxruntime says an allocation failed (a C++ bad_alloc, or its arena's own message).
_NO_MEMORY = ("bad_alloc", "Failed to allocate memory")


def _quiet_run():
    """Run options that keep onnxruntime from printing its own error lines: a failure is raised, and told once."""
    options = import_onnxruntime().RunOptions()
    options.log_severity_level = 4  # fatal only
    return options


def import_onnxruntime():
    """The ``onnxruntime`` module, imported with its telemetry off.

    Official onnxruntime builds for Linux and macOS (1DS telemetry) create a persistent device ID and
    an event queue under ``$XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime/`` while the module
    is imported; ``ORT_DISABLE_TELEMETRY=1`` set before that import stops the uploader, the events and
    the device ID for the process (``disable_telemetry_events()`` afterwards is too late).  Child
    processes inherit the setting.
    """
    os.environ[ORT_TELEMETRY_ENV] = "1"
    import onnxruntime  # noqa: PLC0415 - heavy: only where a song is described

    return onnxruntime


#: onnxruntime's switch for its telemetry (see :func:`import_onnxruntime`).
ORT_TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"
#: Patches per onnxruntime call.  One at a time: each patch in a call adds to the memory onnxruntime
#: keeps afterwards, and a bigger call costs no less CPU per patch (figures in the README, "Measured").
PATCH_BATCH = 1


class Networks:
    """Both musicnn networks of one folder, verified and loaded into onnxruntime.

    ``threads``: intra-op threads of each session (default: up to 2, as many as there are cores).
    """

    def __init__(self, folder: Path, manifest: dict | None = None, *, threads: int | None = None):
        ort = import_onnxruntime()

        manifest = read_manifest(folder) if manifest is None else manifest
        options = ort.SessionOptions()
        #: Intra-op threads of each session.
        self.threads = threads or min(2, os.cpu_count() or 1)
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # Do not busy-wait between runs: the library scan runs several processes side by side.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.sessions = {}
        self.tag_names: dict[str, list[str]] = {}
        for network in NETWORKS:
            name = f"{network}.onnx"
            data = read_verified(folder, name, manifest)
            try:
                self.sessions[network] = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            except Exception as e:  # onnxruntime raises its own exception types for an invalid model
                raise ExplorerError(f"{folder / name}: not a usable ONNX model ({e})", path=folder / name) from None
            self.tag_names[network] = list(manifest[name].get("tags", []))

    def run(self, patches: np.ndarray, window: np.ndarray, *, cancel: CancelFn | None = None) -> NetworkOutputs:
        """Both networks on log-mel ``patches`` [shape=(n, 187, 96)] grouped by ``window`` [shape=(n,)].

        ``cancel`` is polled before each call into onnxruntime; :class:`~explorer.errors.Cancelled` is
        raised when it returns True.
        """
        tags, embeddings = {}, {}
        x = np.ascontiguousarray(patches, dtype=np.float32)
        for network, session in self.sessions.items():
            parts = []
            for i in range(0, x.shape[0], PATCH_BATCH):
                if cancel is not None and cancel():
                    raise Cancelled("genre analysis cancelled")
                try:
                    parts.append(session.run(["tags", "embedding"], {"mel": x[i : i + PATCH_BATCH]}, _quiet_run()))
                except Exception as err:  # onnxruntime's own exception types
                    if any(words in str(err) for words in _NO_MEMORY):
                        raise MemoryError(f"onnxruntime could not allocate memory for the {network} network") from None
                    raise
            tags[network] = np.concatenate([np.asarray(t, np.float64) for t, _ in parts])
            embeddings[network] = np.concatenate([np.asarray(e, np.float64) for _, e in parts])
        return NetworkOutputs(tags, embeddings, np.asarray(window))

    def analyse(self, y: np.ndarray, *, sr: int, cancel: CancelFn | None = None) -> NetworkOutputs:
        """Network outputs for a mono signal ``y`` [shape=(n,)] at ``sr`` Hz (``cancel`` as in :meth:`run`)."""
        from explorer.genre import features  # noqa: PLC0415 - only where songs are described

        patches, window = features.song_patches(y, sr=sr)
        return self.run(patches, window, cancel=cancel)


class Models:
    """The loaded, verified model files of one folder: both networks and the genre model."""

    def __init__(self, folder: Path, *, threads: int | None = None):
        self.folder = folder
        manifest = read_manifest(folder)
        self.networks = Networks(folder, manifest, threads=threads)
        path = folder / CLASSIFIER_FILE
        try:
            self.genre = GenreModel.from_bytes(read_verified(folder, CLASSIFIER_FILE, manifest))
        except ValueError as e:
            raise ExplorerError(f"{path}: {e}", path=path) from None
        unknown = [t for _, n, t in self.genre.zero_shot if t not in self.networks.tag_names.get(n, ())]
        if unknown:
            raise ExplorerError(f"{path}: the genre model names tags the networks do not have ({unknown})", path=path)

    def describe_outputs(self, outputs: NetworkOutputs) -> TrackDescription:
        """The description of a song whose network outputs are known."""
        p = self.genre.probabilities(outputs, self.networks.tag_names)
        genres = self.genre.genres
        genre = Genre(genres[int(np.argmax(p))], {g: float(v) for g, v in zip(genres, p)})
        return TrackDescription(genre, self.genre.embedding(outputs), vocal_score(outputs, self.networks.tag_names))


def _model_version(names: tuple[str, ...] | None = None, *, key: str = "function_sha256") -> str:
    """The code revision of :func:`describe` and what the model files compute: of every file (or of
    ``names``), its ``key`` in the manifest when it has one (``function_sha256``: a file rewritten to
    compute the same function faster, see ``packaging/optimise_musicnn.py``; ``embedding_sha256``: a
    genre model that keeps the embedding statistics of an earlier one, see ``tools/train_genre.py``),
    else its ``function_sha256``, else its checksum."""
    try:
        files = read_manifest(models_dir())
        sums = {
            k: v.get(key, v.get("function_sha256", v.get("sha256")))
            for k, v in files.items()
            if names is None or k in names
        }
        digest = hashlib.sha256(json.dumps(sums, sort_keys=True).encode())
        return f"{_DESCRIBE_REVISION}-{digest.hexdigest()[:12]}"
    except ExplorerError:
        return f"{_DESCRIBE_REVISION}-no-models"


def _embedding_version() -> str:
    """What the sound embeddings are: the networks' functions and the statistics that standardise them."""
    return _model_version((*(f"{n}.onnx" for n in NETWORKS), CLASSIFIER_FILE), key="embedding_sha256")


#: Bump when describe() computes something different from the same model files.
_DESCRIBE_REVISION = "1"
#: Identifies what describe() returns (library caches are keyed by it).
MODEL_VERSION = _model_version()
#: Identifies the sound embeddings (the two networks and the statistics they are standardised with,
#: kept in the genre model file): what a listener's own genre model is trained on, so that a new
#: structure network leaves it usable.
EMBEDDING_VERSION = _embedding_version()
#: What own genre models trained before :data:`EMBEDDING_VERSION` existed carry, and the embedding version
#: it stands for: analyses 1.14 and 1.15 recorded their whole model version, whose manifest also named the
#: structure network.  (Models trained earlier, when the manifest held only the genre files, carry the
#: embedding version itself.)
LEGACY_EMBEDDING_VERSIONS = {"1-9ce2b463ff09": "1-667a30487645"}

_lock = threading.Lock()
_loaded: dict[Path, Models] = {}


def load_models(folder: str | os.PathLike | None = None, *, threads: int | None = None) -> Models:
    """The models of ``folder`` (default :func:`models_dir`), loaded and verified once per process.

    ``threads`` sets the ONNX sessions' intra-op threads if this call is the one that loads them
    (the library scan's worker processes ask for 1: each core already runs a worker).
    """
    folder = Path(folder) if folder is not None else models_dir()
    with _lock:
        models = _loaded.get(folder)
        if models is None:
            models = _loaded[folder] = Models(folder, threads=threads)
        return models


def verify_models(folder: str | os.PathLike | None = None) -> None:
    """Check every model file of ``folder`` (default :func:`models_dir`) against the manifest, loading nothing.

    Raises
    ------
    ExplorerError
        The manifest or a model file is missing or damaged.
    """
    folder = Path(folder) if folder is not None else models_dir()
    manifest = read_manifest(folder)
    for network in NETWORKS:
        read_verified(folder, f"{network}.onnx", manifest)
    path = folder / CLASSIFIER_FILE
    try:
        GenreModel.from_bytes(read_verified(folder, CLASSIFIER_FILE, manifest))
    except ValueError as e:
        raise ExplorerError(f"{path}: {e}", path=path) from None


def describe(buffer: AudioBuffer, *, cancel: CancelFn | None = None) -> TrackDescription:
    """Genre probabilities and sound embedding of a decoded song (see the module docstring).

    Any buffer gives a valid answer: silence, a fraction of a second, many channels, any rate.
    ``cancel`` (callable() -> bool) is polled between the networks' calls.

    Raises
    ------
    ExplorerError
        A model file is missing or damaged.
    Cancelled
        ``cancel`` returned True.
    """
    models = load_models()
    return models.describe_outputs(models.networks.analyse(buffer.mono(), sr=buffer.sr, cancel=cancel))
