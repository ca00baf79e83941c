"""Stage 01 entry point: English roots -> cached translations -> filtered rows -> Parquet + manifest.

Output (``<run_dir>/corpus/``; schema in docs/CONTRACTS.md):

* ``translations.parquet``: ``root_id`` str, ``eng`` str, one nullable str column per pool
  language (null = the translation was filtered out).
* ``multiway.parquet`` / ``bilingual.parquet`` / ``dev.parquet``: ``root_id`` str,
  ``languages`` list<str> (ISO 639-3, ``eng`` first), ``sentences`` list<str> aligned with it.
* ``manifest.json``: parameters, source and backend versions, counts and filter drops per
  language, per-file sha256 and ``content_hash``, ``pool``, ``seen_languages``.

Each file is written to a temporary name and moved into place; the manifest goes last, so
a manifest whose file hashes match means a complete build, and a rerun with the same
fingerprint returns it without touching the backend or the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mwalign import atomic
from mwalign.artifacts import read_json, read_parquet
from mwalign.config import REPO_ROOT, CorpusConfig, RunConfig, data_dir
from mwalign.corpus import rows as rowlib
from mwalign.corpus.backends.base import TranslationBackend, get_backend
from mwalign.corpus.backends.reference import check_references
from mwalign.corpus.cache import TranslationCache
from mwalign.corpus.sources import Root, load_roots, source_version
from mwalign.corpus.translate import TranslateStats, translate_cached
from mwalign.datafiles import verify_data
from mwalign.versioning import code_key

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1
ROW_FILES = ("multiway", "bilingual", "dev")
# Parameters of the side studies (quality, sensitivity); they never change the main corpus.
SIDE_STUDY_FIELDS = {"cache_path", "quality_backends", "quality_sentences", "sensitivity_conditions", "sensitivity_roots"}
ROW_SCHEMA = pa.schema(
    [("root_id", pa.string()), ("languages", pa.list_(pa.string())), ("sentences", pa.list_(pa.string()))]
)


def neural_backend_options(cfg: CorpusConfig, device: str = "auto") -> dict[str, dict[str, Any]]:
    """Constructor options per backend name, for the backends that take any (the neural ones).

    ``device`` is the run's ``device`` setting (``auto``, ``cpu``, ``cuda``, ``cuda:N``); the neural backends
    put their model and inputs there.
    """
    from mwalign.devices import resolve_device  # torch only for the neural backends' callers

    where = resolve_device(device, where="device")
    neural = {"model": cfg.hf_model, "batch_size": cfg.translate_batch_size, "device": str(where)}
    return {"hf": neural, "ct2": neural}


def make_backend(cfg: CorpusConfig, device: str = "auto") -> TranslationBackend:
    """The configured backend, checked for every pool language before any heavy work."""
    backend = get_backend(cfg.backend, **neural_backend_options(cfg, device).get(cfg.backend, {}))
    for tgt in cfg.pool:
        backend.check_pair("eng", tgt, where="corpus.pool")
    return backend


def cache_path_for(cfg: CorpusConfig, run_dir: Path) -> Path:
    """``corpus.cache_path`` (relative paths resolve from the repo root) or ``<run_dir>/corpus/cache.sqlite``."""
    if cfg.cache_path is None:
        return run_dir / "corpus" / "cache.sqlite"
    path = Path(cfg.cache_path).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def sample_roots(roots: list[Root], n_roots: int, seed: int) -> list[Root]:
    """A seeded sample of ``n_roots`` roots (all of them if fewer), in source order."""
    if n_roots >= len(roots):
        return list(roots)
    picked = set(random.Random(f"{seed}:roots").sample(range(len(roots)), n_roots))
    return [root for i, root in enumerate(roots) if i in picked]


def fingerprint(cfg: CorpusConfig, backend: TranslationBackend) -> str:
    """What decides the corpus bytes: parameters (minus the cache location), source, backend, data-stage version."""
    digest = hashlib.sha256()
    params = cfg.model_dump(mode="json", exclude=SIDE_STUDY_FIELDS)
    code = code_key("data")
    digest.update(json.dumps([params, source_version(cfg.source), backend.describe(), code], sort_keys=True).encode())
    return digest.hexdigest()[:16]


def run_corpus_stage(cfg: RunConfig, run_dir: Path, *, force: bool = False, progress: bool = True) -> dict:
    """Build (or reuse) ``<run_dir>/corpus``; returns the manifest. ``force`` rebuilds even when complete."""
    ccfg, out_dir = cfg.corpus, Path(run_dir) / "corpus"
    exclusion = exclusion_status(ccfg)
    backend = make_backend(ccfg, cfg.device)
    if ccfg.quality_backends or ccfg.backend == "reference":
        check_references(ccfg.pool)  # a damaged NTREX file fails here, not after the corpus is written
    key = fingerprint(ccfg, backend)
    if not force and (done := completed_manifest(out_dir, key)) is not None:
        log.info("corpus: %s is complete (fingerprint %s); reusing it", out_dir, key)
        return done
    started = time.perf_counter()
    candidates, source_drops = load_roots(ccfg)
    roots = sample_roots(candidates, ccfg.n_roots, ccfg.seed)
    warnings = _check_enough_roots(ccfg, len(roots))
    stats = TranslateStats()
    batch_size = backend.preferred_batch_size or ccfg.translate_batch_size
    with TranslationCache(cache_path_for(ccfg, Path(run_dir))) as cache:
        texts = [root.text for root in roots]
        outputs = {
            tgt: translate_cached(texts, tgt, backend, cache, batch_size, stats=stats, progress=progress)
            for tgt in ccfg.pool
        }
    settings = rowlib.FilterSettings(ccfg.max_length_ratio, ccfg.max_unknown_ratio,
                                     ccfg.unknown_ratio_by_language)
    table, filter_drops = rowlib.apply_filters(roots, outputs, settings)
    train, dev = rowlib.split_dev(table, ccfg.dev_fraction, ccfg.seed)
    multiway, bilingual = rowlib.budgeted_rows(train, ccfg.pool, ccfg.k, ccfg.budget, ccfg.seed)
    dev_rows = [rowlib.full_row(entry, ccfg.pool) for entry in dev]
    files = write_tables(out_dir, table, ccfg.pool, {"multiway": multiway, "bilingual": bilingual, "dev": dev_rows})
    counts = _counts(table, ccfg.pool, filter_drops, train, multiway, bilingual, dev_rows)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "fingerprint": key,
        "parameters": ccfg.model_dump(mode="json"),
        "source": {"name": ccfg.source, "version": source_version(ccfg.source), "candidates": len(candidates),
                   "sampled": len(roots), "drops": dict(sorted(source_drops.items()))},
        "backend": {**backend.describe(), "pairs": {t: backend.version_for("eng", t) for t in ccfg.pool}},
        "pool": list(ccfg.pool),
        "seen_languages": ["eng", *ccfg.pool],
        "counts": counts,
        "files": files,
        "exclusion": exclusion,
        "content_hash": _content_hash(files, exclusion),
        "warnings": warnings,
        "run": {"seconds": round(time.perf_counter() - started, 3), "cache_hits": stats.cache_hits,
                "translated": stats.translated, "backend_failures": stats.failed,
                "per_language": stats.per_language},
    }  # fmt: skip
    atomic.write_json(out_dir / "manifest.json", manifest, indent=2, ensure_ascii=False)
    return manifest


def redraw_rows(corpus_dir: Path, training_seed: int) -> tuple[list[rowlib.Row], list[rowlib.Row]]:
    """(multi-way, bilingual) rows of training seed ``training_seed``'s draw, from a finished corpus folder.

    The same translated training roots (``translations.parquet`` less ``dev.parquet``'s roots) and the same
    budget rule as the corpus stage, with :func:`rowlib.draw_seed`: seed 0 gives the stage's own Parquet rows
    back, other seeds redraw them without translating anything.
    """
    manifest = read_json(corpus_dir / "manifest.json", "corpus manifest", rebuild="mwalign corpus")
    params = manifest["parameters"]
    wide = read_parquet(corpus_dir / "translations.parquet", "translation table", rebuild="mwalign corpus")
    dev = read_parquet(corpus_dir / "dev.parquet", "corpus rows", rebuild="mwalign corpus")
    pool = list(manifest["pool"])
    table = [rowlib.TranslatedRoot(Root(str(record["root_id"]), record["eng"]),
                                   {lang: record[lang] for lang in pool if isinstance(record.get(lang), str)})
             for record in wide.to_dict("records")]
    train = rowlib.train_split(table, set(dev["root_id"].astype(str)))
    seed = rowlib.draw_seed(params["seed"], training_seed)
    return rowlib.budgeted_rows(train, pool, params["k"], params["budget"], seed)


def _check_enough_roots(cfg: CorpusConfig, n: int) -> list[str]:
    if n < 4:
        raise ValueError(
            f"corpus.source={cfg.source}: only {n} usable English roots after cleaning; need >= 4 for a corpus"
        )
    if n < cfg.n_roots:
        message = f"corpus.n_roots={cfg.n_roots} but source {cfg.source} has only {n} usable roots; using all {n}"
        log.warning(message)
        return [message]
    return []


def _counts(table, pool, filter_drops, train, multiway, bilingual, dev_rows) -> dict[str, Any]:
    return {
        "roots": len(table),
        "roots_with_translation": sum(1 for e in table if e.translations),
        "train_roots": len(train),
        "translations": {lang: sum(1 for e in table if lang in e.translations) for lang in pool},
        "filter_drops": filter_drops,
        "rows": {"multiway": len(multiway), "bilingual": len(bilingual), "dev": len(dev_rows)},
        "positive_pairs": {"multiway": rowlib.positive_pairs(multiway), "bilingual": rowlib.positive_pairs(bilingual)},
        "distinct_sentences": {
            "multiway": sum(len(langs) for _, langs, _ in multiway),
            "bilingual": sum(len(langs) for _, langs, _ in bilingual),
        },
    }


def write_tables(out_dir: Path, table, pool: list[str], row_sets: dict[str, list]) -> dict[str, dict]:
    """Write the four Parquet files atomically; returns ``{name: {rows, sha256}}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    wide = {"root_id": [e.root.id for e in table], "eng": [e.root.text for e in table]}
    wide.update({lang: [e.translations.get(lang) for e in table] for lang in pool})
    schema = pa.schema([(name, pa.string()) for name in wide])
    tables = {"translations": pa.table(wide, schema=schema)}
    for name, rows in row_sets.items():
        columns = list(zip(*rows)) if rows else [[], [], []]
        tables[name] = pa.table([list(c) for c in columns], schema=ROW_SCHEMA)
    return {name: {"rows": t.num_rows, "sha256": write_parquet_atomic(t, out_dir / f"{name}.parquet")} for name, t in tables.items()}


def write_parquet_atomic(table: pa.Table, path: Path) -> str:
    """Write ``table`` (zstd) atomically; returns the sha256 of the file written."""
    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    return digest


def exclusion_status(cfg: CorpusConfig) -> dict[str, str]:
    """How the evaluation-set exclusion applies: the data dir exists, or refusal unless explicitly allowed."""
    folder = data_dir()
    if folder.is_dir():
        verify_data(folder)  # every file the exclusion reads matches SHA256SUMS, before anything is translated
        return {"evaluation_sets": "excluded"}
    if not cfg.allow_missing_exclusion:
        raise ValueError(
            f"data dir {folder} (MWALIGN_DATA_DIR) does not exist, so the evaluation sentences cannot be excluded "
            "from the corpus; set MWALIGN_DATA_DIR to the data mirror, or set corpus.allow_missing_exclusion=true "
            "to build without the exclusion (recorded in the manifest and the book)"
        )
    log.warning("corpus: data dir %s is missing; building WITHOUT the evaluation-set exclusion", folder)
    return {"evaluation_sets": "missing", "data_dir": str(folder)}


def _content_hash(files: dict[str, dict], exclusion: dict[str, str] | None = None) -> str:
    joined = "".join(f"{name}:{files[name]['sha256']}\n" for name in sorted(files))
    if exclusion and exclusion.get("evaluation_sets") != "excluded":
        joined += "exclusion:missing\n"  # the same bytes built without the exclusion are another corpus
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def completed_manifest(out_dir: Path, key: str) -> dict | None:
    """The manifest of a complete build with this fingerprint whose files are intact, else None."""
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != key:
        return None
    for name, info in manifest.get("files", {}).items():
        path = out_dir / f"{name}.parquet"
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != info.get("sha256"):
            return None
    return manifest
