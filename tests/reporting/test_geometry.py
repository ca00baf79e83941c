"""Retrieval matrices and the language probe measure what they claim to."""

from __future__ import annotations

import numpy as np

from mwalign.reporting import geometry


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
