"""The golden check: cross-machine noise passes, a change of results fails and names the stage to bump."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from safetensors.numpy import save_file

from mwalign import versioning
from tests import golden_record

SCORE = "tiny-multiway-s0|Tatoeba|spa-eng|test|f1|seen"


def _sketch(rng, tensors=("a", "b", "embeddings")) -> dict:
    return {name: rng.standard_normal(golden_record.SKETCH_DIM).tolist() for name in tensors}


def _moved(sketch: dict, size: float, rng, *, frozen=("embeddings",)) -> dict:
    """``sketch`` plus a random step of length ``size`` in the tensors that train."""
    step = {n: rng.standard_normal(len(v)) for n, v in sketch.items() if n not in frozen}
    norm = np.sqrt(sum(float(s @ s) for s in step.values()))
    return {n: (np.asarray(v) + size * step[n] / norm).tolist() if n in step else list(v) for n, v in sketch.items()}


@pytest.fixture
def golden():
    rng = np.random.default_rng(0)
    base, me5_base = _sketch(rng), _sketch(rng)
    models = {
        "tiny-base": {"role": "unaligned", "base": "tiny", "method": "base", "structure": "s", "sketch": base},
        "tiny-multiway-s0": {"role": "unaligned", "base": "tiny", "method": "multiway", "structure": "s",
                             "sketch": _moved(base, 1.0, rng)},  # a training update of length 1
        "me5-base": {"role": "me5", "base": "me5", "method": "base", "structure": "s", "sketch": me5_base},
        "me5-multiway-s0": {"role": "me5", "base": "me5", "method": "multiway", "structure": "s",
                            "sketch": _moved(me5_base, 1.0, rng)},
    }
    return {
        "format": golden_record.FORMAT,
        "machine": {"cpu_capability": "AVX512"},
        "versions": {s: versioning.STAGE_VERSIONS[s] for s in ("data", "train", "me5", "evaluate")},
        "corpus": {"content_hash": "c0", "files": {"multiway.parquet": "f0"}},
        "models": models,
        "scores": {SCORE: 0.5},
        "noise": {"weights": {"tiny-multiway-s0": 0.015, "me5-multiway-s0": 0.09}, "scores": 0.004},
    }


def test_identical_outputs_pass(golden):
    assert golden_record.differences(golden, copy.deepcopy(golden)) == []


def test_noise_of_the_measured_size_passes(golden):
    # Given a run on another CPU family: every trained model moved by its measured noise, every score too
    noisy = golden_record.with_noise(golden, golden["noise"], seed=1)
    assert noisy["models"]["tiny-multiway-s0"]["sketch"] != golden["models"]["tiny-multiway-s0"]["sketch"]
    assert noisy["scores"][SCORE] != golden["scores"][SCORE]
    # Then the check passes
    assert golden_record.differences(golden, noisy) == []


@pytest.mark.parametrize(("label", "size", "stage"), [
    ("tiny-multiway-s0", 0.1, "train"),  # 6.7x its measured noise: a 10% change of learning rate measured 0.1
    ("me5-multiway-s0", 0.5, "me5"),  # one more step of two
])
def test_weights_moved_beyond_the_noise_name_their_stage(golden, label, size, stage):
    current = copy.deepcopy(golden)
    current["models"][label]["sketch"] = _moved(golden["models"][label]["sketch"], size, np.random.default_rng(2))
    found = golden_record.differences(golden, current)
    assert len(found) == 1 and f"STAGE_VERSIONS[{stage!r}]" in found[0] and label in found[0], found


def test_a_frozen_tensor_that_now_trains_is_caught_below_the_tolerance(golden):
    # Given a change that unfreezes the word embeddings by far less than the weight tolerance
    current = copy.deepcopy(golden)
    sketch = current["models"]["tiny-multiway-s0"]["sketch"]
    sketch["embeddings"] = (np.asarray(sketch["embeddings"]) + 1e-4).tolist()
    # Then the check names the tensor training used to leave alone
    found = golden_record.differences(golden, current)
    assert found and "left untouched now change (embeddings" in found[0] and "STAGE_VERSIONS['train']" in found[0]


@pytest.mark.parametrize(("change", "stage"), [
    (lambda r: r["corpus"]["files"].update({"multiway.parquet": "f9"}), "data"),
    (lambda r: r["models"]["tiny-multiway-s0"].update(structure="t"), "train"),
    (lambda r: r["models"].pop("me5-multiway-s0"), "me5"),
    (lambda r: r["scores"].update({SCORE: 0.5 + 0.02}), "evaluate"),  # 5x the measured score noise
    (lambda r: r["scores"].pop(SCORE), "evaluate"),
])
def test_a_changed_output_names_the_stage_to_bump(golden, change, stage):
    # Given the golden record, When one stage's output moves
    current = copy.deepcopy(golden)
    change(current)
    found = golden_record.differences(golden, current)
    # Then the check fails and names that stage's version
    assert found and all(f"STAGE_VERSIONS[{stage!r}]" in line for line in found), found


def test_tolerances_come_from_the_measured_noise_of_the_model_family(golden):
    weights, score = golden_record.tolerances(golden)
    assert weights["tiny-multiway-s0"] == pytest.approx(3 * 0.015) and weights["me5-multiway-s0"] == pytest.approx(0.27)
    assert score == pytest.approx(0.012)
    # A family measured quieter than the floor gets the floor
    golden["noise"]["weights"]["tiny-multiway-s0"] = 0.001
    assert golden_record.tolerances(golden)[0]["tiny-multiway-s0"] == golden_record.MIN_WEIGHT_TOLERANCE


def test_a_bumped_version_asks_for_a_new_record(golden, monkeypatch):
    # Given a stage whose version was bumped, When the record still carries the old version
    monkeypatch.setitem(versioning.STAGE_VERSIONS, "evaluate", versioning.STAGE_VERSIONS["evaluate"] + 1)
    found = golden_record.differences(golden, copy.deepcopy(golden))
    # Then the check asks for the record to be rewritten
    assert found and "rerecord" in found[0] and "stage evaluate" in found[0]


def test_a_record_of_the_old_format_asks_for_a_new_record(golden):
    old = {k: v for k, v in golden.items() if k != "format"}
    assert "rerecord" in golden_record.differences(old, golden)[0]


def test_sketch_distances_estimate_weight_distances(tmp_path):
    # Given two weight files that differ by a known step
    rng = np.random.default_rng(0)
    first = {"w": rng.standard_normal((300, 200)).astype(np.float32), "b": rng.standard_normal(200).astype(np.float32)}
    step = {n: (0.01 * rng.standard_normal(v.shape)).astype(np.float32) for n, v in first.items()}
    for name, tensors in (("a", first), ("b", {n: first[n] + step[n] for n in first})):
        (tmp_path / name).mkdir()
        save_file(tensors, str(tmp_path / name / "model.safetensors"))
    a, b = golden_record.weight_sketch(tmp_path / "a"), golden_record.weight_sketch(tmp_path / "b")
    # Then the sketch distance over sqrt(SKETCH_DIM) (4 projections a tensor) is within a factor 2 of the true one
    true = np.sqrt(sum(float(((first[n] + step[n]).astype(np.float64) - first[n]) .ravel() @
                             ((first[n] + step[n]).astype(np.float64) - first[n]).ravel()) for n in first))
    estimate = golden_record._distance(a, b) / np.sqrt(golden_record.SKETCH_DIM)
    assert 0.5 * true < estimate < 2 * true
    assert golden_record.weight_sketch(tmp_path / "a") == a, "a sketch is deterministic"
