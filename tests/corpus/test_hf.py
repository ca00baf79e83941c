"""The transformers backend on a tiny randomly initialised M2M100 model built on the spot (no hub)."""

from __future__ import annotations

import time

import pytest
import torch

from mwalign.corpus.backends.base import BackendError
from mwalign.corpus.backends.hf import HFBackend

WORDS = "the a cat dog sat ran on under mat tree el la gato perro sobre bajo".split()
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "eng_Latn", "spa_Latn", "fra_Latn"]


@pytest.fixture(scope="session")
def tiny_nllb_dir(tmp_path_factory):
    """An NLLB-style model folder: FLORES language tokens in a word-level vocab, 1-layer M2M100.

    Initialised with a large weight scale (``init_std=0.5``, unscaled embeddings) so that, untrained, its greedy
    output depends on its input: with the defaults every sentence gets the same translation, hiding any reordering.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import M2M100Config, M2M100ForConditionalGeneration, PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
        init_std=0.5, scale_embedding=False,
    )  # fmt: skip
    path = tmp_path_factory.mktemp("tiny-nllb")
    M2M100ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_flores_vocab_forces_the_target_language_token(tiny_nllb_dir):
    # Given a model whose vocabulary carries FLORES codes
    backend = HFBackend(str(tiny_nllb_dir), dtype="fp32")
    # Then Spanish is requested by forcing spa_Latn as the first generated token
    codes = backend.language_codes("eng", "spa")
    assert codes["forced_bos"] == SPECIALS.index("spa_Latn") and codes["src_lang"] == "eng_Latn"
    # And a language without a token fails before any generation, naming the token
    with pytest.raises(BackendError, match="no language token 'deu_Latn'"):
        backend.check_pair("eng", "deu")


def test_length_sorted_batches_equal_one_by_one_translation(tiny_nllb_dir):
    # Given sentences of different lengths, not in length order (the backend sorts them, then pads batches of 3)
    texts = ["the cat sat on the mat under a tree", "a dog", "the dog ran", "cat"]
    backend = HFBackend(str(tiny_nllb_dir), batch_size=3, max_new_tokens=8, dtype="fp32")
    # When they are translated as length-sorted padded batches and one by one
    batched = backend.translate(texts, "eng", "spa")
    single = [backend.translate([t], "eng", "spa")[0] for t in texts]
    # Then the model tells the sentences apart (else an order mix-up would be invisible)
    assert len({t.text for t in single}) == len(texts), f"the test model must tell inputs apart: {single}"
    # And the outputs come back in input order and equal the unbatched ones
    assert batched == single, "padding/sorting must not change or reorder translations"


def test_dtype_and_revision_enter_the_cache_version(tiny_nllb_dir):
    fp32 = HFBackend(str(tiny_nllb_dir), dtype="fp32", max_new_tokens=8)
    bf16 = HFBackend(str(tiny_nllb_dir), dtype="bf16", max_new_tokens=8)
    assert fp32.version != bf16.version and fp32.version.startswith("local-"), "dtype changes output, so the key"
    assert len(bf16.translate(["the cat sat"], "eng", "spa")) == 1, "bf16 autocast path runs on CPU"


def test_unreachable_hub_fails_fast_with_one_line(monkeypatch):
    # Given no hub (tests run with HF_HUB_OFFLINE=1) and a model that is not cached locally
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backend = HFBackend("facebook/nllb-200-distilled-600M-not-cached")
    start = time.perf_counter()
    # When the pair is checked, Then a one-line error names the setting, quickly
    with pytest.raises(BackendError, match="corpus.hf_model=facebook/nllb-200-distilled-600M-not-cached") as info:
        backend.check_pair("eng", "spa")
    assert "\n" not in str(info.value) and time.perf_counter() - start < 15


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device")])])
def test_run_device_setting_reaches_the_hf_model_and_its_inputs(device, tiny_nllb_dir, monkeypatch):
    """The run's ``device`` goes through ``make_backend`` to the hf backend: model and inputs sit there."""
    import torch

    from mwalign.config import CorpusConfig
    from mwalign.corpus.build import make_backend
    from mwalign.devices import module_device

    # Given a corpus config for the hf backend on the tiny model and the run's device
    cfg = CorpusConfig(backend="hf", hf_model=str(tiny_nllb_dir), pool=["spa", "fra"], k=2)
    backend = make_backend(cfg, device)
    seen = []
    real_generate = backend._model.generate

    def spy(**kwargs):
        seen.append((kwargs["input_ids"].device, torch.is_grad_enabled()))
        return real_generate(**kwargs)

    monkeypatch.setattr(backend._model, "generate", spy)
    # When it translates
    out = backend.translate(["the cat sat"], "eng", "spa")
    # Then the model and the inputs were on that device and generate ran without autograd
    expected = torch.device(device if device == "cpu" else "cuda:0")
    assert module_device(backend._model) == expected, "model on cfg.device"
    assert seen == [(expected, False)], "inputs on the model's device, generate under no_grad"
    assert len(out) == 1


def test_bad_run_device_fails_before_loading_the_model(tiny_nllb_dir):
    from mwalign.config import CorpusConfig
    from mwalign.corpus.build import make_backend

    cfg = CorpusConfig(backend="hf", hf_model=str(tiny_nllb_dir), pool=["spa", "fra"], k=2)
    with pytest.raises(ValueError, match="device='cuda:7'"):
        make_backend(cfg, "cuda:7")
