"""Dev metrics for model selection and early stopping, computed on held-out multi-way rows.

Two metrics (``training.dev_metric``):

* ``pair-accuracy``: for each ordered language pair, every sentence retrieves its nearest neighbour among the
  dev rows' sentences in the other language; the share retrieved correctly, averaged over pairs. With a few
  hundred candidates per pair a trained encoder scores 0.99+, so it rarely separates two checkpoints.
* ``all-language-mrr``: every dev sentence is a query against **all** other dev sentences of every language
  (the sentences of its own language included, X-Y pairs included); for each of its translations the
  reciprocal rank of that translation among the sentences of other rows; averaged per row, then over rows.
  The candidate set is the whole dev set (thousands of sentences), and a same-language neighbour outranking
  the translation costs rank, so the metric keeps moving after retrieval per pair has saturated.

Both return a :class:`DevScore`: the value, its standard error over dev rows (the sd of the per-row
values over the square root of their count) and the per-row values. Two checkpoints are scored on the
same rows, so whether they differ by more than the dev sample's noise is a paired question:
:func:`paired_difference` gives the difference and the standard error of the per-row differences, which is
far smaller than either score's own standard error when the rows' difficulty dominates their spread.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from mwalign.training.data import RowTable
from mwalign.training.encoding import embed_texts

DevMetric = Literal["pair-accuracy", "all-language-mrr"]
DEV_METRICS: tuple[str, ...] = ("pair-accuracy", "all-language-mrr")
QUERY_CHUNK = 1024  # queries scored at once against every dev sentence: (chunk, S) similarities in memory


@dataclass(frozen=True)
class DevScore:
    """A dev metric's value (mean over rows), its standard error over rows (None below 2 rows) and the
    per-row values (NaN for a row that takes part in no pair), in dev-row order."""

    value: float
    se: float | None
    rows: int
    per_row: tuple[float, ...] = field(default=(), repr=False, compare=False)


def paired_difference(current: Sequence[float], reference: Sequence[float]) -> tuple[float, float | None]:
    """Mean per-row difference ``current - reference`` over rows scored in both, and its standard error.

    The inputs are two :attr:`DevScore.per_row` of one dev set; a length mismatch is an error (they were
    scored on different rows and cannot be paired). The SE is None below two shared rows.
    """
    if len(current) != len(reference):
        raise ValueError(f"paired dev difference: {len(current)} rows against {len(reference)}; "
                         "the two scores come from different dev sets")
    a = torch.tensor([math.nan if v is None else v for v in current], dtype=torch.float64)
    b = torch.tensor([math.nan if v is None else v for v in reference], dtype=torch.float64)
    diff = (a - b)[~(a.isnan() | b.isnan())]
    if len(diff) == 0:
        raise ValueError("paired dev difference: no dev row is scored in both")
    se = float(diff.std() / math.sqrt(len(diff))) if len(diff) > 1 else None
    return float(diff.mean()), se


def dev_score(model: nn.Module, dev: RowTable, metric: DevMetric, *, dtype: str, prompt: str | None = None,
              batch_size: int = 64) -> DevScore:
    """``metric`` (one of :data:`DEV_METRICS`) of ``model`` on ``dev``; every sentence is embedded once."""
    if metric not in DEV_METRICS:
        raise ValueError(f"training.dev_metric: {metric!r} is not one of {', '.join(DEV_METRICS)}")
    texts = [f"{prompt}{s}" if prompt else s for s in dev.all_sentences]
    embeddings = F.normalize(embed_texts(model, texts, dtype, batch_size).float(), dim=-1)  # (S, d)
    if metric == "pair-accuracy":  # the value stays the mean over pairs; rows give its standard error
        scores = _pair_scores(embeddings, dev)
        return _summary(_per_row_hits(scores, len(dev)), dev, value=_mean_over_pairs(scores))
    return _summary(_all_language_mrr(embeddings, dev), dev)


def bitext_accuracy(model: nn.Module, dev: RowTable, *, dtype: str, prompt: str | None = None,
                    batch_size: int = 64) -> float:
    """The ``pair-accuracy`` value: mean retrieval accuracy over ordered language pairs (module docstring)."""
    texts = [f"{prompt}{s}" if prompt else s for s in dev.all_sentences]
    embeddings = F.normalize(embed_texts(model, texts, dtype, batch_size).float(), dim=-1)
    return _mean_over_pairs(_pair_scores(embeddings, dev))


def _mean_over_pairs(scores: list[tuple[list[int], torch.Tensor]]) -> float:
    return float(sum(hits.mean().item() for _, hits in scores) / len(scores))


def _positions(dev: RowTable) -> dict[tuple[int, str], int]:
    return {(row, code): offset + j for row, (offset, codes) in enumerate(zip(dev.offsets, dev.languages))
            for j, code in enumerate(codes)}


def _pair_scores(embeddings: torch.Tensor, dev: RowTable) -> list[tuple[list[int], torch.Tensor]]:
    """Per ordered pair shared by >= 2 rows: the rows and whether each row's query retrieved its translation."""
    position = _positions(dev)
    codes = sorted({code for row in dev.languages for code in row})
    scores = []
    for source, target in itertools.permutations(codes, 2):
        rows = [r for r in range(len(dev)) if (r, source) in position and (r, target) in position]
        if len(rows) < 2:
            continue
        queries = embeddings[[position[(r, source)] for r in rows]]  # (R, d)
        candidates = embeddings[[position[(r, target)] for r in rows]]  # (R, d)
        scores.append((rows, ((queries @ candidates.T).argmax(dim=1) == torch.arange(len(rows))).float()))
    if not scores:
        raise ValueError(f"{dev.source}: no language pair shared by >= 2 dev rows; raise corpus.dev_fraction")
    return scores


def _per_row_hits(scores: list[tuple[list[int], torch.Tensor]], n_rows: int) -> torch.Tensor:
    """Per row: its hits averaged over the ordered pairs it takes part in (NaN for a row in none)."""
    total, count = torch.zeros(n_rows), torch.zeros(n_rows)
    for rows, hits in scores:
        index = torch.tensor(rows)
        total.index_add_(0, index, hits)
        count.index_add_(0, index, torch.ones(len(rows)))
    return total / count


def _all_language_mrr(embeddings: torch.Tensor, dev: RowTable) -> torch.Tensor:
    """Per row: the mean reciprocal rank of each of its sentences' translations among all other rows' sentences."""
    if len(dev) < 2:
        raise ValueError(f"{dev.source}: {len(dev)} dev row; all-language retrieval needs >= 2, "
                         "raise corpus.dev_fraction")
    row_of = torch.tensor([r for r, row in enumerate(dev.sentences) for _ in row])  # (S,)
    offsets = torch.tensor(dev.offsets)
    sizes = torch.tensor([len(row) for row in dev.sentences])
    width = int(sizes.max())
    total, count = torch.zeros(len(dev)), torch.zeros(len(dev))
    for start in range(0, len(row_of), QUERY_CHUNK):
        query_rows = row_of[start:start + QUERY_CHUNK]  # (C,)
        sims = embeddings[start:start + QUERY_CHUNK] @ embeddings.T  # (C, S)
        negatives = query_rows[:, None] != row_of[None, :]  # (C, S): sentences of other rows
        for slot in range(width):  # the slot-th sentence of the query's row, when it is not the query itself
            target = offsets[query_rows] + slot  # (C,)
            valid = (slot < sizes[query_rows]) & (target != torch.arange(start, start + len(query_rows)))
            positive = sims.gather(1, target.clamp(max=len(row_of) - 1)[:, None])  # (C, 1)
            rank = 1 + ((sims > positive) & negatives).sum(dim=1)  # (C,)
            total.index_add_(0, query_rows, torch.where(valid, 1.0 / rank, 0.0))
            count.index_add_(0, query_rows, valid.float())
    return total / count


def _summary(per_row: torch.Tensor, dev: RowTable, value: float | None = None) -> DevScore:
    """The mean of the per-row values (or ``value``) with their standard error."""
    values = per_row[~per_row.isnan()].double()
    if len(values) == 0:
        raise ValueError(f"{dev.source}: no dev row has two languages; raise corpus.dev_fraction")
    se = float(values.std() / math.sqrt(len(values))) if len(values) > 1 else None
    return DevScore(float(values.mean()) if value is None else value, se, len(values),
                    tuple(float(v) for v in per_row.double()))
