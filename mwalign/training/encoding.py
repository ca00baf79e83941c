"""Forward passes shared by the training step, the dev metric and the drift cache (one code path, one dtype)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor, nn


def bf16_supported() -> bool:
    """True if this CPU has native bf16 matmuls (AVX512-BF16 or AMX), where autocast pays off."""
    cpu = torch.cpu
    return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                or getattr(cpu, "_is_amx_tile_supported", lambda: False)())


def effective_dtype(requested: str) -> str:
    """``"bf16"`` if requested and supported, else ``"fp32"`` (recorded in index.json and the model card)."""
    if requested not in ("bf16", "fp32"):
        raise ValueError(f"training.dtype={requested!r}: expected 'bf16' or 'fp32'")
    return "bf16" if requested == "bf16" and bf16_supported() else "fp32"


@contextlib.contextmanager
def autocast(dtype: str) -> Iterator[None]:
    """bf16 autocast on CPU for the forward pass; a no-op for fp32."""
    if dtype == "bf16":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield
    else:
        yield


def forward_embeddings(model: nn.Module, texts: list[str], dtype: str) -> Tensor:
    """Tokenise and embed ``texts`` in one forward pass (with grad if enabled); (N, d) float32."""
    features = model.preprocess(texts)
    with autocast(dtype):
        embeddings = model(features)["sentence_embedding"]  # (N, d)
    return embeddings.float()


@torch.no_grad()
def embed_texts(model: nn.Module, texts: list[str], dtype: str, batch_size: int = 64) -> Tensor:
    """Inference embeddings in eval mode, length-sorted chunks for less padding; (N, d) float32."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(0)
    chunks = []
    for start in range(0, len(order), batch_size):
        chunk = [texts[i] for i in order[start : start + batch_size]]
        chunks.append(forward_embeddings(model, chunk, dtype))
    if chunks:
        out = torch.cat(chunks)
        out = out[torch.argsort(torch.tensor(order))]
    model.train(was_training)
    return out
