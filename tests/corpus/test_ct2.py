"""The CTranslate2 backend against the transformers one, on a tiny NLLB-shaped model converted in the test."""

from __future__ import annotations

import pytest

from mwalign.corpus.backends.base import BackendError, get_backend
from mwalign.corpus.backends.hf import HFBackend
from mwalign.synthetic import SENTENCES, build_tiny_nllb

ctranslate2 = pytest.importorskip("ctranslate2")


@pytest.fixture(scope="module")
def nllb_dir(tmp_path_factory):
    return build_tiny_nllb(tmp_path_factory.mktemp("distinct-nllb"))


@pytest.fixture(scope="module")
def hf_outputs(nllb_dir):
    backend = HFBackend(str(nllb_dir), batch_size=3, max_new_tokens=8, dtype="fp32", device="cpu")
    return {tgt: [t.text for t in backend.translate(SENTENCES, "eng", tgt)] for tgt in ("spa", "fra")}


def _ct2(nllb_dir, tmp_path, **options):
    return get_backend("ct2", model=str(nllb_dir), max_new_tokens=8, device="cpu", models_dir=tmp_path, **options)


def test_the_model_translates_each_input_differently(hf_outputs):
    # Given the fixture model, Then its outputs depend on the input, so an order mix-up cannot pass unnoticed
    assert len(set(hf_outputs["spa"])) >= len(SENTENCES) - 1, hf_outputs["spa"]


def test_greedy_outputs_equal_the_hf_backend(nllb_dir, hf_outputs, tmp_path):
    # Given the model converted to CTranslate2 in float32 (int8 would round the weights)
    backend = _ct2(nllb_dir, tmp_path, dtype="float32", max_batch_tokens=12)
    # When the sentences are translated in token-packed, length-sorted batches
    for tgt in ("spa", "fra"):
        # Then every output equals the transformers backend's, in input order
        assert [t.text for t in backend.translate(SENTENCES, "eng", tgt)] == hf_outputs[tgt], tgt


def test_several_targets_in_one_call_equal_one_call_each(nllb_dir, hf_outputs, tmp_path):
    backend = _ct2(nllb_dir, tmp_path, dtype="float32")
    both = backend.translate_targets(SENTENCES, "eng", ["spa", "fra"])
    assert {tgt: [t.text for t in out] for tgt, out in both.items()} == hf_outputs


def test_conversion_happens_once_and_quantisation_follows_the_device(nllb_dir, tmp_path):
    # Given a first backend that converts the checkpoint (auto: int8 on this CPU)
    first = _ct2(nllb_dir, tmp_path)
    assert first.resolved_dtype in ("int8", "int8_float32", "float32")
    folder = first.converted
    assert folder.parent == tmp_path / "ct2" and folder.name.endswith(first.resolved_dtype)
    stamp = (folder / "model.bin").stat().st_mtime_ns
    # When a second backend asks for the same model, Then it reuses the conversion
    second = _ct2(nllb_dir, tmp_path)
    assert second.converted == folder and (folder / "model.bin").stat().st_mtime_ns == stamp
    assert not [p for p in (tmp_path / "ct2").iterdir() if p.name.startswith(".")], "no partial folder left"
    # And the compute type is part of the cache version, so int8 output never reuses float32 translations
    assert _ct2(nllb_dir, tmp_path, dtype="float32").version != first.version


def test_an_unsupported_compute_type_fails_naming_it(nllb_dir, tmp_path):
    supported = ctranslate2.get_supported_compute_types("cpu")
    missing = next((kind for kind in ("float16", "bfloat16", "int8_bfloat16") if kind not in supported), None)
    if missing is None:
        pytest.skip("this CPU supports every compute type tried")
    with pytest.raises(BackendError, match=f"compute type '{missing}' is not supported on cpu"):
        _ct2(nllb_dir, tmp_path, dtype=missing).resolved_dtype  # noqa: B018


def test_a_missing_target_token_fails_before_converting(nllb_dir, tmp_path):
    backend = _ct2(nllb_dir, tmp_path)
    with pytest.raises(BackendError, match="no language token 'deu_Latn'"):
        backend.check_pair("eng", "deu")
    assert not (tmp_path / "ct2").exists(), "a bad pair must fail before the conversion"
