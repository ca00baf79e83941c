"""Filters, dev split and budgets on hand-made translated roots (pure functions, no backend)."""

from __future__ import annotations

import math
from collections import Counter

from mwalign.corpus import rows as rowlib
from mwalign.corpus.backends.base import Translation
from mwalign.corpus.sources import Root

SETTINGS = rowlib.FilterSettings(max_length_ratio=3.0, max_unknown_ratio=0.2)
POOL = ["spa", "por", "fra", "ita", "cat", "epo"]


def test_each_filter_drops_its_case_and_counts_it():
    # Given six roots whose Spanish output hits one filter each (and one good translation)
    roots = [Root(f"r{i}", "The cat sat on the warm mat today.") for i in range(7)]
    outs = [
        Translation(None),  # backend failed on it
        Translation("  "),  # empty
        Translation("The cat sat on the warm mat today!"),  # a copy of the source
        Translation("Gato."),  # length ratio > 3
        Translation("El gato se sentó en la alfombra hoy.", unknown=3),  # 3/8 unknown words > 0.2
        Translation("El gato se sentó en la estera caliente hoy."),  # kept
        Translation("el gato se sentó en la estera caliente hoy"),  # duplicate of the kept one
    ]
    # When the filters run
    table, drops = rowlib.apply_filters(roots, {"spa": outs}, SETTINGS)
    # Then exactly one translation survives and every reason is counted once
    assert [e.root.id for e in table if e.translations] == ["r5"]
    assert drops["spa"] == {r: 1 for r in rowlib.FILTER_REASONS}, "each filter counted once, per language"


def _table(n: int, langs: list[str]) -> list[rowlib.TranslatedRoot]:
    return [rowlib.TranslatedRoot(Root(f"r{i:04d}", f"English {i}."), {l: f"{l} {i}." for l in langs}) for i in range(n)]


def test_equal_pairs_budget_matches_positive_pairs():
    # Given 600 training roots translated into the six-language pool
    train = _table(600, POOL)
    # When rows are built with k=4 under equal_pairs
    multiway, bilingual = rowlib.budgeted_rows(train, POOL, 4, "equal_pairs", seed=0)
    # Then N bilingual rows face N/6 four-language rows holding the same number of positive pairs
    assert (len(bilingual), len(multiway)) == (600, 100)
    assert rowlib.positive_pairs(multiway) == rowlib.positive_pairs(bilingual) == 600
    assert all(langs[0] == "eng" and len(langs) == 4 for _, langs, _ in multiway)


def test_equal_roots_budget_uses_the_same_roots_in_both():
    train = _table(50, POOL)
    multiway, bilingual = rowlib.budgeted_rows(train, POOL, 4, "equal_roots", seed=0)
    assert [r[0] for r in multiway] == [r[0] for r in bilingual], "same English roots in both corpora"


def test_bilingual_x_is_drawn_uniformly_from_the_pool():
    # Given 6000 roots with every language available
    rows = rowlib.bilingual_rows(_table(6000, POOL), POOL, seed=3)
    counts = Counter(langs[1] for _, langs, _ in rows)
    # Then each language gets about 1000 rows (chi-square, 5 dof, p > 0.001 bound 20.5)
    chi2 = sum((counts[l] - 1000) ** 2 / 1000 for l in POOL)
    assert set(counts) == set(POOL) and chi2 < 20.5, f"X not uniform: {counts}"


def test_multiway_only_uses_languages_that_survived_filtering():
    # Given roots where Italian and Catalan were filtered out
    train = _table(30, ["spa", "por", "fra", "epo"])
    rows = rowlib.multiway_rows(train, POOL, 4, 30, seed=0)
    used = {lang for _, langs, _ in rows for lang in langs}
    assert not used & {"ita", "cat"}, "a filtered translation must never enter a row"


def test_dev_split_is_seeded_and_disjoint():
    table = _table(200, POOL)
    train, dev = rowlib.split_dev(table, 0.1, seed=7)
    again_train, again_dev = rowlib.split_dev(table, 0.1, seed=7)
    assert len(dev) == 20 and not {e.root.id for e in dev} & {e.root.id for e in train}
    assert [e.root.id for e in dev] == [e.root.id for e in again_dev], "same seed, same dev roots"
    assert math.isclose(len(train) + len(dev), 200)


def test_a_per_language_unknown_ratio_loosens_only_that_language():
    # Given the same half-unknown output in Spanish and Croatian, and a looser limit for Croatian only
    roots = [Root("r0", "The cat sat on the warm mat today.")]
    half_unknown = [Translation("Mačka je sjedila na toplom tepihu danas.", unknown=4)]  # 4/8 > 0.2
    settings = rowlib.FilterSettings(3.0, 0.2, unknown_ratio_by_language={"hrv": 1.0})
    # When the filters run
    table, drops = rowlib.apply_filters(roots, {"spa": half_unknown, "hrv": half_unknown}, settings)
    # Then Croatian keeps it and Spanish drops it for unknown words
    assert table[0].translations == {"hrv": half_unknown[0].text}
    assert drops["spa"]["unknown_words"] == 1 and not drops["hrv"].get("unknown_words")


def test_unknown_ratio_by_language_names_pool_languages_only():
    import pytest
    from pydantic import ValidationError

    from mwalign.config import CorpusConfig

    with pytest.raises(ValidationError, match=r"unknown_ratio_by_language: \['hrv'\] not in corpus.pool"):
        CorpusConfig(pool=["spa", "fra", "cat"], k=3, unknown_ratio_by_language={"hrv": 1.0})
