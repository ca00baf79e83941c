"""The caching encoder: cached = plain embeddings, cache keys, prompts, dtype, lazy loading, bad models."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.evaluation.harness import CachingEncoder, ModelSpecError, choose_prompt, resolve_model

TEXTS = ["The cat sleeps.", "Where is the station?", "I am hungry.", "The cat sleeps."]


def counting_encoder(model_dir, cache, calls, **kwargs):
    def loader():
        calls.append(1)
        return SentenceTransformer(str(model_dir), device="cpu")

    return CachingEncoder(model_dir, label="tiny", cache=cache, loader=loader, **kwargs)


def test_cached_embeddings_equal_plain_encode(tiny_model, tmp_path):
    # Given the harness in fp32 and the plain sentence-transformers encode
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    encoder = CachingEncoder(tiny_model, label="tiny", cache=cache, dtype="fp32", max_seq_length=64)
    plain = SentenceTransformer(str(tiny_model), device="cpu").encode(TEXTS)
    # When texts are embedded fresh and then again from the cache
    fresh, cached = encoder.embed(TEXTS), encoder.embed(TEXTS)
    # Then all three agree, in input order
    np.testing.assert_allclose(fresh, plain, rtol=1e-5, atol=1e-6, err_msg="harness fp32 must equal plain encode")
    assert np.array_equal(fresh, cached), "cached vectors must be bit-identical to the fresh ones"


def test_cache_hit_skips_model_load(tiny_model, tmp_path):
    # Given a first encoder that fills the cache
    cache, calls = EmbeddingCache(tmp_path / "e.sqlite"), []
    counting_encoder(tiny_model, cache, calls, dtype="fp32").embed(TEXTS)
    assert calls == [1] and len(cache) == 3, "3 distinct texts encoded once (duplicates deduplicated)"
    # When a new encoder for the same weights embeds the same texts
    counting_encoder(tiny_model, cache, calls, dtype="fp32").embed(TEXTS[::-1])
    # Then the model is never loaded
    assert calls == [1], "a full cache hit must not load the model"


@pytest.mark.parametrize("change", [{"prompt": "query: "}, {"max_seq_length": 16}, {"dtype": "bf16"}])
def test_cache_key_covers_prompt_length_and_dtype(tiny_model, tmp_path, change):
    # Given a cache filled with the default settings
    cache, calls = EmbeddingCache(tmp_path / "e.sqlite"), []
    base = {"dtype": "fp32", "max_seq_length": 64, "prompt": ""}
    counting_encoder(tiny_model, cache, calls, **base).embed(TEXTS)
    # When one setting that changes embeddings differs, Then the texts are encoded again
    counting_encoder(tiny_model, cache, calls, **{**base, **change}).embed(TEXTS)
    assert calls == [1, 1], f"{change} must be part of the cache key"


def test_other_weights_are_another_fingerprint(tiny_model, tiny_model_b, tmp_path):
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    first = CachingEncoder(tiny_model, label="a", cache=cache)
    second = CachingEncoder(tiny_model_b, label="a", cache=cache)
    assert first.context.fingerprint != second.context.fingerprint, "the fingerprint must hash the weights"
    assert first.mteb_model_meta.revision != second.mteb_model_meta.revision, "mteb results keyed by weights"


def test_bf16_is_recorded_in_model_meta(tiny_model, tmp_path):
    encoder = CachingEncoder(tiny_model, label="tiny", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="bf16")
    assert encoder.mteb_model_meta.experiment_kwargs["dtype"] == encoder.dtype, "dtype recorded with mteb results"
    vectors = encoder.embed(TEXTS[:2])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 32), "bf16 compute, float32 storage"


def test_e5_models_get_query_prefix():
    prompts = {"e5": "query: "}
    assert choose_prompt(["me5-small"], prompts) == "query: ", "E5 models use the query: prefix"
    assert choose_prompt(["runs/x/models/me5-multiway-s0", "multilingual-E5-small"], prompts) == "query: "
    assert choose_prompt(["minilm-en"], prompts) == "", "other models get no prefix"


def test_model_folder_without_weights_is_rejected(tiny_model, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_model, folder)
    for weights in folder.rglob("*.safetensors"):
        weights.unlink()
    with pytest.raises(ModelSpecError, match=r"broken: model folder has no weights"):
        resolve_model(folder)
    with pytest.raises(ModelSpecError, match=r"absent: no such model folder"):
        resolve_model(tmp_path / "absent")
