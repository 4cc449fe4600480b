"""Rank the library's tracks for a seed song: by genre, by sound, by the listener's taste, or all three.

Modes (every score is computed for every analysed track at once, then the best are picked):

Every score is a weighted mean of similarities in [0, 1] (see :class:`_Scorer`), so it is in
[0, 1] and means the same in every mode:

- ``genre``: Bhattacharyya coefficient of the genre-probability vectors (1 = same distribution);
  when the seed has a genre tag, ``(1 - TAG_WEIGHT) * that + TAG_WEIGHT * (same tag)``; a little of
  the ``sound`` similarity (``GENRE_TIE_BREAK``, the weights then renormalised) orders tracks of
  equal genre.
- ``sound``: ``(1 + cosine) / 2`` of the standardised embeddings (:mod:`explorer.recommend.index`).
- ``personal``: the ``sound`` score moved by the taste with weight ``1 - PERSONAL_SEED_WEIGHT``;
  taste ``t`` in [-1, 1] (:mod:`explorer.recommend.taste`) is the recency-weighted mean similarity to
  the *other* liked (+), disliked (−), played (+) and skipped (−) tracks, above what a typical track
  resembles them; similarity there is the mean of the sound and genre similarities.  A score ``s``
  moves a share ``weight * t`` of the way to 1 (``t > 0``) or to 0, so a song the taste says nothing
  about keeps its score, and a liked song does not rank itself up: it rises with the songs like it.
- ``blend``: 0.45 sound + 0.30 genre (``BLEND_WEIGHTS``, renormalised), moved by the taste with
  weight 0.25.

The taste weighs fully from ``TASTE_EVIDENCE`` (three likes' worth) on, in proportion before.

Reasons name only what lifts a row above a typical candidate (``EXPLAIN_SHARE``), or the taste that
holds it back; a row that nothing lifts has none.

Never recommended: the seed, tracks with the seed's content (duplicates), tracks whose file is
missing or not analysed, and — in ``personal`` and ``blend`` — tracks the listener disliked.
At most ``MAX_PER_ARTIST`` tracks by one artist per 10 results, unless no other artist is left.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from explorer.analysis.types import Analysis
from explorer.errors import LibraryError
from explorer.library.store import Library, Track
from explorer.recommend.index import Index, get_index, normalise_name
from explorer.recommend.taste import Taste, build_taste

MODES = ("genre", "sound", "personal", "blend")
#: Analyses a seed file that is not an analysed track of the library: path -> Analysis.
AnalyzeFn = Callable[[str], Analysis]
BLEND_WEIGHTS = {"sound": 0.45, "genre": 0.30, "taste": 0.25}
PERSONAL_SEED_WEIGHT = 0.3
TAG_WEIGHT = 0.2
GENRE_TIE_BREAK = 0.05
MAX_PER_ARTIST = 2
#: The taste profile weighs fully (``PERSONAL_SEED_WEIGHT``, ``BLEND_WEIGHTS``) from this much evidence on
#: (the sum of its absolute weights: a like is 1, a play 0.3); less in proportion before.
TASTE_EVIDENCE = 3.0
#: Similarity at or above which a reason mentions it …
REASON_SIMILARITY = 0.3
#: … and for a disliked or skipped song, which is mentioned only when it weighs more than the liked ones.
NEGATIVE_REASON_SIMILARITY = 0.5
#: A similarity is named as a reason when it lifts a track above a typical candidate by at least this
#: share of what the similarity that lifts it most does.
EXPLAIN_SHARE = 0.25
#: … and by at least this much of the score (0.05: five points of its percentage) in any case.
MIN_LIFT = 0.05
#: Relative tempo difference under which two tempi count as similar.
TEMPO_TOLERANCE = 0.06


@dataclass(frozen=True, eq=False)
class Recommendation:
    track: Track
    score: float
    reasons: list[str]


@dataclass(frozen=True, eq=False)
class Seed:
    path: str
    track: Track | None
    content_hash: str | None
    sound: np.ndarray | None  #: (d,) comparable with the index's ``sound`` rows
    genre: np.ndarray | None  #: (g,) sqrt-probabilities, or None without genre information
    label: str | None
    tag: str
    tempo: float | None
    row: int | None  #: its row in the index, if it is in there


def resolve_seed(library: Library, index: Index, seed, *, analyze: AnalyzeFn | None = None) -> Seed:
    """The seed's vectors: from the index when it is an analysed track, else from ``analyze(path)``
    (by default the analysis cache alone: ranking never analyses a song itself).

    ``seed=None`` is no seed at all (recommendations from the listener's taste alone).

    Raises
    ------
    LibraryError
        The seed is a file that is not analysed and no ``analyze`` was given.
    """
    if seed is None:
        return Seed("", None, None, None, None, None, "", None, None)
    track = seed if isinstance(seed, Track) else None
    if track is None and (
        isinstance(seed, int) or (isinstance(seed, str) and seed.isdigit() and not os.path.exists(seed))
    ):
        track = library.resolve(seed)
    elif track is None:
        track = library.track_by_path(seed)
    path = track.path if track is not None else os.fspath(seed)
    row = index.row_of(track.id) if track is not None else None
    if track is not None and row is not None:
        return Seed(
            path,
            track,
            track.content_hash,
            index.sound[row],
            index.genre[row] if index.labels else None,
            track.genre_label,
            normalise_name(track.genre_tag),
            track.tempo,
            row,
        )
    analysis = library.analysis(track.id) if track is not None else None
    h: str | None
    if analysis is None:
        from explorer.library.cache import content_hash

        analysis = (analyze or _cached_analysis)(path)
        h = content_hash(path)
    else:
        h = track.content_hash if track is not None else None
    probs = analysis.genre.probabilities
    tag = normalise_name(track.genre_tag) if track is not None else ""
    if track is None:
        from explorer.library.store import read_tags

        tag = normalise_name(read_tags(path).get("genre_tag"))
    return Seed(
        path,
        track,
        h,
        index.sound_vector(analysis.embedding),
        index.genre_vector(probs) if index.labels and probs else None,
        analysis.genre.label,
        tag,
        analysis.tempo,
        None,
    )


def _diverse_top(order: np.ndarray, artists: list[str], k: int) -> list[int]:
    cap = MAX_PER_ARTIST * max(1, math.ceil(k / 10))
    chosen: list[int] = []
    held: list[int] = []
    per: dict[str, int] = {}
    for i in order:
        a = artists[i]
        if a and per.get(a, 0) >= cap:
            held.append(int(i))
            continue
        per[a] = per.get(a, 0) + 1
        chosen.append(int(i))
        if len(chosen) == k:
            return chosen
    return chosen + held[: k - len(chosen)]  # the library has no other artists left


class _Scorer:
    """One query's scores, and the reasons they give for any track.

    A score is the weighted mean of the seed's similarities, each on the same scale [0, 1]
    (0: opposite, 1: the same), moved by the taste (:meth:`scores`), so that it means the same in
    every mode:

    - ``sound``: ``(1 + cosine) / 2`` of the standardised embeddings;
    - ``genre``: the Bhattacharyya coefficient of the genre probabilities (and the same-tag term);
    - ``taste``: ``(1 + t) / 2`` where ``t`` in [-1, 1] is the weighted mean similarity to the
      *other* tracks of the taste profile (a liked song does not rank itself up: it rises when it
      is like other songs the listener liked), counted above what a typical track of the library
      resembles them (0.5 when nothing speaks for or against it).

    With no seed ("for you"), the score is the taste similarity itself, at full weight: there is nothing
    else to rank by, and a score damped towards 0.5 by the listener's few ratings would rank the same
    but show every song at about 50 %.

    Each similarity is one matrix-vector product over the index.  Per-track terms for reasons are
    computed only for the tracks that are shown.
    """

    def __init__(self, library: Library, index: Index, seed: Seed, taste: Taste):
        self.library, self.index, self.seed, self.taste = library, index, seed, taste
        d, g = index.sound.shape[1], index.genre.shape[1]
        self.q_sound = seed.sound if seed.sound is not None else np.zeros(d, np.float32)
        self.q_genre = seed.genre if seed.genre is not None and g else None
        self.tag = (index.tags == seed.tag) if seed.tag else None
        self.taste_split = 0.5 if g else 1.0  # taste similarity: mean of sound and genre similarity
        # no song to start from ("for you"): the taste is all there is to rank by
        self.seedless = seed.row is None and seed.sound is None and seed.genre is None and not seed.tag
        self._parts: dict[str, np.ndarray] = {}
        self._typical: dict[str, float] = {}
        self._taste_delta = np.zeros(len(index), np.float32)

    def _has_genre(self) -> bool:
        return self.q_genre is not None or self.tag is not None

    def confidence(self) -> float:
        """How much the taste profile weighs, 0–1: it grows with what the listener told us
        (:data:`TASTE_EVIDENCE` likes' worth count fully), so that one like or one dislike moves
        the list a little, not every score at once."""
        if not self.taste:
            return 0.0
        return float(min(1.0, np.abs(self.taste.weights).sum() / TASTE_EVIDENCE))

    def weights(self, mode: str) -> tuple[dict[str, float], float]:
        """``mode``'s weights of the seed's similarities (summing to 1; absent ones left out), and
        how strongly the listener's taste moves the score (0–1)."""
        if self.seedless:
            return {}, 1.0
        if mode == "sound":
            w = {"sound": 1.0}
        elif mode == "genre":
            w = {"sound": GENRE_TIE_BREAK, "genre": 1.0} if self._has_genre() else {"sound": 1.0}
        elif mode == "personal":
            w = {"sound": 1.0}
        else:
            w = {"sound": BLEND_WEIGHTS["sound"]}
            if self._has_genre():
                w["genre"] = BLEND_WEIGHTS["genre"]
        taste = {"personal": 1 - PERSONAL_SEED_WEIGHT, "blend": BLEND_WEIGHTS["taste"]}.get(mode, 0.0)
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}, taste * self.confidence()

    # -- the similarities of every track, shape (n,), in [0, 1] -------------------------------------------
    def part(self, name: str) -> np.ndarray:
        if name not in self._parts:
            self._parts[name] = getattr(self, f"_{name}_all")()
        return self._parts[name]

    def _sound_all(self) -> np.ndarray:
        return np.clip((1.0 + self.index.sound @ self.q_sound.astype(np.float32)) / 2, 0.0, 1.0)

    def _genre_all(self) -> np.ndarray:
        idx = self.index
        tag_share = (
            TAG_WEIGHT if (self.tag is not None and self.q_genre is not None) else 1.0 if self.tag is not None else 0.0
        )
        out = np.zeros(len(idx), np.float32)
        if self.q_genre is not None:
            out += (1 - tag_share) * (idx.genre @ self.q_genre)
        if tag_share and self.tag is not None:
            out += tag_share * self.tag
        return np.clip(out, 0.0, 1.0)

    def _taste_all(self) -> np.ndarray:
        idx, prof = self.index, self.taste
        w = prof.weights.astype(np.float64)
        split = self.taste_split
        raw = split * (idx.sound @ (w @ idx.sound[prof.rows]))
        if idx.genre.shape[1]:
            raw = raw + (1 - split) * (idx.genre @ (w @ idx.genre[prof.rows]))
        total = np.full(len(idx), np.abs(w).sum())
        # leave each track's own entry out: its similarity to itself says nothing about the listener
        own = split * np.einsum("ij,ij->i", idx.sound[prof.rows], idx.sound[prof.rows])
        if idx.genre.shape[1]:
            own = own + (1 - split) * np.einsum("ij,ij->i", idx.genre[prof.rows], idx.genre[prof.rows])
        raw[prof.rows] -= w * own
        total[prof.rows] -= np.abs(w)
        # … and count only what a track resembles them *more than a typical track does*: songs of one
        # genre resemble each other somewhat, and a dislike must not pull every one of them down
        typical = split * (idx.sound[prof.rows] @ idx.sound.mean(axis=0))
        if idx.genre.shape[1]:
            typical = typical + (1 - split) * (idx.genre[prof.rows] @ idx.genre.mean(axis=0))
        raw -= float(w @ typical)
        raw[prof.rows] += w * typical
        t = np.divide(raw, total, out=np.zeros(len(idx)), where=total > 1e-9)
        return np.clip((1.0 + t) / 2, 0.0, 1.0).astype(np.float32)

    def scores(self, mode: str) -> np.ndarray:
        """Shape (n,) float32 in [0, 1]: the score of every track of the index.

        The weighted mean of the seed's similarities, moved by the taste ``t`` in [-1, 1] a share
        ``weight * |t|`` of the way to 1 (``t > 0``) or to 0: a track the taste says nothing about keeps
        its score, so one like or dislike does not move every score.
        """
        if self.seedless:  # the taste similarity itself: 0.5 where the taste says nothing
            self._taste_delta = self.part("taste").astype(np.float32)
            return self._taste_delta.copy()
        weights, taste = self.weights(mode)
        base = np.zeros(len(self.index), np.float32)
        for name, w in weights.items():
            base += np.float32(w) * self.part(name)
        self._taste_delta = np.zeros_like(base)
        if taste > 0:
            t = taste * (2 * self.part("taste") - 1)
            self._taste_delta = np.where(t >= 0, t * (1 - base), t * base).astype(np.float32)
        return base + self._taste_delta

    def set_candidates(self, ok: np.ndarray) -> None:
        """The tracks that could be recommended (a bool mask): what a typical one scores, per similarity."""
        self._typical = {name: float(np.median(v[ok])) if ok.any() else 0.0 for name, v in self._parts.items()}
        self._typical["taste"] = float(np.median(self._taste_delta[ok])) if ok.any() else 0.0

    def explaining(self, mode: str, i: int) -> tuple[set[str], set[str]]:
        """The similarities that lift track ``i`` above a typical candidate (a large enough part of what
        lifts it most), and those that hold it below."""
        weights, taste = self.weights(mode)
        lift = {k: w * (float(self.part(k)[i]) - self._typical[k]) for k, w in weights.items()}
        if taste > 0:
            lift["taste"] = float(self._taste_delta[i]) - self._typical["taste"]
        top = max([v for v in lift.values() if v > 0], default=0.0)
        up = {k for k, v in lift.items() if v >= MIN_LIFT and v >= EXPLAIN_SHARE * top}
        down = {k for k, v in lift.items() if v <= -MIN_LIFT}
        return up, down

    # -- per-track terms ------------------------------------------------------------------------
    def sound_sim(self, i: int) -> float:
        return float(self.index.sound[i] @ self.q_sound)

    def bc(self, i: int) -> float | None:
        return None if self.q_genre is None else float(self.index.genre[i] @ self.q_genre)

    def taste_sims(self, i: int) -> np.ndarray | None:
        """Similarity of track ``i`` to each track of the taste profile, shape (m,)."""
        if not self.taste:
            return None
        idx, rows = self.index, self.taste.rows
        sim = self.taste_split * (idx.sound[rows] @ idx.sound[i])
        if idx.genre.shape[1]:
            sim = sim + (1 - self.taste_split) * (idx.genre[rows] @ idx.genre[i])
        return sim

    # -- reasons -------------------------------------------------------------------------------
    def genre_reasons(self, i: int) -> list[str]:
        out = []
        idx = self.index
        bc = self.bc(i)
        if bc is not None:
            p = idx.genre[i] ** 2
            top = idx.labels[int(np.argmax(p))]
            share = p[int(np.argmax(p))]  # shown in percent, as the genre chart shows it
            if self.seed.label and top == self.seed.label:
                out.append(f"same genre: {top} {share:.0%}")
            elif bc >= 0.5:
                out.append(f"similar genre mix ({bc:.0%}): mostly {top} {share:.0%}")
        if self.tag is not None and self.tag[i]:
            out.append(f"same genre tag: {self.seed.tag}")
        return out

    def sound_reasons(self, i: int) -> list[str]:
        s = self.sound_sim(i)
        t_seed, t = self.seed.tempo, self.index.tempo[i]
        close = bool(t_seed and np.isfinite(t) and abs(t - t_seed) <= TEMPO_TOLERANCE * t_seed)
        if s >= 0.5 and close:
            return ["similar timbre and tempo"]
        out = []
        if s >= REASON_SIMILARITY:
            out.append(f"similar sound ({self.part('sound')[i]:.0%})")
        if close:
            out.append(f"similar tempo ({t:.0f} BPM)")
        return out

    def _name(self, row: int) -> str | None:
        other = self.library.track(int(self.index.ids[row]))
        return other.display_name if other is not None else None

    def taste_reasons(self, i: int, *, up: bool, down: bool) -> list[str]:
        """What of the listener's taste lifts track ``i`` (``up``) or holds it back (``down``)."""
        sims = self.taste_sims(i)
        if sims is None:
            return []
        prof = self.taste
        contrib = sims * prof.weights
        contrib[prof.rows == i] = 0.0  # its own rating or listens do not rank it (see _taste_all)
        out = []
        j = int(np.argmax(contrib))
        if up and contrib[j] > 0 and sims[j] >= REASON_SIMILARITY:
            name = self._name(prof.rows[j]) or "a song"
            out.append(
                f"you liked {name}"
                if prof.kinds[j] == "like"
                else f"you played {name}"
                if prof.kinds[j] == "play"
                else f"close to {name}"
            )
        j_neg = int(np.argmin(contrib))
        if down and contrib[j_neg] < 0 and sims[j_neg] >= NEGATIVE_REASON_SIMILARITY:
            if prof.kinds[j_neg] == "skip":
                out.append("you skip songs like this")
            else:
                disliked = self._name(prof.rows[j_neg])
                out.append(
                    f"a little like {disliked}, which you disliked" if disliked else "a little like songs you disliked"
                )
        return out

    def reasons(self, mode: str, i: int) -> list[str]:
        """Why track ``i`` stands where it does: only the similarities that lift it above a typical
        candidate (and the taste that holds it back); none when nothing stands out."""
        up, down = self.explaining(mode, i)
        out = []
        if "genre" in up:
            out += self.genre_reasons(i)
        if "sound" in up:
            out += self.sound_reasons(i)
        if "taste" in up or "taste" in down:
            out += self.taste_reasons(i, up="taste" in up, down="taste" in down)
        return out


def _cached_analysis(path: str) -> Analysis:
    """The analysis cache's entry for the file at ``path``; LibraryError when there is none."""
    from explorer.audio.decode import check_file
    from explorer.library.cache import default_cache

    hit = default_cache().lookup_file(check_file(path))
    if hit is None:
        raise LibraryError(f"{path}: not analysed yet (open it in the window, or scan its folder)")
    return hit


def recommend(
    library: Library, seed, *, k: int = 10, mode: str = "blend", analyze: AnalyzeFn | None = None
) -> list[Recommendation]:
    """The ``k`` best other tracks of ``library`` for ``seed``, each with its reasons.

    Parameters
    ----------
    library : Library
    seed : int, str, Track or None
        A track id, a path (in the library or not: a file outside it is analysed through the cache), or a
        Track.  None: "for you" — ranked by the listener's taste alone (``personal`` and ``blend``; empty
        until something was liked, disliked, played or skipped).
    k : int
    mode : {'genre', 'sound', 'personal', 'blend'}
    analyze : callable(path) -> Analysis, or None
        Analyses a seed that is not an analysed track of the library (the caller's choice of service,
        e.g. :func:`explorer.services.analyze.analyze_path` through the cache); None: the analysis
        cache alone.

    Raises
    ------
    LibraryError
        Unknown mode or track id.
    """
    if mode not in MODES:
        raise LibraryError(f"unknown recommendation mode {mode!r} (choose from {', '.join(MODES)})")
    index = get_index(library)
    if len(index) == 0 or k <= 0:
        return []
    s = resolve_seed(library, index, seed, analyze=analyze)
    taste = build_taste(library, index) if mode in ("personal", "blend") else None
    if seed is None and not taste:
        return []
    scorer = _Scorer(
        library, index, s, taste if taste is not None else Taste(np.zeros(0, np.int64), np.zeros(0), (), {})
    )
    score = scorer.scores(mode)
    bad = _the_seed(index, s) | _disliked(index, taste)
    score[bad] = -np.inf
    n_ok = int((~bad).sum())
    if n_ok == 0:
        return []
    scorer.set_candidates(~bad)
    m = min(n_ok, max(20 * k, 200))
    top = np.argpartition(-score, m - 1)[:m] if m < len(score) else np.arange(len(score))
    top = top[np.argsort(-score[top], kind="stable")]
    top = top[np.isfinite(score[top])]
    picked = _diverse_top(top, index.artists, k)
    if len(picked) < k and m < n_ok:  # the artist cap ate the window: look at everything
        order = np.argsort(-score, kind="stable")
        picked = _diverse_top(order[np.isfinite(score[order])], index.artists, k)
    out = []
    for i in picked:
        track = library.track(int(index.ids[i]))
        if track is not None:
            out.append(Recommendation(track, round(float(score[i]), 4), scorer.reasons(mode, i)))
    return out


#: Why :func:`recommend` found nothing (:func:`why_nothing`): no analysed song at all, none but the seed
#: and its copies, nothing to go on for "for you" without a seed, every other song disliked.
NO_SONGS, NO_OTHER_SONGS, NO_TASTE, ALL_DISLIKED = "no songs", "no other songs", "no taste", "all disliked"


def why_nothing(library: Library, seed, *, mode: str = "blend", analyze: AnalyzeFn | None = None) -> str:
    """Why :func:`recommend` has no track for ``seed`` in ``mode`` (its arguments): :data:`NO_SONGS`,
    :data:`NO_OTHER_SONGS`, :data:`NO_TASTE` or :data:`ALL_DISLIKED`; ``""`` when it has some."""
    index = get_index(library)
    if len(index) == 0:
        return NO_SONGS
    s = resolve_seed(library, index, seed, analyze=analyze)
    taste = build_taste(library, index) if mode in ("personal", "blend") else None
    if seed is None and not taste:
        return NO_TASTE
    seed_rows = _the_seed(index, s)
    if seed_rows.all():
        return NO_OTHER_SONGS
    if (seed_rows | _disliked(index, taste)).all():
        return ALL_DISLIKED
    return ""


def _the_seed(index: Index, s: Seed) -> np.ndarray:
    """Rows of the seed and of the tracks with its content (copies) [shape=(len(index),), bool]."""
    rows = np.zeros(len(index), bool)
    if s.row is not None:
        rows[s.row] = True
    if s.content_hash:
        rows[index.hashes.get(s.content_hash, [])] = True
    return rows


def _disliked(index: Index, taste: Taste | None) -> np.ndarray:
    """Rows of the tracks the listener disliked, when ``taste`` is given [shape=(len(index),), bool]."""
    rows = np.zeros(len(index), bool)
    if taste is not None and taste.ratings:
        disliked = [index.row_of(t) for t, r in taste.ratings.items() if r < 0]
        rows[[r for r in disliked if r is not None]] = True
    return rows
