"""Fixtures for the corpus stage: a real (small) Apertium corpus and a word-level test backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mwalign.config import RunConfig
from mwalign.corpus.backends.base import Translation, TranslationBackend


class SuffixBackend(TranslationBackend):
    """A deterministic real backend for tests: appends the target code to every word and counts calls.

    ``fail_on_call`` makes the n-th call raise, like a model that crashes mid-corpus.
    """

    name = "suffix"

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    @property
    def model_id(self) -> str:
        return "suffix-model"

    @property
    def version(self) -> str:
        return "1"

    def pairs(self) -> None:
        return None

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        self.calls.append(list(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise RuntimeError("simulated crash")
        return [Translation(" ".join(f"{w}_{tgt}" for w in t.split())) for t in texts]


@pytest.fixture
def suffix_backend_cls() -> type[SuffixBackend]:
    return SuffixBackend


@pytest.fixture
def make_config():
    return small_config


def small_config(**corpus: object) -> RunConfig:
    """A smoke-like profile cut down to 3 direct Apertium pairs so a build takes a few seconds."""
    settings = {"source": "gensim-lee", "n_roots": 40, "pool": ["spa", "cat", "epo"], "k": 3, "seed": 0}
    settings.update(corpus)
    return RunConfig.model_validate({"name": "corpus-test", "corpus": settings})


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunConfig, Path, dict]:
    """One real corpus build shared by the read-only tests (Apertium, 40 gensim-lee roots)."""
    if shutil.which("apertium") is None:
        pytest.skip("apt-get install apertium (make env)")
    from mwalign.corpus import run_corpus_stage

    cfg = small_config(cache_path=str(tmp_path_factory.mktemp("cache") / "shared.sqlite"))
    run_dir = tmp_path_factory.mktemp("run")
    return cfg, run_dir, run_corpus_stage(cfg, run_dir, progress=False)
