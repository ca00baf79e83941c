"""NLLB-200 and M2M100 through CTranslate2: the fast engine for the paper profile's translation stage.

The Hugging Face checkpoint is converted once into the models folder
(``<models dir>/ct2/<name>-<revision>-<quantisation>``, written to a temporary
folder and renamed) and reused. Quantisation follows the device: int8 on CPU,
bfloat16 on CUDA where the GPU supports it, else float16. The tokenizer is the
checkpoint's own, and the language is given as for ``generate`` (NLLB: the
source language token from the tokenizer, the target token as the first
decoded token, here a per-example *target prefix*), so greedy outputs equal the
``hf`` backend's on the same model. CTranslate2 sorts each call's sentences by
length and packs them into batches of at most ``max_batch_tokens`` tokens.
:meth:`CT2Backend.translate_targets` puts several target languages into one
call, one prefix per example.

The SQLite cache and torchrun sharding are those of every backend
(:func:`mwalign.corpus.translate.translate_cached`).
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

from mwalign import atomic, hub
from mwalign.corpus.backends.base import BackendError, Translation
from mwalign.corpus.backends.hf import HFBackend
from mwalign.corpus.text import flatten

_CPU_TYPES = ("int8", "int8_float32", "float32")
_CUDA_TYPES = ("bfloat16", "float16", "int8_float16", "float32")


class CT2Backend(HFBackend):
    """Seq2seq translation with a CTranslate2 ``Translator``; ``dtype`` is a CTranslate2 compute type or ``auto``."""

    name = "ct2"

    def __init__(self, model: str, batch_size: int = 32, max_new_tokens: int = 256, num_beams: int = 1,
                 dtype: str = "auto", device: str | None = None, max_batch_tokens: int = 4096,
                 models_dir: str | Path | None = None) -> None:  # fmt: skip
        super().__init__(model, batch_size=batch_size, max_new_tokens=max_new_tokens, num_beams=num_beams,
                         dtype=dtype, device=device)
        self.max_batch_tokens = max_batch_tokens
        self.models_dir = Path(models_dir) if models_dir else None

    @cached_property
    def _ct2(self) -> Any:
        try:
            import ctranslate2
        except ImportError:
            raise BackendError("corpus.backend=ct2 needs CTranslate2: pip install ctranslate2") from None
        return ctranslate2

    @cached_property
    def resolved_dtype(self) -> str:
        device = "cuda" if self._device.startswith("cuda") else "cpu"
        supported = self._ct2.get_supported_compute_types(device)
        if self.dtype_name != "auto":
            if self.dtype_name not in supported:
                raise BackendError(f"corpus.backend=ct2: compute type {self.dtype_name!r} is not supported on "
                                   f"{device}; supported: {', '.join(sorted(supported))}")
            return self.dtype_name
        preference = _CUDA_TYPES if device == "cuda" else _CPU_TYPES
        return next(kind for kind in preference if kind in supported)

    @cached_property
    def version(self) -> str:
        return f"{self._revision}:{self.resolved_dtype}:beams{self.num_beams}:ct2-{self._ct2.__version__}"

    @cached_property
    def _checkpoint(self) -> Path:
        """The HF checkpoint as a local folder (a hub id is resolved to its downloaded snapshot)."""
        path = Path(self.model_name).expanduser()
        if path.is_dir():
            return path
        from huggingface_hub import snapshot_download

        if problem := hub.unavailable_reason():
            raise BackendError(f"corpus.hf_model={self.model_name}: {problem}; point corpus.hf_model at a local "
                               "model folder")
        return Path(snapshot_download(self.model_name))

    @cached_property
    def _revision(self) -> str:
        if Path(self.model_name).expanduser().is_dir():
            return super()._revision
        return self._checkpoint.name  # a snapshot folder is named by its commit hash

    @cached_property
    def converted(self) -> Path:
        """The CTranslate2 model folder, converted on first use."""
        from mwalign.config import models_dir

        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", self.model_name.strip("/")).strip("-")[-80:]
        target = (self.models_dir or models_dir()) / "ct2" / f"{slug}-{self._revision}-{self.resolved_dtype}"
        if (target / "model.bin").is_file():
            return target
        from ctranslate2.converters import TransformersConverter

        converter = TransformersConverter(str(self._checkpoint))
        try:
            with atomic.atomic_dir(target) as partial:
                converter.convert(str(partial), quantization=self.resolved_dtype, force=True)
        except (ValueError, NotImplementedError, OSError) as err:  # unsupported architecture or unreadable files
            raise BackendError(f"corpus.hf_model={self.model_name}: CTranslate2 cannot convert it ({err})") from None
        return target

    @cached_property
    def _translator(self) -> Any:
        device = "cuda" if self._device.startswith("cuda") else "cpu"
        index = int(self._device.split(":")[1]) if ":" in self._device else 0
        return self._ct2.Translator(str(self.converted), device=device, device_index=index,
                                    compute_type=self.resolved_dtype)

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        return self.translate_targets(texts, src, [tgt])[tgt]

    def translate_targets(self, texts: list[str], src: str, targets: list[str]) -> dict[str, list[Translation]]:
        """Translate ``texts`` into every language of ``targets`` in one CTranslate2 call (a prefix per example)."""
        codes = {tgt: self.language_codes(src, tgt, where=f"{self.name} backend") for tgt in targets}
        sources, prefixes = [], []
        for tgt in targets:
            tokens = self._source_tokens([codes[tgt]["prefix"] + flatten(text) for text in texts], codes[tgt])
            forced = codes[tgt]["forced_bos"]
            first = self._tokenizer.convert_ids_to_tokens([forced]) if forced is not None else None
            sources.extend(tokens)
            prefixes.extend([first] * len(texts))
        results = self._translator.translate_batch(
            sources, target_prefix=prefixes if any(prefixes) else None, beam_size=self.num_beams,
            max_decoding_length=self.max_new_tokens, max_batch_size=self.max_batch_tokens, batch_type="tokens",
        )
        decoded = [self._decode(result.hypotheses[0]) for result in results]
        return {tgt: [Translation(flatten(text) or None) for text in decoded[i * len(texts):(i + 1) * len(texts)]]
                for i, tgt in enumerate(targets)}

    def _source_tokens(self, batch: list[str], codes: dict[str, Any]) -> list[list[str]]:
        tokenizer = self._tokenizer
        if codes["src_lang"] is not None and hasattr(tokenizer, "src_lang"):
            tokenizer.src_lang = codes["src_lang"]
        ids = tokenizer(batch, truncation=True)["input_ids"]
        return [tokenizer.convert_ids_to_tokens(row) for row in ids]

    def _decode(self, tokens: list[str]) -> str:
        return self._tokenizer.decode(self._tokenizer.convert_tokens_to_ids(tokens), skip_special_tokens=True)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "engine": f"ctranslate2 {self._ct2.__version__}"}
