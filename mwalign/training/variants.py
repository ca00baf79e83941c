"""Corpus variants for the k ablations, derived from ``corpus/translations.parquet`` at the same pair budget.

The corpus stage writes k-language multi-way rows and bilingual En-X rows only. The ablations need:

- ``k2-multiway``: two-language rows drawn from the multi-way pool, both languages uniform among the root's
  available ones (English included, so X-Y pairs occur), as many rows as the bilingual corpus has pairs;
- ``k-all``: every available language of a root in one row, roots added until the pair count
  (sum of C(k, 2)) reaches the bilingual budget;
- ``sub-pool``: rows like the main multi-way ones (English plus k-1 languages drawn uniformly among the
  root's available ones) but from ``training.sub_pool`` only, at the same pair budget: the pool-composition
  ablation.

Roots are the training roots (those in multiway or bilingual rows; dev roots never enter), visited in a
seeded random order, each used once before any is reused.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from mwalign.artifacts import read_parquet
from mwalign.training.data import RowTable, rows_from_frame

ABLATION_VARIANTS = ("k2-multiway", "k-all", "sub-pool")


def _wide_rows(path: Path, train_roots: set[str]) -> list[tuple[str, list[str], list[str]]]:
    """(root, languages, sentences) per training root from the wide table, English first."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: needed for the k2-multiway / k-all ablations; run the corpus stage")
    wide = read_parquet(path, "translation table", rebuild="mwalign corpus")
    if "root_id" not in wide.columns or "eng" not in wide.columns:
        raise ValueError(f"{path}: expected columns root_id, eng and one per pool language (CONTRACTS.md)")
    codes = ["eng"] + [c for c in wide.columns if c not in ("root_id", "eng")]
    rows = []
    for record in wide.itertuples(index=False):
        values = record._asdict()
        root = str(values["root_id"])
        if root not in train_roots:
            continue
        present = [c for c in codes if isinstance(values.get(c), str) and values[c].strip()]
        if len(present) >= 2:
            rows.append((root, present, [values[c] for c in present]))
    if not rows:
        raise ValueError(f"{path}: no training root has >= 2 languages; check the corpus stage output")
    return rows


def derive_variant(name: str, translations: Path, train_roots: set[str], pair_budget: int, seed: int, *,
                   k: int = 4, sub_pool: list[str] | None = None) -> RowTable:
    """Build the ``name`` variant (see module docstring) with ``pair_budget`` positive pairs."""
    if name not in ABLATION_VARIANTS:
        raise ValueError(f"training.ablations: {name!r} is not a corpus variant; expected one of {ABLATION_VARIANTS}")
    pool = _wide_rows(translations, train_roots)
    if name == "sub-pool":
        pool = _restricted(pool, set(sub_pool or []), k, seed)
        if not pool:
            raise ValueError(f"training.sub_pool={sub_pool}: no training root has a translation into these languages")
    rng = random.Random(seed)
    order: list[int] = []
    roots, langs, sents, pairs = [], [], [], 0
    while pairs < pair_budget:
        if not order:
            order = rng.sample(range(len(pool)), len(pool))  # each root once per pass
        root, codes, texts = pool[order.pop()]
        if name == "k2-multiway":
            picked = sorted(rng.sample(range(len(codes)), 2))
            codes, texts = [codes[i] for i in picked], [texts[i] for i in picked]
        roots.append(root)
        langs.append(codes)
        sents.append(texts)
        pairs += len(codes) * (len(codes) - 1) // 2
    frame = pd.DataFrame({"root_id": roots, "languages": langs, "sentences": sents})
    return rows_from_frame(frame, f"{translations} ({name})")


def _restricted(pool: list[tuple[str, list[str], list[str]]], keep: set[str], k: int,
                seed: int) -> list[tuple[str, list[str], list[str]]]:
    """English plus up to k-1 languages of ``keep`` per root, drawn with a per-root seed (fixed across passes)."""
    rows = []
    for root, codes, texts in pool:
        others = [i for i, code in enumerate(codes) if code in keep]
        if not others:
            continue
        picked = sorted(random.Random(f"{seed}:{root}").sample(others, min(k - 1, len(others))))
        rows.append((root, [codes[0], *(codes[i] for i in picked)], [texts[0], *(texts[i] for i in picked)]))
    return rows
