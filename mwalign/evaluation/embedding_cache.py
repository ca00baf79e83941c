"""On-disk embedding cache shared by every task and every run that points at it.

A vector is stored under the hash of everything that changes it: the model
fingerprint (hash of its weights), the prompt/prefix, the maximum sequence
length, the autocast dtype and the text itself. Two tasks that share sentences
(Tatoeba's English sides, STS17's en-en and es-en) or a second evaluation of
the same model therefore never re-encode. SQLite gives atomic commits, so an
interrupted run leaves either whole rows or nothing; the file is opened by
:func:`mwalign.sqlite.connect` (WAL, so ``torchrun`` ranks share it; versioned
schema; retried open).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mwalign import sqlite

SCHEMA_VERSION = 2  # v2: the schema version moved to mwalign.sqlite's meta table
_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dim INTEGER, vector BLOB);"


class EmbeddingCacheError(sqlite.SQLiteError):
    """The embedding cache file is unreadable, corrupt or from another schema; the message names the file."""


@dataclass(frozen=True)
class EncodingContext:
    """Everything besides the text that determines an embedding."""

    fingerprint: str
    prompt: str
    max_seq_length: int
    dtype: str
    batching: str = ""  # how texts were batched, where not the default (bf16 results move with batch shapes)

    def key(self, text: str) -> bytes:
        parts = [self.fingerprint, self.prompt, str(self.max_seq_length), self.dtype, text]
        payload = "\x1f".join(parts + ([self.batching] if self.batching else []))
        return hashlib.sha256(payload.encode("utf-8")).digest()


class EmbeddingCache:
    """SQLite table ``key -> float32 vector``; counts hits and misses for the benchmarks."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = sqlite.connect(self.path, schema=_SCHEMA, version=SCHEMA_VERSION, what="embedding cache",
                                  fix="delete the file (it only saves encoding time)", error=EmbeddingCacheError)
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite caps bound parameters per statement
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, vector FROM vectors WHERE key IN ({marks})"
            for key, blob in self._db.execute(query, chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        self.hits += sum(1 for k in keys if k in found)
        self.misses += sum(1 for k in keys if k not in found)
        return found

    def put_many(self, keys: list[bytes], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(key, vectors.shape[1], vec.tobytes()) for key, vec in zip(keys, vectors, strict=True)]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    def close(self) -> None:
        self._db.close()
