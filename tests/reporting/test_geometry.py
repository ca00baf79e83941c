"""Retrieval matrices and the language probe measure what they claim to."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from mwalign.corpus.backends.reference import ntrex_file
from mwalign.reporting import geometry
from tests.evaluation.conftest import build_tiny_encoder


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_identical_spaces_retrieve_perfectly_and_shuffled_ones_do_not():
    rng = np.random.default_rng(0)
    base = _unit(rng.normal(size=(50, 16)))
    vectors = {"eng": base, "spa": base.copy(), "fra": base[rng.permutation(50)]}
    matrix = geometry.retrieval_matrix(vectors, ["eng", "spa", "fra"])
    assert matrix.loc["eng", "spa"] == 1.0
    assert matrix.loc["eng", "fra"] < 0.2, "a shuffled language must not look aligned"


def test_probe_separates_languages_only_when_they_are_separable():
    rng = np.random.default_rng(0)
    shared = _unit(rng.normal(size=(60, 8)))
    # Given one space where each language sits in its own corner and one where translations coincide
    separable = {lang: _unit(shared + 3 * np.eye(8)[i]) for i, lang in enumerate(["eng", "spa", "fra"])}
    aligned = {lang: shared + 1e-3 * rng.normal(size=shared.shape) for lang in ["eng", "spa", "fra"]}
    # Then the probe finds the language in the first and is near chance (1/3) in the second
    assert geometry.language_probe(separable) > 0.95
    assert geometry.language_probe(aligned) < 0.6


def _run_with_three_models(tmp_path):
    run = tmp_path / "run"
    index = []
    for seed, method in enumerate(("base", "bilingual", "multiway")):
        label = f"{'zyx'[seed]}-{method}"  # index order is not label order: the file sorts its keys
        shutil.copytree(build_tiny_encoder(tmp_path / f"src{seed}", seed=seed), run / "models" / label)
        index.append({"label": label, "path": f"models/{label}", "role": "unaligned", "method": method,
                      "seed": None if method == "base" else 0})
    (run / "models" / "index.json").write_text(json.dumps(index))
    return run


def test_measured_views_are_kept_and_serve_a_run_folder_without_its_models(tmp_path, monkeypatch):
    if not ntrex_file("spa").is_file():
        pytest.skip("the NTREX-128 mirror is absent")
    # Given a run folder with a base, a bilingual and a multi-way model, measured once
    run = _run_with_three_models(tmp_path)
    first = geometry.load_data(run, ["eng", "spa"], n_sentences=20, dtype="fp32")
    assert (run / geometry.CACHE).is_file()
    # When it is read again with no way to load a model, and again after the model folders are gone
    monkeypatch.setattr(geometry.models, "load", lambda *a, **k: (_ for _ in ()).throw(AssertionError("loaded")))
    again = geometry.load_data(run, ["eng", "spa"], n_sentences=20, dtype="fp32")
    for entry in json.loads((run / "models" / "index.json").read_text()):
        shutil.rmtree(run / entry["path"])
    without_models = geometry.load_data(run, ["eng", "spa"], n_sentences=20, dtype="fp32")
    # Then both give the first measurement's table exactly, models in the index's order
    assert geometry.summary_table(again).equals(geometry.summary_table(first))
    assert geometry.summary_table(without_models).equals(geometry.summary_table(first))
    # And other settings are measured again, not served from the kept views
    with pytest.raises(AssertionError, match="loaded"):
        geometry.load_data(run, ["eng", "spa"], n_sentences=10, dtype="fp32")


def _geometry(xy: dict[str, list[float]], probe: dict[str, list[float]]) -> "geometry.Geometry":
    """Three languages; every X-eng cell 0.9, every X-Y cell the given value, per method and seed."""
    langs = ["eng", "spa", "fra"]
    retrieval, probes, labels, seeds = {}, {}, {}, {}
    for method, values in xy.items():
        for seed, value in enumerate(values):
            label = f"{method}-s{seed}"
            matrix = pd.DataFrame(1.0, index=langs, columns=langs)
            matrix.loc["spa", "fra"] = matrix.loc["fra", "spa"] = value
            for x in ("spa", "fra"):
                matrix.loc[x, "eng"] = matrix.loc["eng", x] = 0.9
            retrieval[label], probes[label], labels[label], seeds[label] = matrix, probe[method][seed], method, seed
    return geometry.Geometry(langs, retrieval, probes, labels, seeds)


def test_seed_table_separates_x_eng_from_x_y_pairs_over_seeds():
    table = geometry.seed_table(_geometry({"bilingual": [0.5, 0.7], "multiway": [0.8, 0.8]},
                                          {"bilingual": [0.9, 0.9], "multiway": [0.6, 0.6]}))
    assert table.loc["bilingual", "X-Y retrieval"] == "60.0 ± 14.1" and table.loc["multiway", "X-Y retrieval"] == "80.0 ± 0.0"
    assert table.loc["bilingual", "X-eng retrieval"].startswith("90.0") and table.loc["multiway", "seeds"] == 2


def test_seed_text_follows_the_numbers():
    clear = geometry.seed_text(_geometry({"bilingual": [0.50, 0.52], "multiway": [0.80, 0.82]},
                                         {"bilingual": [0.9, 0.9], "multiway": [0.6, 0.62]}))
    noisy = geometry.seed_text(_geometry({"bilingual": [0.5, 0.9], "multiway": [0.6, 0.8]},
                                         {"bilingual": [0.6, 0.9], "multiway": [0.9, 0.95]}))
    assert "on X-Y retrieval, multi-way is higher by 30.0 points (beyond twice the seeds' spread)" in clear
    assert "on the language probe, bilingual is higher" in clear
    assert "within the seeds' spread" in noisy and clear != noisy
