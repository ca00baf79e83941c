"""Untrained cross-lingual alignment of candidate base encoders (issue 16's stand-in table).

For each model x prompt, before any training: Tatoeba bitext retrieval accuracy (the first
``tatoeba_pairs`` pairs per language, nearest neighbour by cosine in both directions, mean over
languages, x100) and STS17 cross-lingual Spearman (cosine of mean-pooled embeddings vs the gold
scores, x100) on the mirror's es-en, en-tr and en-ar. The scorer is ours, not mteb's: a cut of
Tatoeba (300 of 1,000 pairs) is no official task, and STS17's Spearman is the one mteb reports
as ``cosine_spearman``. The rule :func:`closest_to_paper` picks the layer count whose STS17 mean
is nearest the published level of the paper's models (:data:`PUBLISHED_STS17`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from mwalign import languages, models
from mwalign.config import TRUNCATED_ME5
from mwalign.devices import resolve_device
from mwalign.evaluation.tasks.mirror import mirror_path, read_parallel
from mwalign.evaluation.tasks.sts17 import _TRACKS, read_track

logger = logging.getLogger(__name__)

# Mean-pooled, untrained XLM-R and mBERT on STS2017 cross-lingual pairs (Spearman x100), published in the
# sentence-transformers documentation, "Multilingual Models" / training (sbert.net, examples/training/multilingual):
# the table "Performance on STS2017 cross-lingual ... before training". Keys are STS17 subset names.
PUBLISHED_STS17: dict[str, dict[str, float]] = {
    "xlm-roberta-base": {"es-en": 10.9, "en-tr": 9.2, "en-ar": 17.4},
    "bert-base-multilingual-cased": {"es-en": 21.5, "en-tr": 16.0, "en-ar": 16.7},
}
PUBLISHED_SOURCE = "sentence-transformers docs, Multilingual Models: training (mean pooling, untrained)"
STS17_SUBSETS = ("es-en", "en-tr", "en-ar")
COLUMNS = ["model", "layers", "prompt", "tatoeba_accuracy", *(f"sts17_{s}" for s in STS17_SUBSETS), "sts17_mean",
           "seconds"]


def layers_of(name: str) -> int | None:
    """L of a ``me5-small-l<L>`` stand-in, else None."""
    match = TRUNCATED_ME5.fullmatch(name)
    return int(match.group(1)) if match else None


def _encode(model: Any, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
    return model.encode(texts, prompt=prompt, batch_size=batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)


def tatoeba_accuracy(model: Any, langs: list[str], pairs: int, prompt: str, batch_size: int) -> float:
    """Mean over ``langs`` and both directions of nearest-neighbour accuracy on the first ``pairs`` pairs (x100)."""
    root, scores = mirror_path("tatoeba"), []
    for code in langs:
        xxx = languages.get(code, where="evaluation.base_alignment.tatoeba_langs").tatoeba
        other, english = read_parallel(root / f"tatoeba.{xxx}-eng.{xxx}", root / f"tatoeba.{xxx}-eng.eng")
        a = _encode(model, other[:pairs], prompt, batch_size)  # (n, d), unit rows
        b = _encode(model, english[:pairs], prompt, batch_size)  # (n, d)
        sims = a @ b.T  # (n, n) cosine
        gold = np.arange(len(a))
        scores += [float((sims.argmax(axis=1) == gold).mean()), float((sims.argmax(axis=0) == gold).mean())]
    return 100.0 * float(np.mean(scores))


def sts17_spearman(model: Any, subset: str, prompt: str, batch_size: int) -> float:
    """Spearman x100 between cosine similarity and the gold score on one STS17 subset of the mirror."""
    data = read_track(_TRACKS[subset], 0.0, 5.0)
    a = _encode(model, list(data["sentence1"]), prompt, batch_size)
    b = _encode(model, list(data["sentence2"]), prompt, batch_size)
    return 100.0 * float(spearmanr((a * b).sum(axis=1), data["score"]).statistic)


def base_alignment(
    model_names: list[str],
    prompts: list[str],
    *,
    tatoeba_langs: list[str],
    tatoeba_pairs: int = 300,
    sts17_subsets: list[str] = list(STS17_SUBSETS),
    batch_size: int = 64,
    max_seq_length: int = 128,
    device: str = "auto",
) -> pd.DataFrame:
    """One row per model x prompt with the untrained scores (module doc); columns :data:`COLUMNS`."""
    languages.validate_codes(tatoeba_langs, where="evaluation.base_alignment.tatoeba_langs")
    unknown = [s for s in sts17_subsets if s not in STS17_SUBSETS]
    if unknown:
        raise ValueError(f"evaluation.base_alignment.sts17_subsets: {unknown}; the mirror's cross-lingual "
                         f"pairs are {', '.join(STS17_SUBSETS)}")
    target, rows = resolve_device(device, where="device"), []
    for name in model_names:
        model = models.load(name, max_seq_length=max_seq_length).to(target).eval()
        for prompt in prompts:
            start = time.perf_counter()
            sts = {s: sts17_spearman(model, s, prompt, batch_size) for s in sts17_subsets}
            rows.append({
                "model": name, "layers": layers_of(name), "prompt": prompt,
                "tatoeba_accuracy": tatoeba_accuracy(model, tatoeba_langs, tatoeba_pairs, prompt, batch_size),
                **{f"sts17_{s}": sts.get(s, np.nan) for s in STS17_SUBSETS},
                "sts17_mean": float(np.mean(list(sts.values()))), "seconds": time.perf_counter() - start,
            })  # fmt: skip
            logger.info("base alignment %s prompt=%r: %.1f s", name, prompt, rows[-1]["seconds"])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"layers": "Int64"})


def paper_level(subsets: list[str] | tuple[str, ...] = STS17_SUBSETS) -> tuple[float, float]:
    """(lowest, highest) mean published STS17 Spearman of the paper's two models over ``subsets``."""
    means = [float(np.mean([levels[s] for s in subsets])) for levels in PUBLISHED_STS17.values()]
    return min(means), max(means)


def closest_to_paper(table: pd.DataFrame, prompt: str, max_layers: int | None = None) -> int:
    """The stand-in layer count whose untrained STS17 mean is nearest the paper models' band.

    Distance is 0 inside [XLM-R mean, mBERT mean] and the gap to the nearer edge outside it; every cut
    of mE5-small sits above the band, so this is the smallest gap. Ties go to fewer layers. ``max_layers``:
    only cuts of at most that many layers (the training budget's cap) are candidates.
    """
    cuts = table[table["layers"].notna() & (table["prompt"] == prompt)]
    if max_layers is not None:
        cuts = cuts[cuts["layers"] <= max_layers]
    if cuts.empty:
        raise ValueError(f"base alignment table has no me5-small-l<L> rows with prompt {prompt!r}"
                         + (f" and at most {max_layers} layers" if max_layers is not None else ""))
    subsets = [s for s in STS17_SUBSETS if cuts[f"sts17_{s}"].notna().all()]
    low, high = paper_level(subsets)
    gap = cuts.apply(lambda row: max(low - row["sts17_mean"], row["sts17_mean"] - high, 0.0), axis=1)
    best = cuts.assign(gap=gap).sort_values(["gap", "layers"]).iloc[0]
    return int(best["layers"])
