"""Forward passes shared by the training step, the dev metric and the drift cache (one code path, one dtype).

Features go to the model's device and autocast follows it (:mod:`mwalign.devices`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mwalign.devices import autocast, autocast_dtype, module_device, to_device


def effective_dtype(requested: str, device: torch.device | str = "cpu") -> str:
    """The dtype that runs on ``device`` for ``training.dtype`` (recorded in index.json and the model card)."""
    if requested not in ("bf16", "fp32"):
        raise ValueError(f"training.dtype={requested!r}: expected 'bf16' or 'fp32'")
    return autocast_dtype(device, requested, where="training.dtype")


def forward_embeddings(model: nn.Module, texts: list[str], dtype: str) -> Tensor:
    """Tokenise and embed ``texts`` in one forward pass on the model's device (with grad if enabled); (N, d) fp32."""
    device = module_device(model)
    features = to_device(model.preprocess(texts), device)
    with autocast(device, dtype):
        embeddings = model(features)["sentence_embedding"]  # (N, d)
    return embeddings.float()


@torch.no_grad()
def embed_texts(model: nn.Module, texts: list[str], dtype: str, batch_size: int = 64) -> Tensor:
    """Inference embeddings in eval mode, length-sorted chunks for less padding; (N, d) float32."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(0, device=module_device(model))
    chunks = []
    for start in range(0, len(order), batch_size):
        chunk = [texts[i] for i in order[start : start + batch_size]]
        chunks.append(forward_embeddings(model, chunk, dtype))
    if chunks:
        out = torch.cat(chunks)
        out = out[torch.argsort(torch.tensor(order, device=out.device))]
    model.train(was_training)
    return out
