"""The SQLite translation cache: hits skip the backend, crashes keep finished work, corrupt files fail clearly."""

from __future__ import annotations

import sqlite3
import time

import pytest

from mwalign.corpus.backends.base import BackendError, Translation
from mwalign.corpus.cache import CacheError, TranslationCache, cache_key
from mwalign.corpus.translate import TranslateStats, translate_cached

SENTENCES = [f"Sentence number {i} is here." for i in range(10)]


def test_cache_hit_skips_backend(suffix_backend_cls, tmp_path):
    # Given a cache filled by one run
    backend = suffix_backend_cls()
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        first = translate_cached(SENTENCES, "spa", backend, cache, batch_size=4, progress=False)
    # When the same sentences are requested again from a reopened cache
    again_backend = suffix_backend_cls()
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        second = translate_cached(SENTENCES, "spa", again_backend, cache, batch_size=4, progress=False)
    # Then the backend is not called and the results are identical to the uncached run
    assert again_backend.calls == [], "cached sentences must not reach the backend"
    assert second == first, "cached path returns exactly what the plain path returned"


def test_enlarging_corpus_translates_only_new_sentences(suffix_backend_cls, tmp_path):
    # Given 6 sentences already cached
    backend = suffix_backend_cls()
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        translate_cached(SENTENCES[:6], "cat", backend, cache, batch_size=4, progress=False)
        # When the corpus grows to 10
        backend.calls.clear()
        stats = TranslateStats()
        translate_cached(SENTENCES, "cat", backend, cache, batch_size=4, stats=stats, progress=False)
    # Then only the 4 new sentences are translated
    sent = [s for call in backend.calls for s in call]
    assert sorted(sent) == sorted(SENTENCES[6:]), "only new sentences reach the backend"
    assert (stats.cache_hits, stats.translated) == (6, 4)


def test_crash_mid_corpus_keeps_finished_batches_and_resumes_without_gaps(suffix_backend_cls, tmp_path):
    # Given a backend that crashes on its third batch of 3
    crashing = suffix_backend_cls(fail_on_call=3)
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(BackendError, match="crashed on batch 2.*rerun to resume"):
            translate_cached(SENTENCES, "epo", crashing, cache, batch_size=3, progress=False)
        # Then the two finished batches are in the cache
        assert cache.count() == 6, "batches finished before the crash are committed"
        # When the build is rerun with a healthy backend
        healthy = suffix_backend_cls()
        out = translate_cached(SENTENCES, "epo", healthy, cache, batch_size=3, progress=False)
        # Then only the 4 missing sentences are translated, and the result has no gaps or duplicates
        assert sum(len(c) for c in healthy.calls) == 4, "resume translates only what is missing"
        assert cache.count() == 10, "no duplicates in the cache"
    assert out == [Translation(" ".join(f"{w}_epo" for w in s.split())) for s in SENTENCES]


def test_key_separates_backend_version_and_pair():
    # Given the same text, Then any change of backend, version or pair gives a different key
    base = cache_key("apertium", "apertium", "1.0", "eng", "spa", "Hello.")
    variants = [
        cache_key("hf", "apertium", "1.0", "eng", "spa", "Hello."),
        cache_key("apertium", "apertium", "1.1", "eng", "spa", "Hello."),
        cache_key("apertium", "apertium", "1.0", "eng", "cat", "Hello."),
        cache_key("apertium", "apertium", "1.0", "eng", "spa", "Hello!"),
    ]
    assert base not in variants and len(set(variants)) == 4


def test_cache_uses_wal_and_records_schema_version(tmp_path):
    # Given a new cache file
    TranslationCache(tmp_path / "c.sqlite").close()
    db = sqlite3.connect(tmp_path / "c.sqlite")
    # Then it is in WAL mode with a schema version
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"


def test_corrupt_cache_file_gives_one_line_error_naming_it(tmp_path):
    # Given a file that is not a SQLite database
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    # When it is opened as a cache, Then the error names the file and the fix
    with pytest.raises(CacheError) as info:
        TranslationCache(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value) and "delete" in str(info.value)
    assert path.read_bytes().startswith(b"this is not"), "the broken file is left for inspection, not overwritten"


def test_cache_from_other_schema_version_is_refused(tmp_path):
    # Given a cache written by a future schema
    TranslationCache(tmp_path / "c.sqlite").close()
    db = sqlite3.connect(tmp_path / "c.sqlite")
    with db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    # Then opening it fails with the versions named
    with pytest.raises(CacheError, match="schema v99"):
        TranslationCache(tmp_path / "c.sqlite")


def test_empty_sentence_is_rejected_before_the_backend(suffix_backend_cls):
    # Given a whitespace-only sentence, Then the backend refuses it without translating anything
    backend = suffix_backend_cls()
    with pytest.raises(ValueError, match="sentence 1 is empty"):
        backend.translate(["Fine.", "   "], "eng", "spa")
    assert backend.calls == []


def test_torchrun_ranks_split_the_work_and_all_end_with_everything(suffix_backend_cls, tmp_path):
    # Given two ranks sharing one cache file, each with its own backend and connection
    import threading

    backends = [suffix_backend_cls(), suffix_backend_cls()]
    results: dict[int, list] = {}

    def rank(r: int) -> None:
        with TranslationCache(tmp_path / "shared.sqlite") as cache:
            results[r] = translate_cached(SENTENCES, "fra", backends[r], cache, batch_size=2, progress=False,
                                          rank_world=(r, 2), wait_timeout_s=30)  # fmt: skip

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each rank translated half, and both return the full, identical, single-process result
    done = [sum(len(c) for c in b.calls) for b in backends]
    assert sum(done) == 10 and min(done) > 0, f"work is sharded, not repeated: {done}"
    with TranslationCache(tmp_path / "single.sqlite") as cache:
        alone = translate_cached(SENTENCES, "fra", suffix_backend_cls(), cache, batch_size=2, progress=False)
    assert results[0] == results[1] == alone


def test_ranks_opening_a_new_cache_together_all_succeed(tmp_path):
    # Given four ranks that open the same brand-new cache file at the same instant, 60 times over
    # (before the open retried, about 1 trial in 15 failed with "database is locked")
    import threading

    errors: list[str] = []
    for trial in range(60):
        path = tmp_path / f"new-{trial}.sqlite"
        barrier = threading.Barrier(4)

        def rank(path=path, barrier=barrier) -> None:
            barrier.wait()
            try:
                TranslationCache(path).close()
            except CacheError as err:
                errors.append(str(err))

        threads = [threading.Thread(target=rank) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # Then every open succeeded and each file carries one schema stamp
    assert errors == [], errors[:1]
    db = sqlite3.connect(tmp_path / "new-0.sqlite")
    assert db.execute("SELECT COUNT(*) FROM meta WHERE key='schema_version'").fetchone() == (1,)
    db.close()


def test_sharded_ranks_write_own_shards_and_rank0_merges_them(suffix_backend_cls, tmp_path):
    """Multi-node mode: no rank writes the shared cache file; rank 0 merges the per-rank shards after all finish."""
    import threading

    from mwalign.corpus.cache import shard_path

    # Given two ranks (own connection and backend each) on one cache path, with per-rank shards switched on
    backends = [suffix_backend_cls(), suffix_backend_cls()]
    results: dict[int, list] = {}
    main_writes: dict[int, int] = {0: 0, 1: 0}

    def rank(r: int) -> None:
        with TranslationCache(tmp_path / "shared.sqlite") as cache:
            real_put = cache.put_many
            cache.put_many = lambda rows: main_writes.__setitem__(r, main_writes[r] + 1) or real_put(rows)
            if r == 1:
                time.sleep(0.3)  # rank 0 reaches the merge first and must wait for rank 1's shard
            results[r] = translate_cached(SENTENCES, "fra", backends[r], cache, batch_size=2, progress=False,
                                          rank_world=(r, 2), wait_timeout_s=30, sharded=True)  # fmt: skip

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each rank translated its half into its own shard, nobody wrote the shared file directly,
    with TranslationCache(shard_path(tmp_path / "shared.sqlite", 0)) as s0, \
            TranslationCache(shard_path(tmp_path / "shared.sqlite", 1)) as s1:
        shard_counts = [s0.count(), s1.count()]
    done = [sum(len(c) for c in b.calls) for b in backends]
    assert shard_counts == done and sum(done) == 10 and min(done) > 0, (shard_counts, done)
    assert main_writes == {0: 0, 1: 0}, "ranks write shards only; the merge is a separate path"
    # and after rank 0's merge the shared cache holds everything and both ranks return the single-process result
    with TranslationCache(tmp_path / "shared.sqlite") as cache:
        assert cache.count() == 10
    with TranslationCache(tmp_path / "single.sqlite") as cache:
        alone = translate_cached(SENTENCES, "fra", suffix_backend_cls(), cache, batch_size=2, progress=False)
    assert results[0] == results[1] == alone
    assert not list(tmp_path.glob("*.done-*")), "rank 0 removes the done markers after merging"


@pytest.mark.parametrize(("env", "expected"), [
    ({"MWALIGN_SHARDED_CACHE": "1"}, True), ({"MWALIGN_SHARDED_CACHE": "0", "WORLD_SIZE": "8",
                                              "LOCAL_WORLD_SIZE": "4"}, False),
    ({"WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4"}, True), ({"WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "4"}, False),
    ({}, False),
])
def test_shards_switch_on_for_multi_node_runs_or_by_env(monkeypatch, env, expected):
    from mwalign.corpus.translate import sharded_cache_enabled

    for name in ("MWALIGN_SHARDED_CACHE", "WORLD_SIZE", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert sharded_cache_enabled() is expected


def test_bad_sharded_cache_setting_names_the_variable(monkeypatch):
    from mwalign.corpus.translate import sharded_cache_enabled

    monkeypatch.setenv("MWALIGN_SHARDED_CACHE", "yes")
    with pytest.raises(ValueError, match="MWALIGN_SHARDED_CACHE='yes'"):
        sharded_cache_enabled()


def _shard_rank_process(rank: int, world: int, cache_path: str, out: str) -> None:
    """One torchrun-like rank in its own process (environment as torchrun sets it on two nodes of one rank)."""
    import json
    import os

    from tests.corpus.conftest import SuffixBackend

    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_WORLD_SIZE": "1"})
    os.environ.pop("MWALIGN_SHARDED_CACHE", None)  # automatic: WORLD_SIZE > LOCAL_WORLD_SIZE
    backend = SuffixBackend()
    with TranslationCache(cache_path) as cache:
        got = translate_cached(SENTENCES, "cat", backend, cache, batch_size=3, progress=False, wait_timeout_s=60)
    with open(f"{out}.{rank}", "w", encoding="utf-8") as handle:
        json.dump({"texts": [t.text for t in got], "translated": sum(len(c) for c in backend.calls)}, handle)


def test_two_rank_processes_on_two_nodes_merge_their_shards(tmp_path):
    """The multi-node path in 2 real processes: shards are switched on automatically and merged by rank 0."""
    import json

    import torch.multiprocessing as mp

    # When two processes run as ranks of a 2-node torchrun job on one cache path
    mp.spawn(_shard_rank_process, args=(2, str(tmp_path / "cache.sqlite"), str(tmp_path / "out")), nprocs=2,
             join=True)
    # Then they split the work, both return the full result, and the shared cache holds the merge
    outs = [json.loads((tmp_path / f"out.{r}").read_text(encoding="utf-8")) for r in (0, 1)]
    assert outs[0]["texts"] == outs[1]["texts"] == [" ".join(f"{w}_cat" for w in s.split()) for s in SENTENCES]
    assert outs[0]["translated"] + outs[1]["translated"] == 10 and min(o["translated"] for o in outs) > 0
    assert sorted(p.name for p in tmp_path.glob("cache.rank*.sqlite")) == ["cache.rank0.sqlite", "cache.rank1.sqlite"]
    with TranslationCache(tmp_path / "cache.sqlite") as cache:
        assert cache.count() == 10
