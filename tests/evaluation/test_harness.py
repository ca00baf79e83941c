"""The caching encoder: cached = plain embeddings, cache keys, prompts, dtype, lazy loading, bad models."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from mwalign import devices
from mwalign.evaluation import harness
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


@pytest.mark.parametrize("change", [{"prompt": "query: "}, {"max_seq_length": 16}, {"dtype": "bf16"},
                                    {"batch_tokens": 64}])
def test_cache_key_covers_prompt_length_and_dtype(tiny_model, tmp_path, change):
    # Given a cache filled with the default settings
    cache, calls = EmbeddingCache(tmp_path / "e.sqlite"), []
    base = {"dtype": "fp32", "max_seq_length": 64, "prompt": ""}
    counting_encoder(tiny_model, cache, calls, **base).embed(TEXTS)
    # When one setting that changes embeddings differs, Then the texts are encoded again; bf16 asked for on a CPU
    # without bf16 matrix units runs fp32 (the dtype in the key is the one that runs), so there it is a hit
    counting_encoder(tiny_model, cache, calls, **{**base, **change}).embed(TEXTS)
    if change.get("dtype") and devices.autocast_dtype("cpu", change["dtype"]) == base["dtype"]:
        assert calls == [1], f"{change} runs as {base['dtype']} here: the same embeddings, no new encoding"
    else:
        assert calls == [1, 1], f"{change} must be part of the cache key"


def test_other_weights_are_another_fingerprint(tiny_model, tiny_model_b, tmp_path):
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    first = CachingEncoder(tiny_model, label="a", cache=cache)
    second = CachingEncoder(tiny_model_b, label="a", cache=cache)
    assert first.context.fingerprint != second.context.fingerprint, "the fingerprint must hash the weights"
    assert first.mteb_model_meta.revision != second.mteb_model_meta.revision, "mteb results keyed by weights"


def test_bf16_runs_in_bf16_and_is_recorded(tiny_model, tmp_path, monkeypatch):
    # Given a bf16 encoder on a machine treated as bf16-capable, and a hook on every linear layer
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: True)
    encoder = CachingEncoder(tiny_model, label="tiny", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="bf16")
    ran = []
    for layer in (m for m in encoder.model.modules() if isinstance(m, torch.nn.Linear)):
        layer.register_forward_hook(lambda _module, _inputs, output: ran.append(output.dtype))
    # When it embeds two texts
    vectors = encoder.embed(TEXTS[:2])
    # Then the layers computed in bf16, the results record bf16, and storage is float32
    assert ran and set(ran) == {torch.bfloat16}, f"linear layers must run in bf16 inside encode, ran {set(ran)}"
    assert encoder.mteb_model_meta.experiment_kwargs["dtype"] == "bf16", "results must record the dtype that ran"
    assert vectors.dtype == np.float32 and vectors.shape == (2, 32), "bf16 compute, float32 storage"


def test_fp32_fallback_is_recorded_as_fp32(tiny_model, tmp_path, monkeypatch):
    # Given bf16 asked for on a machine without native bf16
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: False)
    encoder = CachingEncoder(tiny_model, label="tiny", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="bf16")
    # Then the fall-back is what the results record
    assert encoder.mteb_model_meta.experiment_kwargs["dtype"] == "fp32", "a fall-back to fp32 must be recorded"


def test_default_prompt_of_the_model_is_not_added_twice(tiny_model, tmp_path, caplog):
    # Given a model whose sentence-transformers config sets a default "query: " prompt (as mE5's does)
    folder = tmp_path / "with-default-prompt"
    shutil.copytree(tiny_model, folder)
    config_path = folder / "config_sentence_transformers.json"
    config = json.loads(config_path.read_text())
    config.update({"prompts": {"query": "query: ", "document": "passage: "}, "default_prompt_name": "query"})
    config_path.write_text(json.dumps(config))
    logging.Logger.warning_once.cache_clear()  # transformers shows that notice once per process
    # When the harness embeds with its own "query: " prefix
    with caplog.at_level(logging.WARNING):
        encoder = CachingEncoder(folder, label="e5", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="fp32",
                                 prompt="query: ", max_seq_length=64)
        got = encoder.embed(TEXTS[:2])
    # Then the texts carry the prefix once, and the load-time notice about the default prompt is not shown
    plain = SentenceTransformer(str(folder), device="cpu")
    once = plain.encode(["query: " + t for t in TEXTS[:2]], prompt="")
    np.testing.assert_allclose(got, once, rtol=1e-5, atol=1e-6, err_msg="prefix must be applied exactly once")
    assert not [r for r in caplog.records if "Default prompt name" in r.getMessage()], "no default-prompt notice"


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


def test_token_batches_keep_each_batch_within_its_budget_and_every_text_once():
    lengths = [5, 40, 12, 40, 3, 7, 25, 12]
    batches = harness.token_batches(lengths, budget=48)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) <= 48 or len(batch) == 1
        assert lengths[batch[0]] == max(lengths[i] for i in batch), "longest first"
    assert [len(b) for b in batches] == [1, 1, 1, 4, 1], "short texts share batches (4 x 12 = 48), long ones go alone"


def test_token_budget_batches_give_the_fixed_batches_embeddings(tiny_model, tmp_path):
    # Given the same texts encoded in fixed batches of 2 and in batches of at most 24 tokens (fp32)
    texts = [*TEXTS[:3], "A much longer sentence about the weather in the mountains this week.", "Yes."]
    fixed = CachingEncoder(tiny_model, label="a", cache=EmbeddingCache(tmp_path / "a.sqlite"), dtype="fp32",
                           batch_size=2).embed(texts)
    budget = CachingEncoder(tiny_model, label="b", cache=EmbeddingCache(tmp_path / "b.sqlite"), dtype="fp32",
                            batch_tokens=24).embed(texts)
    # Then the vectors agree in input order (padding is masked out)
    np.testing.assert_allclose(budget, fixed, rtol=1e-4, atol=1e-5)
