"""Forward passes shared by the training step, the dev metric and the drift cache (one code path, one dtype).

Features go to the model's device and autocast follows it (:mod:`mwalign.devices`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from mwalign.devices import autocast, autocast_dtype, module_device, to_device


def effective_dtype(requested: str, device: torch.device | str = "cpu") -> str:
    """The dtype that runs on ``device`` for ``training.dtype`` (recorded in index.json and the model card)."""
    if requested not in ("bf16", "fp32"):
        raise ValueError(f"training.dtype={requested!r}: expected 'bf16' or 'fp32'")
    return autocast_dtype(device, requested, where="training.dtype")


def forward_embeddings(model: nn.Module, texts: list[str], dtype: str) -> Tensor:
    """Tokenise and embed ``texts`` in one forward pass on the model's device (with grad if enabled); (N, d) fp32."""
    return forward_features(model, model.preprocess(texts), dtype)


def forward_features(model: nn.Module, features: dict, dtype: str) -> Tensor:
    """Embed already tokenised ``features`` (a ``model.preprocess`` dict); (N, d) fp32."""
    device = module_device(model)
    features = to_device(features, device)
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


class TokenCache:
    """Every training sentence tokenised once per run; a batch's features are its rows padded together.

    ``features(ids)`` equals ``model.preprocess([texts[i] for i in ids])`` (same truncation, right padding
    to the batch's longest sentence, same keys; tested), so steps stay bit-identical while the tokenizer
    runs once instead of every step. ``lengths[i]`` is sentence i's token count (for length grouping).
    """

    KEYS = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(self, model: nn.Module, texts: Sequence[str], *, chunk: int = 1024):
        tokenizer = model[0].tokenizer
        if tokenizer.padding_side != "right":
            raise ValueError(f"TokenCache: {type(tokenizer).__name__} pads on the {tokenizer.padding_side}; "
                             "only right padding can be rebuilt per batch")
        self.pad_id = tokenizer.pad_token_id
        self.rows: dict[str, list[Tensor]] = {}
        self.lengths: list[int] = []
        for start in range(0, len(texts), chunk):
            features = model.preprocess(list(texts[start : start + chunk]))
            kept = [k for k in self.KEYS if k in features]
            extra = set(features) - set(self.KEYS) - {"modality"}
            if extra:
                raise ValueError(f"TokenCache: the model's features carry {sorted(extra)}, which it cannot rebuild")
            lengths = features["attention_mask"].sum(dim=1).tolist()
            for key in kept:
                self.rows.setdefault(key, []).extend(row[:n].clone() for row, n in zip(features[key], lengths))
            self.lengths.extend(lengths)

    def features(self, ids: Sequence[int]) -> dict:
        """The padded features of sentences ``ids`` (global sentence ids), as ``model.preprocess`` returns."""
        pads = {"input_ids": self.pad_id, "token_type_ids": 0, "attention_mask": 0}
        out: dict = {key: pad_sequence([rows[i] for i in ids], batch_first=True, padding_value=pads[key])
                     for key, rows in self.rows.items()}
        out["modality"] = "text"
        return out
