"""The embedding cache opens like the translation cache: WAL, versioned, safe when ranks open it together."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np

from mwalign.evaluation.embedding_cache import EmbeddingCache, EmbeddingCacheError


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
