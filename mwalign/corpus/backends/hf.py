"""Any transformers seq2seq MT model (NLLB-200, M2M100, opus-mt) by hub id or local path.

The language-code convention is read from the tokenizer's vocabulary, so one
backend covers the families: NLLB/FLORES tokens (``spa_Latn``, forced as the
first generated token), M2M100 tokens (``__es__``), multi-target Marian
prefixes (``>>spa<<`` or ``>>es<<`` prepended to the source) and single-pair
models (no code at all). Batches are sorted by length to cut padding, and the
model runs under bf16 autocast on CPUs that support it (fp16 on CUDA); the dtype
is part of the cache key because it changes the output. Under ``torchrun`` the
corpus builder gives each rank its own shard (see :mod:`mwalign.corpus.translate`).
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any

from mwalign import hub, languages
from mwalign.devices import autocast, cpu_has_bf16, resolve_device
from mwalign.corpus.backends.base import BackendError, Translation, TranslationBackend
from mwalign.corpus.text import flatten


class HFBackend(TranslationBackend):
    """Seq2seq translation with ``AutoModelForSeq2SeqLM``; ``dtype`` is ``auto`` (bf16/fp16 where supported)."""

    name = "hf"

    def __init__(self, model: str, batch_size: int = 32, max_new_tokens: int = 256, num_beams: int = 1,
                 dtype: str = "auto", device: str | None = None) -> None:  # fmt: skip
        self.model_name = model
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.dtype_name = dtype
        self.device = device

    @property
    def model_id(self) -> str:
        return self.model_name

    @cached_property
    def version(self) -> str:
        return f"{self._revision}:{self.resolved_dtype}:beams{self.num_beams}"

    @cached_property
    def _revision(self) -> str:
        """Hub commit hash, or a hash of a local folder's config and weight file sizes."""
        path = Path(self.model_name).expanduser()
        if path.is_dir():
            digest = hashlib.sha256((path / "config.json").read_bytes() if (path / "config.json").is_file() else b"")
            for file in sorted(path.iterdir()):
                digest.update(f"{file.name}:{file.stat().st_size}".encode())
            return "local-" + digest.hexdigest()[:12]
        return getattr(self._model.config, "_commit_hash", None) or "unknown"

    @cached_property
    def resolved_dtype(self) -> str:
        if self.dtype_name != "auto":
            return self.dtype_name
        import torch

        if self._device.startswith("cuda"):
            return "fp16"
        return "bf16" if torch.backends.mkldnn.is_available() and cpu_has_bf16() else "fp32"

    @cached_property
    def _device(self) -> str:
        """The ``device`` given (the run's ``device`` setting), resolved; ``None`` means ``auto``."""
        return str(resolve_device(self.device, where="device"))

    @cached_property
    def _tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        return _load(AutoTokenizer, self.model_name)

    @cached_property
    def _model(self) -> Any:
        from transformers import AutoModelForSeq2SeqLM

        model = _load(AutoModelForSeq2SeqLM, self.model_name)
        return model.to(self._device).eval()

    def pairs(self) -> set[tuple[str, str]] | None:
        return None  # decided per pair by the vocabulary, in check_pair

    def check_pair(self, src: str, tgt: str, *, where: str = "corpus.pool") -> None:
        super().check_pair(src, tgt, where=where)
        self.language_codes(src, tgt, where=where)

    def language_codes(self, src: str, tgt: str, *, where: str = "corpus.pool") -> dict[str, Any]:
        """How this model is told the pair: ``{"src_lang", "forced_bos", "prefix"}`` (any may be None)."""
        vocab = self._tokenizer.get_vocab()
        source, target = languages.get(src, where=where), languages.get(tgt, where=where)
        iso1 = target.iso639_1
        if source.flores in vocab or target.flores in vocab:  # NLLB / FLORES-200 codes
            return self._forced(vocab, source.flores, target.flores, where)
        if f"__{source.iso639_1}__" in vocab:  # M2M100
            return self._forced(vocab, source.iso639_1, f"__{iso1}__", where)
        for prefix in (f">>{tgt}<<", f">>{iso1}<<"):  # multi-target Marian (opus-mt-en-ROMANCE, -en-mul)
            if prefix in vocab:
                return {"src_lang": None, "forced_bos": None, "prefix": prefix + " "}
        if any(token.startswith(">>") and token.endswith("<<") for token in vocab):
            raise BackendError(f"{where}: model {self.model_name} has no target token for {tgt}")
        return {"src_lang": None, "forced_bos": None, "prefix": ""}  # a single-pair model such as opus-mt-en-es

    def _forced(self, vocab: dict[str, int], src_code: str | None, tgt_token: str, where: str) -> dict[str, Any]:
        if tgt_token not in vocab:
            raise BackendError(f"{where}: model {self.model_name} has no language token {tgt_token!r}")
        return {"src_lang": src_code, "forced_bos": vocab[tgt_token], "prefix": ""}

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        codes = self.language_codes(src, tgt)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[str] = [""] * len(texts)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            for i, text in zip(idx, self._generate([codes["prefix"] + flatten(texts[i]) for i in idx], codes)):
                out[i] = text
        return [Translation(flatten(t) or None) for t in out]

    def _generate(self, batch: list[str], codes: dict[str, Any]) -> list[str]:
        import torch

        tokenizer = self._tokenizer
        if codes["src_lang"] is not None and hasattr(tokenizer, "src_lang"):
            tokenizer.src_lang = codes["src_lang"]
        enc = tokenizer(batch, return_tensors="pt", padding=True, truncation=True).to(self._device)
        kwargs = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams}
        if codes["forced_bos"] is not None:
            kwargs["forced_bos_token_id"] = codes["forced_bos"]
        with torch.inference_mode(), self._autocast():
            generated = self._model.generate(**enc, **kwargs)  # (batch, out_len)
        return tokenizer.batch_decode(generated, skip_special_tokens=True)

    def _autocast(self):
        return autocast(self._device, self.resolved_dtype)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "dtype": self.resolved_dtype, "num_beams": self.num_beams}


def _load(factory: Any, name: str) -> Any:
    """Load locally first; reach for the hub only if needed, and fail in one line when it is unreachable."""
    try:
        return factory.from_pretrained(name, local_files_only=True)
    except OSError:
        if Path(name).expanduser().exists():
            raise BackendError(f"corpus.hf_model={name}: local folder is not a loadable seq2seq model") from None
    if problem := hub.unavailable_reason():
        raise BackendError(f"corpus.hf_model={name}: {problem}; point corpus.hf_model at a local model folder")
    return factory.from_pretrained(name)
