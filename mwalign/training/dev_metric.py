"""Early-stopping metric: bitext-mining accuracy on held-out multi-way rows."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from mwalign.training.data import RowTable
from mwalign.training.encoding import embed_texts


def bitext_accuracy(model: nn.Module, dev: RowTable, *, dtype: str, prompt: str | None = None,
                    batch_size: int = 64) -> float:
    """Nearest-neighbour retrieval accuracy averaged over ordered language pairs of the dev rows.

    For each ordered pair (a, b) of languages present together in >= 2 dev rows, every a-sentence
    retrieves its cosine nearest neighbour among those rows' b-sentences; accuracy = share retrieved
    correctly. Every sentence is embedded once.
    """
    texts = [f"{prompt}{s}" if prompt else s for s in dev.all_sentences]
    embeddings = F.normalize(embed_texts(model, texts, dtype, batch_size), dim=-1)  # (S, d)
    position: dict[tuple[int, str], int] = {}
    for row, (offset, codes) in enumerate(zip(dev.offsets, dev.languages)):
        for j, code in enumerate(codes):
            position[(row, code)] = offset + j
    codes = sorted({code for row in dev.languages for code in row})
    scores = []
    for source, target in itertools.permutations(codes, 2):
        rows = [r for r in range(len(dev)) if (r, source) in position and (r, target) in position]
        if len(rows) < 2:
            continue
        queries = embeddings[[position[(r, source)] for r in rows]]  # (R, d)
        candidates = embeddings[[position[(r, target)] for r in rows]]  # (R, d)
        hits = (queries @ candidates.T).argmax(dim=1) == torch.arange(len(rows))  # (R,)
        scores.append(hits.float().mean().item())
    if not scores:
        raise ValueError(f"{dev.source}: no language pair shared by >= 2 dev rows; raise corpus.dev_fraction")
    return float(sum(scores) / len(scores))
