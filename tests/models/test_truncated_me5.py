"""me5-small-l<L>: multilingual-e5-small cut to its bottom L layers, a plain sentence-transformers folder."""

from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from mwalign import config, models
from mwalign.evaluation.harness import choose_prompt
from mwalign.models.recipes import LOCAL_MODELS
from mwalign.prompts import DEFAULT_PROMPTS


@pytest.mark.slow
def test_truncated_me5_keeps_vocabulary_and_bottom_layers(session_models_dir, prepared_me5_small):
    # Given the full me5-small and its 2-layer cut, both prepared
    cut = SentenceTransformer(str(models.prepare("me5-small-l2", session_models_dir)), device="cpu")
    full = SentenceTransformer(str(prepared_me5_small), device="cpu")
    # Then the cut has 2 layers, the same 250,002-token vocabulary, mean pooling and no prompt
    assert cut[0].auto_model.config.num_hidden_layers == 2, "the recipe keeps the bottom L layers"
    assert len(cut.tokenizer) == len(full.tokenizer) == 250002, "the XLM-R vocabulary is untouched"
    assert cut[1].pooling_mode == "mean"
    assert not any(cut.prompts.values()) and cut.default_prompt_name is None, "the stand-in records no prompt"
    # And its layers are the full model's bottom layers, byte for byte
    cut_state, full_state = cut[0].auto_model.state_dict(), full[0].auto_model.state_dict()
    for key, value in cut_state.items():
        assert np.array_equal(value.numpy(), full_state[key].numpy()), f"{key} differs from the full model"
    # And it embeds differently from the full model (the upper layers are really gone)
    text = ["The old man went to the market."]
    assert not np.allclose(cut.encode(text, prompt=""), full.encode(text, prompt=""), atol=1e-3)


def test_every_layer_count_is_an_on_demand_recipe():
    # Given the local recipes
    names = [f"me5-small-l{layers}" for layers in range(1, 13)]
    # Then L = 1..12 exist, each records its layer count and the empty prompt, and none is built by default
    assert all(LOCAL_MODELS[name].recipe["layers"] == int(name.rsplit("l", 1)[1]) for name in names)
    assert all(LOCAL_MODELS[name].recipe["prompt"] == "" for name in names)
    assert not set(names) & set(models.local_model_names(on_demand=False)), "12 x 400 MB are built only when named"
    assert set(names) <= set(models.local_model_names())


def test_evaluation_prefixes_nothing_for_the_stand_in_but_query_for_me5():
    # Given the default evaluation prompts, When a trained stand-in and the full mE5 are looked up
    stand_in = choose_prompt(["me5-small-l3-multiway-s0", "me5-small-l3"], DEFAULT_PROMPTS)
    me5 = choose_prompt(["me5-small"], DEFAULT_PROMPTS)
    # Then the stand-in gets the recipe's empty prompt and mE5 keeps "query: "
    assert stand_in == LOCAL_MODELS["me5-small-l3"].recipe["prompt"] == ""
    assert me5 == "query: "


@pytest.mark.parametrize(("override", "key"), [
    ("training.models=[me5-small-l13]", "training.models"),
    ("training.models=[me5-small-l0]", "training.models"),
    ("me5.model=me5-small-l99", "me5.model"),
])
def test_an_out_of_range_layer_count_fails_at_load(override, key):
    # Given a stand-in name whose L is outside 1..12, When the profile loads
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", [override])
    # Then one line names the --set (the key), and the valid range
    message = str(err.value)
    assert message.startswith(f"--set {override}: ") and "me5-small-l12" in message and "\n" not in message


def test_an_in_range_layer_count_loads():
    cfg = config.load_config("smoke", ["training.models=[me5-small-l3, tiny-xlmr]"])
    assert cfg.training.models == ["me5-small-l3", "tiny-xlmr"]
