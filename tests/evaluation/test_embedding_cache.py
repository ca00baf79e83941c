"""The embedding cache opens like the translation cache: WAL, versioned, safe when ranks open it together."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from mwalign.evaluation.embedding_cache import SCHEMA_VERSION, EmbeddingCache, EmbeddingCacheError


def test_ranks_opening_a_new_embedding_cache_together_all_succeed(tmp_path):
    # Given four ranks that open the same brand-new cache file at the same instant, 40 times over
    errors: list[str] = []
    for trial in range(40):
        path = tmp_path / f"new-{trial}.sqlite"
        barrier = threading.Barrier(4)

        def rank(path=path, barrier=barrier, r=0) -> None:
            barrier.wait()
            try:
                cache = EmbeddingCache(path)
                cache.put_many([bytes([r])], np.ones((1, 3), dtype=np.float32))
                cache.close()
            except (EmbeddingCacheError, sqlite3.Error) as err:
                errors.append(str(err))

        threads = [threading.Thread(target=rank, kwargs={"r": r}) for r in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # Then every open and write succeeded, and each file is in WAL mode with every rank's row
    assert not errors, f"{len(errors)} opens failed, e.g. {errors[0]}"
    db = sqlite3.connect(tmp_path / "new-0.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "WAL lets ranks read while one writes"
    assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 4


def test_embedding_cache_of_another_schema_is_refused_in_one_line(tmp_path):
    # Given an embedding cache stamped by another schema version
    EmbeddingCache(tmp_path / "e.sqlite").close()
    db = sqlite3.connect(tmp_path / "e.sqlite")
    with db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    # When it is opened, Then one line names the file, both versions and the fix
    with pytest.raises(EmbeddingCacheError) as info:
        EmbeddingCache(tmp_path / "e.sqlite")
    message = str(info.value)
    assert str(tmp_path / "e.sqlite") in message and f"v99, this mwalign writes v{SCHEMA_VERSION}" in message
    assert "\n" not in message and "delete" in message


def test_corrupt_embedding_cache_gives_one_line_error_naming_it(tmp_path):
    # Given a file that is not a SQLite database
    path = tmp_path / "e.sqlite"
    path.write_bytes(b"not a database" * 100)
    # When it is opened, Then the error names the file instead of a bare sqlite3.DatabaseError
    with pytest.raises(EmbeddingCacheError, match="e.sqlite: embedding cache is unreadable"):
        EmbeddingCache(path)
