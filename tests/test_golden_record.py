"""The golden check names the stage whose version a change of results must bump."""

from __future__ import annotations

import copy

import pytest

from mwalign import versioning
from tests import golden_record


@pytest.fixture
def golden():
    return {
        "versions": {s: versioning.STAGE_VERSIONS[s] for s in ("data", "train", "me5", "evaluate")},
        "corpus": {"content_hash": "c0", "files": {"multiway.parquet": "f0"}},
        "models": {"tiny-multiway-s0": {"role": "unaligned", "weights": "w0"},
                   "me5-small-me5-multiway-s0": {"role": "me5", "weights": "w1"}},
        "scores": {"tiny-multiway-s0|Tatoeba|spa-eng|test|f1|seen": 0.5},
    }


def test_identical_outputs_pass(golden):
    assert golden_record.differences(golden, copy.deepcopy(golden)) == []


@pytest.mark.parametrize(("change", "stage"), [
    (lambda r: r["corpus"]["files"].update({"multiway.parquet": "f9"}), "data"),
    (lambda r: r["models"]["tiny-multiway-s0"].update(weights="w9"), "train"),
    (lambda r: r["models"]["me5-small-me5-multiway-s0"].update(weights="w9"), "me5"),
    (lambda r: r["scores"].update({"tiny-multiway-s0|Tatoeba|spa-eng|test|f1|seen": 0.5 + 2e-6}), "evaluate"),
    (lambda r: r["scores"].pop("tiny-multiway-s0|Tatoeba|spa-eng|test|f1|seen"), "evaluate"),
])
def test_a_changed_output_names_the_stage_to_bump(golden, change, stage):
    # Given the golden record, When one stage's output moves
    current = copy.deepcopy(golden)
    change(current)
    found = golden_record.differences(golden, current)
    # Then the check fails and names that stage's version
    assert found and all(f"STAGE_VERSIONS[{stage!r}]" in line for line in found), found


def test_scores_within_the_tolerance_pass(golden):
    current = copy.deepcopy(golden)
    current["scores"]["tiny-multiway-s0|Tatoeba|spa-eng|test|f1|seen"] += 5e-7
    assert golden_record.differences(golden, current) == []


def test_a_bumped_version_asks_for_a_new_record(golden, monkeypatch):
    # Given a stage whose version was bumped, When the record still carries the old version
    monkeypatch.setitem(versioning.STAGE_VERSIONS, "evaluate", versioning.STAGE_VERSIONS["evaluate"] + 1)
    found = golden_record.differences(golden, copy.deepcopy(golden))
    # Then the check asks for the record to be rewritten
    assert found and "rerecord" in found[0] and "stage evaluate" in found[0]
