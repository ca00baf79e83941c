"""Translation quality of the corpus backends against NTREX-128 human references (chapter 01's table).

The English NTREX sentences are never training roots (:mod:`mwalign.corpus.exclusion`
removes them), so scoring on them measures the backends on unseen news text.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
import sacrebleu

from mwalign import atomic, languages
from mwalign.config import RunConfig
from mwalign.corpus.backends.base import BackendError, get_backend
from mwalign.corpus.backends.reference import ntrex_file, ntrex_lines
from mwalign.corpus.build import cache_path_for, neural_backend_options
from mwalign.corpus.cache import TranslationCache
from mwalign.corpus.translate import TranslateStats, translate_cached

log = logging.getLogger(__name__)


def translation_quality(
    backends: list[str],
    langs: list[str],
    n_sentences: int,
    cache_path: str | Path,
    *,
    backend_options: dict[str, dict] | None = None,
    batch_size: int = 64,
) -> pd.DataFrame:
    """chrF and BLEU (sacrebleu) of each backend x language on the first ``n_sentences`` NTREX lines.

    Pairs a backend lacks, and languages without an NTREX reference (e.g. epo), are skipped
    with a log message. Failed sentences count as empty hypotheses (they lower the score).
    Returns columns backend, language, n, chrF, BLEU, failed, seconds.
    """
    languages.validate_codes(langs, where="translation_quality langs")
    if n_sentences < 1:
        raise ValueError(f"translation_quality: n_sentences must be >= 1, got {n_sentences}")
    english = list(ntrex_lines("eng")[:n_sentences])
    scorable = [lang for lang in langs if _has_reference(lang)]
    rows = []
    with TranslationCache(cache_path) as cache:
        for name in backends:
            backend = get_backend(name, **(backend_options or {}).get(name, {}))
            for lang in scorable:
                try:
                    backend.check_pair("eng", lang, where="translation_quality")
                except BackendError as err:
                    log.info("skipping %s", err)
                    continue
                stats = TranslateStats()
                start = time.perf_counter()
                out = translate_cached(english, lang, backend, cache, batch_size, stats=stats, progress=False)
                hyps = [t.text or "" for t in out]
                refs = list(ntrex_lines(lang)[:n_sentences])
                rows.append({
                    "backend": name, "language": lang, "n": len(english),
                    "chrF": sacrebleu.corpus_chrf(hyps, [refs]).score,
                    "BLEU": sacrebleu.corpus_bleu(hyps, [refs]).score,
                    "failed": sum(t.text is None for t in out),
                    "seconds": round(time.perf_counter() - start, 3),
                })  # fmt: skip
    return pd.DataFrame(rows, columns=["backend", "language", "n", "chrF", "BLEU", "failed", "seconds"])


def run_quality_study(cfg: RunConfig, run_dir: Path) -> pd.DataFrame:
    """Chapter 01's study: score ``corpus.quality_backends`` on the pool languages; writes ``corpus/quality.parquet``.

    Translations share the corpus's SQLite cache, so a rerun scores without translating.
    """
    ccfg = cfg.corpus
    table = translation_quality(
        ccfg.quality_backends, ccfg.pool, ccfg.quality_sentences, cache_path_for(ccfg, Path(run_dir)),
        backend_options=neural_backend_options(ccfg, cfg.device), batch_size=ccfg.translate_batch_size,
    )  # fmt: skip
    with atomic.atomic_path(Path(run_dir) / "corpus" / "quality.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    return table


def _has_reference(lang: str) -> bool:
    if languages.get(lang, where="translation_quality langs").ntrex is None or not ntrex_file(lang).is_file():
        log.info("translation_quality: no NTREX-128 reference for %s; skipped", lang)
        return False
    return True
