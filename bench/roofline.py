"""What the benches measure against: this machine's matmul peak and an encoder's FLOPs (imported as a sibling).

One copy for every bench that reports a fraction of peak (``bench_training_step``, ``bench_training_memory``,
``bench_eval``, ``bench_eval_model``): the peak is the best of a few square matmuls in ``dtype``, the ceiling an
encoder's linear layers can reach; an encoder's FLOPs are 2 x non-embedding parameters per token forward
(attention scores ignored: short sentences) and three times that for a training step.
"""

from __future__ import annotations

import time

import torch


def matmul_peak(dtype: torch.dtype = torch.bfloat16, n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of an ``n`` x ``n`` matmul in ``dtype``, best of ``repeats`` after one warm-up."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def non_embedding_params(model) -> int:
    """Parameters of a sentence-transformers model besides its input (word) embedding table."""
    embeddings = model[0].auto_model.get_input_embeddings().weight
    return sum(p.numel() for p in model.parameters()) - embeddings.numel()


def forward_flops(model, tokens: int) -> float:
    """Forward FLOPs of ``tokens`` real (unpadded) tokens through ``model``."""
    return 2.0 * non_embedding_params(model) * tokens
