"""The model side of evaluation: an mteb encoder with bf16 autocast, a prompt and an embedding cache.

:class:`CachingEncoder` implements mteb's ``EncoderProtocol`` so it goes
through the real ``mteb.evaluate``. It loads the sentence-transformers model
lazily: when every text is already in the :class:`EmbeddingCache` (or mteb's
ResultCache already holds the scores) the weights are never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mteb.models import ModelMeta
from mteb.models.abs_encoder import AbsEncoder
from mteb.models.model_meta import ScoringFunction

from mwalign import models
from mwalign.devices import autocast, autocast_dtype, resolve_device
from mwalign.evaluation.embedding_cache import EmbeddingCache, EncodingContext
from mwalign.prompts import DEFAULT_PROMPTS  # noqa: F401  (re-exported: evaluation.stage reads it here)

logger = logging.getLogger(__name__)


class ModelSpecError(ValueError):
    """A model argument that cannot be evaluated; the message names it."""


def resolve_model(spec: str | Path) -> Path | str:
    """A model folder (checked for weights; local names are prepared in models_dir()) or a hub id."""
    try:
        kind, target = models.resolve(spec)
        return models.prepare(target) if kind == "local" else Path(target) if kind == "path" else target
    except models.ModelError as err:  # the message names the folder or file already, or says which model
        raise ModelSpecError(str(err) if str(Path(str(spec)).expanduser()) in str(err) else f"model {spec}: {err}") \
            from None


def fingerprint(resolved: Path | str, cache_dir: Path | None = None) -> str:
    """Hash of the weights (``mwalign.models.fingerprint``); hub models are identified by their id.

    The per-file digest cache goes to ``cache_dir`` (one file per model folder), never into the model folder:
    an evaluated model is the user's, read only.
    """
    if isinstance(resolved, str):
        return hashlib.sha256(f"hub:{resolved}".encode()).hexdigest()
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"{hashlib.sha256(str(resolved).encode()).hexdigest()[:16]}.json"
    return models.fingerprint(resolved, cache_file=cache_file)


def choose_prompt(names: list[str], prompts: dict[str, str]) -> str:
    """First configured prefix whose key occurs (case-insensitively) in the model's name or base."""
    for key, prefix in prompts.items():
        if any(key.lower() in name.lower() for name in names):
            return prefix
    return ""


def load_sentence_transformer(resolved: Path | str, max_seq_length: int, device: Any = "cpu") -> Any:
    # ``encode`` always passes prompt="": the prefix comes from ``context.prompt`` alone (part of the cache key)
    return models.load(resolved, max_seq_length=max_seq_length).to(device)


def _similarity_name(resolved: Path | str) -> ScoringFunction:
    config = Path(resolved) / "config_sentence_transformers.json" if isinstance(resolved, Path) else None
    name = json.loads(config.read_text()).get("similarity_fn_name") if config and config.is_file() else None
    return ScoringFunction.from_str(name or "cosine")


def _token_lengths(model: Any, texts: list[str]) -> list[int]:
    """Each text's token count as the model will see it (truncated to its max length)."""
    encoded = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length, add_special_tokens=True)
    return [len(ids) for ids in encoded["input_ids"]]


def token_batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Indices in batches of similar token length whose padded size (rows x longest) stays within ``budget``
    tokens: short texts go many to a batch, long ones few, so every forward pass does about the same work."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    for index in order:
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(index)  # sorted longest first: the batch's first text is its longest
        else:
            batches.append([index])
    return batches


class CachingEncoder(AbsEncoder):
    """mteb encoder: prompt prefix, bf16 autocast, length-sorted batches, cached embeddings."""

    def __init__(
        self,
        resolved: Path | str,
        *,
        label: str,
        cache: EmbeddingCache,
        prompt: str = "",
        dtype: str = "bf16",
        max_seq_length: int = 128,
        batch_size: int = 64,
        loader: Callable[[], Any] | None = None,
        device: str | None = "auto",
        batch_tokens: int | None = None,
    ) -> None:
        self.resolved, self.cache, self.batch_size, self.batch_tokens = resolved, cache, batch_size, batch_tokens
        self.device = resolve_device(device, where="evaluation.device")
        self.dtype = autocast_dtype(self.device, dtype, where="evaluation.dtype")  # what runs, and is recorded
        digests = Path(cache.path).parent / "fingerprints"  # beside the embedding cache, in the results folder
        self.context = EncodingContext(fingerprint(resolved, digests), prompt, max_seq_length, self.dtype,
                                       f"tokens={batch_tokens}" if batch_tokens else "")
        self._loader = loader or (lambda: load_sentence_transformer(resolved, max_seq_length, self.device))
        self._model: Any = None
        self.encode_seconds = 0.0  # in the model's forward passes (loading the weights excluded)
        self.load_seconds = 0.0
        self.texts_encoded = 0
        self.mteb_model_meta = ModelMeta.create_empty(
            overwrites={
                "name": label if "/" in label else f"mwalign/{label}",
                "revision": self.context.fingerprint[:16],
                "similarity_fn_name": _similarity_name(resolved),
                "framework": ["Sentence Transformers", "PyTorch"],
                "experiment_kwargs": {
                    "dtype": self.dtype,
                    "max_seq_length": max_seq_length,
                    "prompt": prompt.strip().replace(" ", "_"),  # a folder name in the ResultCache
                },
            }
        )

    @property
    def model(self) -> Any:
        if self._model is None:
            start = time.perf_counter()
            self._model = self._loader()
            self.load_seconds += time.perf_counter() - start
        return self._model

    def encode(
        self, inputs: Any, *, task_metadata: Any, hf_split: str, hf_subset: str, prompt_type: Any = None, **kwargs: Any
    ) -> np.ndarray:
        """mteb entry point; one symmetric prefix for every prompt type (bitext, STS, classification)."""
        texts = [text for batch in inputs for text in batch["text"]]
        return self.embed(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings in input order; only texts missing from the cache reach the model."""
        keys = [self.context.key(text) for text in texts]
        found = self.cache.get_many(keys)
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        if missing:
            vectors = self._encode_uncached(missing)
            new_keys = [self.context.key(t) for t in missing]
            self.cache.put_many(new_keys, vectors)
            found.update(zip(new_keys, vectors, strict=True))
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        prompted = [self.context.prompt + text for text in texts]
        model = self.model
        start = time.perf_counter()
        # sentence-transformers sorts by length within one call, so passing all texts at once
        # keeps padding minimal.
        with torch.inference_mode(), autocast(self.device, self.dtype):
            # prompt="": the prefix is already in `prompted`; without it sentence-transformers adds the
            # model's default prompt (mE5: "query: ") a second time
            if self.batch_tokens is None:
                out = model.encode(prompted, prompt="", batch_size=self.batch_size, convert_to_tensor=True,
                                   show_progress_bar=False).float().cpu().numpy()
            else:
                out = np.empty((len(prompted), model.get_embedding_dimension()), dtype=np.float32)
                for batch in token_batches(_token_lengths(model, prompted), self.batch_tokens):
                    out[batch] = model.encode([prompted[i] for i in batch], prompt="", batch_size=len(batch),
                                              convert_to_tensor=True, show_progress_bar=False).float().cpu().numpy()
        self.encode_seconds += time.perf_counter() - start
        self.texts_encoded += len(texts)
        return out

