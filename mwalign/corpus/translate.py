"""Translate a list of sentences through the cache: only what is not cached reaches the backend.

Batches are committed to the cache as soon as they come back, so a crash or an
interrupt loses at most the batch in flight, and the next run picks up exactly
the missing sentences (no duplicates: the cache key is the primary key). Under
``torchrun`` (``WORLD_SIZE`` > 1) each rank translates its shard of the
missing sentences and then waits until the others' shards appear in the shared
cache, so every rank ends with the full result.

Across several nodes the cache sits on a network filesystem, where SQLite is not safe for concurrent
writers. There (:func:`sharded_cache_enabled`) each rank commits to its own shard file
``<cache>.rank<N>.sqlite`` and, once done, drops a marker file; rank 0 waits for every rank's marker,
merges the shards into the cache and removes the markers; the other ranks only read the cache, waiting
for the merged result as before. A rank's shard also resumes its own interrupted work.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

from tqdm import tqdm  # plain bars: tqdm.auto wants ipywidgets inside notebooks

from mwalign.corpus.backends.base import BackendError, Translation, TranslationBackend
from mwalign import atomic
from mwalign.corpus.cache import TranslationCache, cache_key, shard_path
from mwalign.ranks import rank_and_world


@dataclass
class TranslateStats:
    """What one :func:`translate_cached` call did (for the manifest and the rerun benchmark)."""

    requested: int = 0
    cache_hits: int = 0
    translated: int = 0
    failed: int = 0
    seconds: float = 0.0
    per_language: dict[str, dict[str, float]] = field(default_factory=dict)


def translate_cached(
    texts: list[str],
    tgt: str,
    backend: TranslationBackend,
    cache: TranslationCache,
    batch_size: int,
    *,
    src: str = "eng",
    stats: TranslateStats | None = None,
    progress: bool = True,
    rank_world: tuple[int, int] | None = None,
    wait_timeout_s: float = 3600.0,
    sharded: bool | None = None,
) -> list[Translation]:
    """Translations of ``texts`` into ``tgt`` (``Translation(None)`` where the backend failed on a sentence).

    ``rank_world`` (default: from ``torchrun``'s RANK/WORLD_SIZE) shards the uncached sentences; ``sharded``
    (default: :func:`sharded_cache_enabled`) makes each rank write its own cache shard, merged by rank 0.
    """
    backend.check_pair(src, tgt)
    rank, world = rank_world or rank_and_world()
    stats = stats if stats is not None else TranslateStats()
    start = time.perf_counter()
    version = backend.version_for(src, tgt)
    keys = [cache_key(backend.name, backend.model_id, version, src, tgt, t) for t in texts]
    unique = dict(zip(keys, texts))
    found = cache.get_many(unique)
    missing = sorted((k for k in unique if k not in found), key=lambda k: (len(unique[k]), k))
    # Partition by key, not by position: a rank that starts late sees others' work as cached,
    # and a positional split of its smaller "missing" list would leave sentences to nobody.
    mine = [k for k in missing if int(k[:12], 16) % world == rank]
    if world > 1 and (sharded if sharded is not None else sharded_cache_enabled()):
        token = hashlib.sha256(" ".join([backend.name, version, src, tgt, *sorted(unique)]).encode()).hexdigest()
        failed = _translate_into_shard(mine, unique, tgt, backend, cache, batch_size, (src, version), progress,
                                       (rank, world), (token[:16], wait_timeout_s))
    else:
        failed = _translate_missing(mine, unique, tgt, backend, cache, batch_size, (src, version), progress)
    if world > 1:
        found.update(_wait_for_other_ranks(cache, [k for k in missing if k not in failed], wait_timeout_s))
    else:
        found.update(cache.get_many(missing))
    elapsed = time.perf_counter() - start
    stats.requested += len(texts)
    stats.cache_hits += len(unique) - len(missing)
    stats.translated += len(missing) - len(failed)
    stats.failed += len(failed)
    stats.seconds += elapsed
    stats.per_language[tgt] = {"translated": len(missing), "seconds": round(elapsed, 3)}
    return [found.get(k, Translation(None)) for k in keys]


def _translate_missing(
    missing: list[str],
    unique: dict[str, str],
    tgt: str,
    backend: TranslationBackend,
    cache: TranslationCache,
    batch_size: int,
    src_version: tuple[str, str],
    progress: bool,
) -> set[str]:
    """Translate and commit batch by batch; returns the keys the backend failed on."""
    src, version = src_version
    failed: set[str] = set()
    bar = tqdm(total=len(missing), desc=f"{backend.name} {src}->{tgt}", unit="sent", disable=not progress or None)
    try:
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            try:
                out = backend.translate([unique[k] for k in batch], src, tgt)
            except BackendError:
                raise
            except Exception as err:  # a crashing model: keep what is committed, name the batch
                raise BackendError(
                    f"{backend.name} {src}->{tgt}: backend crashed on batch {start // batch_size} "
                    f"({type(err).__name__}: {err}); {start} sentences of this run are cached, rerun to resume"
                ) from err
            rows = [(k, backend.name, backend.model_id, version, src, tgt, t) for k, t in zip(batch, out)]
            cache.put_many(rows)
            failed.update(k for k, t in zip(batch, out) if t.text is None)
            bar.update(len(batch))
    finally:
        bar.close()
    return failed


def sharded_cache_enabled() -> bool:
    """Per-rank cache shards: ``MWALIGN_SHARDED_CACHE=1`` (or ``0``) decides; unset, they are on when torchrun
    spans several nodes (``WORLD_SIZE`` > ``LOCAL_WORLD_SIZE``), where the cache is on a shared filesystem."""
    setting = os.environ.get("MWALIGN_SHARDED_CACHE")
    if setting is not None:
        if setting not in ("0", "1"):
            raise ValueError(f"MWALIGN_SHARDED_CACHE={setting!r}: expected 1 (per-rank shards) or 0 (one file)")
        return setting == "1"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world > int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))


def _translate_into_shard(mine: list[str], unique: dict[str, str], tgt: str, backend: TranslationBackend,
                          cache: TranslationCache, batch_size: int, src_version: tuple[str, str], progress: bool,
                          rank_world: tuple[int, int], token_timeout: tuple[str, float]) -> set[str]:
    """Translate this rank's keys into its shard and mark it done; rank 0 then merges every shard."""
    (rank, world), (token, timeout_s) = rank_world, token_timeout
    own = shard_path(cache.path, rank)
    with TranslationCache(own) as shard:
        todo = [k for k in mine if k not in shard.get_many(mine)]  # resume what this rank already did
        failed = _translate_missing(todo, unique, tgt, backend, shard, batch_size, src_version, progress)
    atomic.write_text(_marker(cache, rank, token), "done\n")
    if rank == 0:
        markers = [_marker(cache, r, token) for r in range(world)]
        _wait_for_files(markers, timeout_s, cache)
        cache.merge_from(shard_path(cache.path, r) for r in range(world))
        for marker in markers:
            marker.unlink(missing_ok=True)
    return failed


def _marker(cache: TranslationCache, rank: int, token: str):
    return shard_path(cache.path, rank).with_suffix(f".done-{token}")


def _wait_for_files(paths: list, timeout_s: float, cache: TranslationCache) -> None:
    deadline, pause = time.monotonic() + timeout_s, 0.1
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            late = [p.name for p in paths if not p.exists()]
            raise BackendError(f"{cache.path}: shards {', '.join(late)} of other torchrun ranks did not finish "
                               f"within {timeout_s:.0f}s; check the other ranks' logs")
        time.sleep(pause)
        pause = min(2.0, pause * 2)


def _wait_for_other_ranks(cache: TranslationCache, keys: list[str], timeout_s: float) -> dict[str, Translation]:
    """Poll the shared cache until every rank's shard is there."""
    deadline = time.monotonic() + timeout_s
    pause = 0.1
    while True:
        found = cache.get_many(keys)
        if len(found) == len(keys):
            return found
        if time.monotonic() > deadline:
            raise BackendError(
                f"{cache.path}: {len(keys) - len(found)} translations from other torchrun ranks did not "
                f"arrive within {timeout_s:.0f}s; check the other ranks' logs"
            )
        time.sleep(pause)
        pause = min(2.0, pause * 2)
