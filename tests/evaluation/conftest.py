"""Fixtures for the evaluation tests: a tiny real ST encoder and tiny mirrors in the real file formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from transformers import BertTokenizerFast

from mwalign.config import data_dir
from tests.tiny_bert import tiny_bert

# Four rows x three pairs, the real tatoeba.<xxx>-eng.{xxx,eng} layout.
TATOEBA_ROWS = {
    "spa": ["El gato duerme.", "Tengo hambre.", "¿Dónde está la estación?", "Me gusta leer libros."],
    "fra": ["Le chat dort.", "J'ai faim.", "Où est la gare ?", "J'aime lire des livres."],
    "deu": ["Die Katze schläft.", "Ich habe Hunger.", "Wo ist der Bahnhof?", "Ich lese gern Bücher."],
}
ENGLISH_ROWS = ["The cat sleeps.", "I am hungry.", "Where is the station?", "I like reading books."]


def build_tiny_encoder(folder: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-dim random BERT with a character WordPiece vocabulary, mean pooling, saved as ST folder."""
    chars = [chr(c) for c in range(33, 127)] + list("áéíóúñüöäßàèçâêîôûœ¿¡")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    model = tiny_bert(folder, tokenizer, seed)
    target = folder / "st"
    model.save(str(target))
    shutil.rmtree(folder / "hf")
    return target


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Session-scoped tiny encoder folder (reuse; copy it before changing it)."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def tiny_model_b(tmp_path_factory) -> Path:
    """A second tiny encoder with other weights (a different fingerprint)."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_model_b"), seed=1)


def write_tatoeba_mirror(root: Path) -> Path:
    folder = root / "tatoeba"
    folder.mkdir(parents=True, exist_ok=True)
    for code, rows in TATOEBA_ROWS.items():
        (folder / f"tatoeba.{code}-eng.{code}").write_text("\n".join(rows) + "\n", encoding="utf-8")
        (folder / f"tatoeba.{code}-eng.eng").write_text("\n".join(ENGLISH_ROWS) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def tiny_mirror(tmp_path, monkeypatch) -> Path:
    """A per-test data dir holding a 4-row Tatoeba mirror; MWALIGN_DATA_DIR points at it."""
    root = write_tatoeba_mirror(tmp_path / "data")
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(root))
    return root


@pytest.fixture
def real_mirror() -> Path:
    path = data_dir()
    if not (path / "tatoeba").is_dir():
        pytest.skip(f"{path}/tatoeba absent; set MWALIGN_DATA_DIR")
    return path


def make_run_dir(run: Path, first_model: Path, second_model: Path) -> Path:
    """A run directory as the corpus and training stages leave it: manifest plus a 2-model index."""
    (run / "corpus").mkdir(parents=True)
    (run / "models").mkdir()
    manifest = {"pool": ["spa", "fra"], "seen_languages": ["eng", "spa", "fra"], "content_hash": "abc"}
    (run / "corpus" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    index = []
    for label, source, method in [("tiny-base", first_model, "base"), ("tiny-multiway-s0", second_model, "multiway")]:
        shutil.copytree(source, run / "models" / label)
        index.append({"label": label, "path": f"models/{label}", "base": "tiny", "role": "unaligned",
                      "method": method, "seed": 0, "dtype": "fp32", "corpus_hash": "abc"})
    (run / "models" / "index.json").write_text(json.dumps(index), encoding="utf-8")
    return run


@pytest.fixture
def run_dir(tmp_path, tiny_model, tiny_model_b) -> Path:
    """A run directory as the corpus and training stages leave it: manifest plus a 2-model index."""
    return make_run_dir(tmp_path / "run", tiny_model, tiny_model_b)
