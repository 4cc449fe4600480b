"""Rank the library's tracks for a seed song: by genre, by sound, by the listener's taste, or all three.

Modes (every score is computed for every analysed track at once, then the best are picked):

- ``genre``: Bhattacharyya coefficient of the genre-probability vectors (1 = same distribution);
  when the seed has a genre tag, ``(1 - TAG_WEIGHT) * that + TAG_WEIGHT * (same tag)``; a little of
  the ``sound`` score (``GENRE_TIE_BREAK``) orders tracks of equal genre.
- ``sound``: cosine similarity of the standardised embeddings (:mod:`explorer.recommend.index`).
- ``personal``: ``PERSONAL_SEED_WEIGHT * sound + (1 - PERSONAL_SEED_WEIGHT) * taste`` where taste
  (:mod:`explorer.recommend.taste`) is the recency-weighted mean similarity to liked (+), disliked (−),
  played (+) and skipped (−) tracks; similarity there is the mean of the sound and genre similarities
  (so a liked song itself, similar to itself, rises at once: "you liked it").
- ``blend``: ``BLEND_WEIGHTS`` = 0.45 sound + 0.30 genre + 0.25 taste (without any taste yet:
  the sound and genre weights, renormalised).

Never recommended: the seed, tracks with the seed's content (duplicates), tracks whose file is
missing or not analysed, and — in ``personal`` and ``blend`` — tracks the listener disliked.
At most ``MAX_PER_ARTIST`` tracks by one artist per 10 results, unless no other artist is left.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from explorer.errors import LibraryError
from explorer.library.store import Library, Track
from explorer.recommend.index import Index, get_index, normalise_name
from explorer.recommend.taste import Taste, build_taste

MODES = ("genre", "sound", "personal", "blend")
BLEND_WEIGHTS = {"sound": 0.45, "genre": 0.30, "taste": 0.25}
PERSONAL_SEED_WEIGHT = 0.3
TAG_WEIGHT = 0.2
GENRE_TIE_BREAK = 0.05
MAX_PER_ARTIST = 2
#: Similarity at or above which a reason mentions it …
REASON_SIMILARITY = 0.3
#: … and for a disliked or skipped song, which is mentioned only when it weighs more than the liked ones.
NEGATIVE_REASON_SIMILARITY = 0.5
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


def resolve_seed(library: Library, index: Index, seed, *, cache=None) -> Seed:
    """The seed's vectors: from the index when it is an analysed track, else analysed (through the cache).

    ``seed=None`` is no seed at all (recommendations from the listener's taste alone).
    """
    if seed is None:
        return Seed("", None, None, None, None, None, "", None, None)
    track = seed if isinstance(seed, Track) else None
    if track is None and (isinstance(seed, int) or (isinstance(seed, str) and seed.isdigit()
                                                     and not os.path.exists(seed))):
        track = library.resolve(seed)
    elif track is None:
        track = library.track_by_path(seed)
    path = track.path if track is not None else os.fspath(seed)
    row = index.row_of(track.id) if track is not None else None
    if row is not None:
        return Seed(path, track, track.content_hash, index.sound[row], index.genre[row] if index.labels else None,
                    track.genre_label, normalise_name(track.genre_tag), track.tempo, row)
    analysis = library.analysis(track.id) if track is not None else None
    if analysis is None:
        from explorer.library.analyze import analyze_path
        from explorer.library.cache import content_hash, default_cache

        analysis = analyze_path(path, cache=cache or default_cache())
        h = content_hash(path)
    else:
        h = track.content_hash
    probs = analysis.genre.probabilities
    tag = normalise_name(track.genre_tag) if track is not None else ""
    if track is None:
        from explorer.library.store import read_tags

        tag = normalise_name(read_tags(path).get("genre_tag"))
    return Seed(path, track, h, index.sound_vector(analysis.embedding),
                index.genre_vector(probs) if index.labels and probs else None, analysis.genre.label, tag,
                analysis.tempo, None)


def _diverse_top(order: np.ndarray, artists: list[str], k: int) -> list[int]:
    cap = MAX_PER_ARTIST * max(1, math.ceil(k / 10))
    chosen, held, per = [], [], {}
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

    Every score is linear in the rows of the index's two matrices, so each mode folds its seed and
    taste terms into one query vector per matrix: a query is one (n, d) and one (n, g)
    matrix-vector product whatever the mode.  Per-track terms for reasons are computed only for the
    tracks that are shown.
    """

    def __init__(self, library: Library, index: Index, seed: Seed, taste: Taste):
        self.library, self.index, self.seed, self.taste = library, index, seed, taste
        d, g = index.sound.shape[1], index.genre.shape[1]
        self.q_sound = seed.sound if seed.sound is not None else np.zeros(d, np.float32)
        self.q_genre = seed.genre if seed.genre is not None and g else None
        self.tag = (index.tags == seed.tag) if seed.tag else None
        if taste:
            w = taste.weights / np.abs(taste.weights).sum()
            self.taste_split = 0.5 if g else 1.0  # taste similarity: mean of sound and genre similarity
            self.u_sound = (self.taste_split * w) @ index.sound[taste.rows]
            self.u_genre = ((1 - self.taste_split) * w) @ index.genre[taste.rows] if g else None
        else:
            self.u_sound = self.u_genre = None

    def _has_genre(self) -> bool:
        return self.q_genre is not None or self.tag is not None

    def scores(self, mode: str) -> np.ndarray:
        """Shape (n,) float32: the score of every track of the index."""
        idx = self.index
        zs = np.zeros_like(self.q_sound)
        zg = np.zeros(idx.genre.shape[1], np.float32)
        # weights of: seed sound, seed genre (probabilities and tag together), taste
        if mode == "sound":
            ws, wg, wt = 1.0, 0.0, 0.0
        elif mode == "genre":
            ws, wg, wt = (GENRE_TIE_BREAK, 1.0, 0.0) if self._has_genre() else (1.0, 0.0, 0.0)
        elif mode == "personal":
            ws, wg, wt = (PERSONAL_SEED_WEIGHT, 0.0, 1 - PERSONAL_SEED_WEIGHT) if self.taste else (1.0, 0.0, 0.0)
        else:
            b = BLEND_WEIGHTS
            ws, wg, wt = b["sound"], b["genre"] if self._has_genre() else 0.0, b["taste"] if self.taste else 0.0
            total = ws + wg + wt
            ws, wg, wt = ws / total, wg / total, wt / total
        tag_share = TAG_WEIGHT if (self.tag is not None and self.q_genre is not None) else \
            1.0 if self.tag is not None else 0.0
        q_s = ws * self.q_sound + (wt * self.u_sound if wt else zs)
        q_g = zg.copy()
        if wg and self.q_genre is not None:
            q_g += wg * (1 - tag_share) * self.q_genre
        if wt and self.u_genre is not None:
            q_g += wt * self.u_genre
        out = idx.sound @ q_s.astype(np.float32)
        if q_g.any():
            out += idx.genre @ q_g
        if wg and tag_share:
            out += (wg * tag_share) * self.tag
        return out

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
        if self.u_genre is not None:
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
            if self.seed.label and top == self.seed.label:
                out.append(f"same genre: {top} {p[int(np.argmax(p))]:.2f}")
            elif bc >= 0.5:
                out.append(f"similar genre mix ({bc:.2f}): mostly {top} {p[int(np.argmax(p))]:.2f}")
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
            out.append(f"similar sound ({s:.2f})")
        if close:
            out.append(f"similar tempo ({t:.0f} BPM)")
        return out

    def taste_reasons(self, i: int) -> list[str]:
        sims = self.taste_sims(i)
        if sims is None:
            return []
        prof = self.taste
        own = prof.rows == i
        contrib = sims * prof.weights
        out = []
        if own.any():
            k = int(np.argmax(own))
            out.append({"like": "you liked it", "dislike": "you disliked it", "play": "you played it to the end",
                        "skip": "you skipped it"}[prof.kinds[k]])
            contrib[own] = 0.0  # the other reasons are about other songs
        j = int(np.argmax(contrib))
        if contrib[j] > 0 and sims[j] >= REASON_SIMILARITY:
            other = self.library.track(int(self.index.ids[prof.rows[j]]))
            name = other.display_name if other is not None else "a song"
            out.append(f"you liked {name}" if prof.kinds[j] == "like" else
                       f"you played {name}" if prof.kinds[j] == "play" else f"close to {name}")
        j_neg = int(np.argmin(contrib))
        if contrib[j_neg] < -max(0.0, contrib[j]) and sims[j_neg] >= NEGATIVE_REASON_SIMILARITY:
            if prof.kinds[j_neg] == "skip":
                out.append("you skip songs like this")
            else:
                other = self.library.track(int(self.index.ids[prof.rows[j_neg]]))
                out.append(f"a little like {other.display_name}, which you disliked" if other else
                           "a little like songs you disliked")
        return out

    def reasons(self, mode: str, i: int, score: float) -> list[str]:
        if mode == "genre":
            out = self.genre_reasons(i) or self.sound_reasons(i)
        elif mode == "sound":
            out = self.sound_reasons(i)
        elif mode == "personal":
            out = self.taste_reasons(i) + self.sound_reasons(i)
        else:
            out = self.genre_reasons(i) + self.sound_reasons(i) + self.taste_reasons(i)
        return out or [f"closest by {mode} ({score:.2f})"]


def recommend(library: Library, seed, *, k: int = 10, mode: str = "blend", cache=None) -> list[Recommendation]:
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
    cache : AnalysisCache or None
        Used for a seed that is not an analysed track of the library.

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
    s = resolve_seed(library, index, seed, cache=cache)
    taste = build_taste(library, index) if mode in ("personal", "blend") else None
    if seed is None and not taste:
        return []
    scorer = _Scorer(library, index, s, taste if taste is not None else Taste(np.zeros(0, np.int64), np.zeros(0),
                                                                              (), {}))
    score = scorer.scores(mode)
    bad = np.zeros(len(index), bool)
    if s.row is not None:
        bad[s.row] = True
    if s.content_hash:
        bad[index.hashes.get(s.content_hash, [])] = True
    if taste is not None and taste.ratings:
        disliked = [index.row_of(t) for t, r in taste.ratings.items() if r < 0]
        bad[[r for r in disliked if r is not None]] = True
    score[bad] = -np.inf
    n_ok = int((~bad).sum())
    if n_ok == 0:
        return []
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
            out.append(Recommendation(track, round(float(score[i]), 4), scorer.reasons(mode, i, float(score[i]))))
    return out
