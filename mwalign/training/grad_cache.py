"""GradCache (Gao et al., arXiv:2101.06983) for the multi-way loss: a big contrastive batch in small memory.

1. Embed the batch in mini-batches without a graph, remembering each mini-batch's RNG states (CPU, and the
   model's CUDA device where it runs there: dropout masks are drawn on the model's device).
2. Compute the loss on the detached embeddings and backpropagate to them (gradients cached, (N, d)).
3. Re-embed each mini-batch with a graph under the same RNG state and backpropagate its cached gradient.
Loss and parameter gradients equal the plain step's (tested); peak activation memory is one mini-batch's.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mwalign.devices import module_device, rng_state, set_rng_state
from mwalign.training.encoding import forward_embeddings
from mwalign.training.losses import MultiWayContrastiveLoss


def grad_cache_backward(model: nn.Module, loss: MultiWayContrastiveLoss, texts: list[str], labels: Tensor,
                        *, mini_batch_size: int, dtype: str, scaler: torch.amp.GradScaler | None = None) -> Tensor:
    """Accumulate the batch loss's parameter gradients chunk by chunk; returns the (detached, unscaled) loss.

    With an fp16 ``scaler`` the cached embedding gradients are those of the scaled loss, so the parameter
    gradients come out scaled exactly as ``scaler.scale(loss).backward()`` would leave them.
    """
    if mini_batch_size < 1:
        raise ValueError(f"training.grad_cache_mini_batch={mini_batch_size}: must be >= 1")
    starts = list(range(0, len(texts), mini_batch_size))
    device = module_device(model)
    rng_states, chunks = [], []
    with torch.no_grad():
        for start in starts:
            rng_states.append(rng_state(device))
            chunks.append(forward_embeddings(model, texts[start : start + mini_batch_size], dtype))
    after_first_pass = rng_state(device)
    embeddings = torch.cat(chunks).requires_grad_()  # (N, d), leaf: collects dLoss/dEmbedding
    value = loss.loss_from_embeddings(embeddings, labels)
    if not torch.isfinite(value):
        return value.detach()  # the caller reports the step; no parameter gradients were touched
    (scaler.scale(value) if scaler is not None else value).backward()
    cached_grads = embeddings.grad  # (N, d)
    for start, state in zip(starts, rng_states):
        set_rng_state(state, device)  # same dropout masks as in the first pass
        chunk = forward_embeddings(model, texts[start : start + mini_batch_size], dtype)  # (n, d)
        chunk.backward(cached_grads[start : start + len(chunk)])
    set_rng_state(after_first_pass, device)
    return value.detach()
