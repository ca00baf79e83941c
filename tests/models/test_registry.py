"""load(): local names, folders and hub ids; fast one-line failure offline."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from mwalign import hub, models
from mwalign.models import registry


def test_local_name_loads_prepared_model(models_env, prepared_tiny_xlmr):
    # Given tiny-xlmr prepared in MWALIGN_MODELS_DIR, and the same folder loaded by plain sentence-transformers
    plain = SentenceTransformer(str(prepared_tiny_xlmr), device="cpu")
    # When loaded by name with a shorter max length
    model = models.load("tiny-xlmr", max_seq_length=64)
    # Then it is that folder's model
    short = ["Hello world.", "Hola mundo."]
    np.testing.assert_allclose(model.encode(short), plain.encode(short), atol=1e-6, err_msg="not the prepared model")
    # And it truncates at 64 tokens: a ~200-token input tokenises to 64 ids
    long = " ".join(f"sentence {i} of a long text." for i in range(25))
    assert model.max_seq_length == 64 and model.tokenize([long])["input_ids"].shape == (1, 64)
    assert 64 < plain.tokenize([long])["input_ids"].shape[1] < 512, "untruncated, the input is longer than 64"
    # And words past the 64th token do not change the embedding, while without the limit they do
    longer = long + " And a different ending that only an untruncated encoder would read."
    np.testing.assert_array_equal(model.encode([long]), model.encode([longer]), err_msg="tail beyond 64 tokens read")
    assert not np.allclose(plain.encode([long]), plain.encode([longer])), "the ending must matter untruncated"


def test_folder_path_loads_directly(prepared_tiny_xlmr):
    assert models.resolve(prepared_tiny_xlmr) == ("path", str(prepared_tiny_xlmr))
    assert models.load(str(prepared_tiny_xlmr)).get_embedding_dimension() == 64


def test_max_seq_length_beyond_positions_is_rejected(prepared_tiny_xlmr):
    with pytest.raises(models.ModelError, match="max_seq_length=600 exceeds .* 512 positions"):
        models.load(prepared_tiny_xlmr, max_seq_length=600)
    with pytest.raises(models.ModelError, match="max_seq_length=0: expected a positive integer"):
        models.load("tiny-xlmr", max_seq_length=0)


def test_folder_without_weights_names_the_folder(tmp_path):
    folder = tmp_path / "half-saved"
    folder.mkdir()
    (folder / "modules.json").write_text("[]")
    with pytest.raises(models.ModelError, match=r"half-saved: model folder has no weights"):
        models.load(str(folder))


def test_missing_folder_is_not_mistaken_for_a_hub_id(tmp_path):
    with pytest.raises(models.ModelError, match="no such model folder"):
        models.load(str(tmp_path / "runs" / "x" / "models" / "multiway"))


def test_hub_ids_are_classified_as_hub():
    assert models.resolve("xlm-roberta-base") == ("hub", "xlm-roberta-base")
    assert models.resolve("intfloat/multilingual-e5-base") == ("hub", "intfloat/multilingual-e5-base")


def test_offline_hub_name_fails_fast_naming_local_models(monkeypatch):
    # Given HF_HUB_OFFLINE=1 (set for all tests) and a model that is not in any local cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    # When loaded
    with pytest.raises(models.ModelError) as info:
        models.load("bert-base-multilingual-cased")
    # Then the error is one line, says offline and names the local alternatives, within seconds
    message = str(info.value)
    assert "\n" not in message, "one-line error"
    assert "'bert-base-multilingual-cased'" in message and "offline" in message
    assert "me5-small, minilm-en, tiny-xlmr" in message, "names the local alternatives"
    assert time.perf_counter() - start < 10, "no long retries offline"


def test_unreachable_hub_detected_without_offline_flag(monkeypatch):
    # Given no offline flag but an endpoint that does not answer
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://192.0.2.1:9")  # TEST-NET-1: never routable
    hub._endpoint_reachable.cache_clear()
    start = time.perf_counter()
    # Then the probe gives up within its 2 s deadline
    assert registry.hub_reachable() is False
    assert time.perf_counter() - start < hub.HUB_PROBE_SECONDS + 1
    hub._endpoint_reachable.cache_clear()


def test_unwritable_models_dir_is_a_one_line_error(tmp_path, monkeypatch):
    # Given MWALIGN_MODELS_DIR under a regular file (cannot be created)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("MWALIGN_MODELS_DIR", str(blocker / "models"))
    # Then loading a local name that needs preparing names the dir and the setting
    with pytest.raises(models.ModelError, match=r"not-a-dir/models: cannot create the models dir.*MWALIGN_MODELS_DIR"):
        models.load("tiny-xlmr")


@pytest.mark.hub
@pytest.mark.skipif(not registry.hub_reachable(), reason="needs a reachable Hugging Face hub")
def test_hub_id_loads_through_the_same_path():
    model = models.load("intfloat/multilingual-e5-small", max_seq_length=128)
    assert model.get_embedding_dimension() == 384 and model.max_seq_length == 128
