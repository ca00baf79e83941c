"""SQLite translation cache: re-running or enlarging a corpus translates only what is new.

One row per translated sentence, keyed by sha256 of (backend, model id,
model version, src, tgt, text). Each batch is committed as soon as it is
translated, so an interrupted build resumes where it stopped; the primary key
makes a re-insert a no-op, so resuming never duplicates. The file is opened by
:func:`mwalign.sqlite.connect` (WAL, so several ``torchrun`` ranks write to one
cache while others read; versioned schema; retried open). That sharing needs one host: on a network
filesystem SQLite's locking and WAL are not safe (https://www.sqlite.org/wal.html), so across several
nodes each rank writes its own shard file (:func:`shard_path`) and rank 0 merges the shards into the
cache (:meth:`TranslationCache.merge_from`); see :mod:`mwalign.corpus.translate`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from mwalign import sqlite
from mwalign.corpus.backends.base import Translation

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,          -- sha256 of (backend, model_id, version, src, tgt, text)
    backend TEXT NOT NULL,
    model_id TEXT NOT NULL,
    version TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    translation TEXT NOT NULL,
    unknown INTEGER NOT NULL
);
"""


class CacheError(sqlite.SQLiteError):
    """The cache file is unreadable, corrupt or from another schema; the message names the file."""


_COLUMNS = "key, backend, model_id, version, src, tgt, translation, unknown"


def shard_path(path: str | Path, rank: int) -> Path:
    """The shard file of ``rank`` beside the cache ``path``: ``cache.sqlite`` -> ``cache.rank1.sqlite``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rank{rank}{path.suffix}")


def cache_key(backend: str, model_id: str, version: str, src: str, tgt: str, text: str) -> str:
    payload = json.dumps([backend, model_id, version, src, tgt, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class TranslationCache:
    """Open (or create) the cache at ``path``; use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite.connect(self.path, schema=_SCHEMA, version=SCHEMA_VERSION, what="translation cache",
                                  fix="use another corpus.cache_path or delete the file", error=CacheError)

    def get_many(self, keys: Iterable[str]) -> dict[str, Translation]:
        """Cached translations for the keys that are present."""
        found: dict[str, Translation] = {}
        keys = list(keys)
        for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 900]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, translation, unknown FROM translations WHERE key IN ({marks})"
            try:
                for key, text, unknown in self._db.execute(query, chunk):
                    found[key] = Translation(text, unknown)
            except sqlite3.DatabaseError as err:
                raise CacheError(f"{self.path}: cannot read the translation cache ({err}); delete it to rebuild") from None
        return found

    def put_many(self, rows: Iterable[tuple[str, str, str, str, str, str, Translation]]) -> int:
        """Store ``(key, backend, model_id, version, src, tgt, translation)`` rows in one transaction."""
        values = [(k, b, m, v, s, t, tr.text, tr.unknown) for k, b, m, v, s, t, tr in rows if tr.text is not None]
        try:
            with self._db:
                self._db.executemany("INSERT OR IGNORE INTO translations VALUES (?,?,?,?,?,?,?,?)", values)
        except sqlite3.DatabaseError as err:
            raise CacheError(f"{self.path}: cannot write the translation cache ({err})") from None
        return len(values)

    def merge_from(self, paths: Iterable[str | Path]) -> int:
        """Copy the translations of the shard files ``paths`` (missing ones skipped) into this cache, one
        transaction per shard; a key already present is kept. Returns the rows added."""
        before = self.count()
        for path in paths:
            if not Path(path).is_file():
                continue
            with TranslationCache(path) as shard:
                rows = shard._db.execute(f"SELECT {_COLUMNS} FROM translations").fetchall()
            try:
                with self._db:
                    self._db.executemany("INSERT OR IGNORE INTO translations VALUES (?,?,?,?,?,?,?,?)", rows)
            except sqlite3.DatabaseError as err:
                raise CacheError(f"{self.path}: cannot merge the shard {path} ({err})") from None
        return self.count() - before

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "TranslationCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
