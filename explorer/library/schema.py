"""The catalogue's file format: its tables, the constants its CHECKs name, and the migrations that bring an
older file up to date (``PRAGMA user_version`` is the schema version, ``PRAGMA application_id`` marks a file
as ours)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np

STATES = ("pending", "analysing", "analysed", "failed", "missing")
BACKUP_SCHEMA = "music-explorer/user-data/1"
#: ``PRAGMA application_id`` of our databases ("MXLB"): how a file is known to be ours.
APPLICATION_ID = 0x4D584C42
#: The tables every catalogue of ours has had since schema 1 (how a file of an older version, written
#: before the application id, is known).
OUR_TABLES = frozenset({"meta", "tracks", "events", "edits"})
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: What an entry of the listening history can be (the ``events`` table's CHECK).
EVENT_KINDS = ("like", "dislike", "unlike", "play", "skip", "partial")
#: History entries kept in the backup, newest first: as many as the taste profile reads
#: (:meth:`Library.taste_rows`), so recommendations "for you" come back as they were.
BACKUP_EVENTS = 5000
#: A listen counts as a play when at least this fraction was heard …
PLAY_FRACTION = 0.5
#: … and as a skip when less than this fraction was heard.
SKIP_FRACTION = 0.1

_SCHEMA_V1 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES('index_gen', 0);
CREATE TABLE tracks(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    artist TEXT NOT NULL DEFAULT '',
    album TEXT NOT NULL DEFAULT '',
    genre_tag TEXT NOT NULL DEFAULT '',
    year INTEGER,
    duration REAL,
    tempo REAL,
    genre_label TEXT,
    genre_json TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'analysing', 'analysed', 'failed', 'missing')),
    error TEXT,
    content_hash TEXT,
    size INTEGER,
    mtime REAL,
    rating INTEGER NOT NULL DEFAULT 0 CHECK (rating IN (-1, 0, 1)),
    rated_at REAL,
    chorus_start REAL,
    chorus_end REAL,
    play_count INTEGER NOT NULL DEFAULT 0,
    skip_count INTEGER NOT NULL DEFAULT 0,
    added_at REAL NOT NULL,
    analysed_at REAL,
    embedding BLOB
);
CREATE INDEX tracks_hash ON tracks(content_hash);
CREATE INDEX tracks_rated ON tracks(rating) WHERE rating != 0;
CREATE TABLE events(
    id INTEGER PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike', 'unlike', 'play', 'skip', 'partial')),
    at REAL NOT NULL,
    heard REAL,
    duration REAL
);
CREATE INDEX events_at ON events(at);
CREATE INDEX events_track ON events(track_id);
CREATE TABLE edits(
    content_hash TEXT PRIMARY KEY,
    sections TEXT NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TRIGGER tracks_ins AFTER INSERT ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER tracks_del AFTER DELETE ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER tracks_upd AFTER UPDATE OF path, title, artist, genre_tag, tempo, genre_label, genre_json, state,
    content_hash, embedding ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
"""

# v2: embeddings and genre vectors move to their own table, so that catalogue queries read small rows,
# and genre probabilities are also kept as float32 vectors, so that the recommendation index loads fast.
_SCHEMA_V2 = """
CREATE TABLE vectors(
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    embedding BLOB,
    genre_labels TEXT NOT NULL DEFAULT '[]',
    genre BLOB
);
INSERT INTO vectors(track_id, embedding) SELECT id, embedding FROM tracks WHERE embedding IS NOT NULL;
DROP TRIGGER tracks_upd;
ALTER TABLE tracks DROP COLUMN embedding;
CREATE TRIGGER tracks_upd AFTER UPDATE OF path, title, artist, genre_tag, tempo, genre_label, genre_json, state,
    content_hash ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER vectors_ins AFTER INSERT ON vectors
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER vectors_upd AFTER UPDATE ON vectors
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER vectors_del AFTER DELETE ON vectors
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
"""


def _genre_vectors_v2(conn: sqlite3.Connection) -> None:
    rows = conn.execute("SELECT id, genre_json FROM tracks WHERE genre_json != '{}'").fetchall()
    for tid, doc in rows:
        labels, vec = genre_vector(json.loads(doc))
        conn.execute(
            "INSERT INTO vectors(track_id, genre_labels, genre) VALUES (?, ?, ?) ON CONFLICT(track_id) "
            "DO UPDATE SET genre_labels = excluded.genre_labels, genre = excluded.genre",
            (tid, labels, vec),
        )


def genre_vector(probabilities: dict[str, float]) -> tuple[str, bytes]:
    """(JSON list of the sorted labels, float32 bytes of their probabilities)."""
    labels = sorted(probabilities)
    return json.dumps(labels), np.array([probabilities[k] for k in labels], np.float32).tobytes()


#: ``MIGRATIONS[v]`` brings a file of ``user_version == v`` to ``v + 1``: SQL statements, then an
#: optional Python step.
# v3: which analysis (and genre model) version produced a track's result or failure, so that a scan
# redoes exactly the tracks a new version changes.
_SCHEMA_V3 = "ALTER TABLE tracks ADD COLUMN analysis_version TEXT"

MIGRATIONS: tuple[tuple, ...] = ((_SCHEMA_V1, None), (_SCHEMA_V2, _genre_vectors_v2), (_SCHEMA_V3, None))
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "id, path, title, artist, album, genre_tag, year, duration, tempo, genre_label, genre_json, state, "
    "error, content_hash, size, mtime, rating, chorus_start, chorus_end, play_count, skip_count, "
    "analysis_version"
)
