"""Fixtures for the training tests: real NTREX sentences and a tiny randomly initialised BERT encoder."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer
from transformers import BertTokenizerFast

from mwalign.config import data_dir
from tests.tiny_bert import tiny_bert

FIXTURE_LANGUAGES = ["eng", "spa", "fra", "deu"]
_NTREX_FILES = {"eng": "newstest2019-src.eng.txt", "spa": "newstest2019-ref.spa.txt",
                "fra": "newstest2019-ref.fra.txt", "deu": "newstest2019-ref.deu.txt"}


def ntrex_lines(n: int, skip: int = 0) -> dict[str, list[str]]:
    """The first ``n`` aligned NTREX-128 lines (after ``skip``) per fixture language, CRLF stripped."""
    folder = data_dir() / "ntrex128" / "NTREX-128"
    if not folder.is_dir():
        pytest.skip(f"{folder}: NTREX-128 mirror not found (set MWALIGN_DATA_DIR)")
    lines = {}
    for code, name in _NTREX_FILES.items():
        text = (folder / name).read_text(encoding="utf-8").splitlines()
        lines[code] = [line.strip() for line in text[skip : skip + n]]
    return lines


def corpus_frame(lines: dict[str, list[str]], languages: list[str], prefix: str = "r") -> pd.DataFrame:
    """Rows in the corpus schema (root_id, languages, sentences) with the given languages per row."""
    n = len(lines["eng"])
    return pd.DataFrame({
        "root_id": [f"{prefix}{i:03d}" for i in range(n)],
        "languages": [list(languages) for _ in range(n)],
        "sentences": [[lines[code][i] for code in languages] for i in range(n)],
    })


def build_tiny_model(folder: Path, texts: list[str], seed: int = 0) -> SentenceTransformer:
    """A 2-layer, 32-dim BERT with a word-level WordPiece vocabulary built from ``texts``, as ST model."""
    words = Counter(w for text in texts for w in _basic_words(text))
    chars = sorted({c for text in texts for c in text if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    vocab += [w for w, _ in words.most_common(400) if w not in set(vocab)]
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=False)
    return tiny_bert(folder, tokenizer, seed)


def _basic_words(text: str) -> list[str]:
    return [w.strip(".,;:!?'\"()") for w in text.split() if w.strip(".,;:!?'\"()")]


@pytest.fixture(scope="session")
def fixture_lines() -> dict[str, list[str]]:
    """24 aligned NTREX lines in eng/spa/fra/deu (16 for training, 8 held out for dev)."""
    return ntrex_lines(24)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, fixture_lines) -> Path:
    """A saved tiny ST model folder (session-scoped; tests copy or load it)."""
    folder = tmp_path_factory.mktemp("tiny-model")
    texts = [t for code in FIXTURE_LANGUAGES for t in fixture_lines[code]]
    model = build_tiny_model(folder, texts)
    model.save(str(folder / "st"))
    return folder / "st"


@pytest.fixture()
def tiny_model(tiny_model_dir) -> SentenceTransformer:
    """A fresh copy of the tiny model for a test that trains it."""
    return SentenceTransformer(str(tiny_model_dir), device="cpu")


@pytest.fixture()
def run_dir(tmp_path, fixture_lines) -> Path:
    """A run directory with corpus/{multiway,bilingual,dev,translations}.parquet and a manifest."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    train = {code: lines[:16] for code, lines in fixture_lines.items()}
    dev = {code: lines[16:] for code, lines in fixture_lines.items()}
    corpus_frame(train, FIXTURE_LANGUAGES).to_parquet(corpus / "multiway.parquet")
    bilingual = corpus_frame(train, ["eng", "spa"])
    bilingual["languages"] = [["eng", ["spa", "fra", "deu"][i % 3]] for i in range(len(bilingual))]
    bilingual["sentences"] = [[train["eng"][i], train[langs[1]][i]] for i, langs in enumerate(bilingual["languages"])]
    bilingual.to_parquet(corpus / "bilingual.parquet")
    corpus_frame(dev, FIXTURE_LANGUAGES, prefix="d").to_parquet(corpus / "dev.parquet")
    wide = pd.DataFrame({"root_id": [f"r{i:03d}" for i in range(16)], **{c: train[c] for c in FIXTURE_LANGUAGES}})
    wide.to_parquet(corpus / "translations.parquet")
    (corpus / "manifest.json").write_text('{"content_hash": "fixture0123456789"}', encoding="utf-8")
    return tmp_path


@pytest.fixture()
def copy_model(tmp_path, tiny_model_dir):
    """Copy the tiny model to a path (so a stage can load it by path)."""
    def _copy(name: str = "tiny") -> Path:
        target = tmp_path / "models-src" / name
        shutil.copytree(tiny_model_dir, target)
        return target
    return _copy
