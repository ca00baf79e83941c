"""Bootstrap confidence intervals over test examples, recomputed from stored predictions.

The point score is recomputed on the full sample with the same formula mteb
uses, so it equals mteb's main score; the interval comes from resampling
examples (sentence pairs, STS pairs, ...) with replacement.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import spearmanr


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n_examples: int,
    resamples: int,
    *,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over ``resamples`` draws of example indices."""
    if resamples <= 0 or n_examples == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n_examples, n_examples)) for _ in range(resamples)])
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def bitext_contributions(pred: np.ndarray) -> np.ndarray:
    """Per-pair shares of weighted F1 when gold is the identity (Tatoeba-style mining).

    Each gold label has support 1, so F1 = mean_i 2 [pred_i = i] / (1 + n_pred(i)),
    where n_pred(i) counts queries whose neighbour is i. Resampling these shares
    (collisions fixed by the full-corpus mining) keeps the point estimate exact;
    recomputing F1 on a resample instead is biased upwards, because labels absent
    from the resample stop paying for wrong neighbours.
    """
    predicted = np.bincount(pred, minlength=pred.size)[: pred.size]
    hits = pred == np.arange(pred.size)
    return np.where(hits, 2.0 / (1.0 + predicted), 0.0)


def bitext_interval(predictions: list[dict], resamples: int, *, seed: int = 0) -> tuple[float, float, float]:
    """(f1, low, high) for one bitext subset from mteb's nearest-neighbour predictions (gold = identity)."""
    pred = np.array([p["corpus_id"] for p in predictions], dtype=np.int64)
    shares = bitext_contributions(pred)
    low, high = bootstrap_interval(lambda idx: float(shares[idx].mean()), pred.size, resamples, seed=seed)
    return float(shares.mean()), low, high


def sts_interval(
    similarities: list[float], gold: list[float], resamples: int, *, seed: int = 0
) -> tuple[float, float, float]:
    """(Spearman, low, high) between model similarities and gold scores, resampling sentence pairs."""
    sims, gold_arr = np.asarray(similarities, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    point = float(spearmanr(gold_arr, sims)[0])
    def statistic(idx: np.ndarray) -> float:
        return float(spearmanr(gold_arr[idx], sims[idx])[0])

    low, high = bootstrap_interval(statistic, sims.size, resamples, seed=seed)
    return point, low, high


def accuracy_interval(
    experiments: list[list[int]], gold: list[int], resamples: int, *, seed: int = 0
) -> tuple[float, float, float]:
    """(accuracy, low, high) averaged over mteb's classifier experiments, resampling test examples."""
    shares = (np.asarray(experiments) == np.asarray(gold)[None, :]).mean(axis=0)  # per example, over experiments
    low, high = bootstrap_interval(lambda idx: float(shares[idx].mean()), shares.size, resamples, seed=seed)
    return float(shares.mean()), low, high


def mean_interval(values: list[float], resamples: int, *, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of per-run scores (mteb's clustering runs), resampling the runs."""
    runs = np.asarray(values, dtype=np.float64)
    low, high = bootstrap_interval(lambda idx: float(runs[idx].mean()), runs.size, resamples, seed=seed)
    return float(runs.mean()), low, high
