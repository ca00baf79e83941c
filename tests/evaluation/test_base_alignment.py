"""Untrained base alignment: Tatoeba accuracy and STS17 Spearman per model x prompt, and the L-picking rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mwalign import config
from mwalign.evaluation import base_alignment as ba
from mwalign.evaluation import stage
from mwalign.reporting import base_alignment as report
from tests.evaluation.conftest import ENGLISH_ROWS, TATOEBA_ROWS


def test_identical_sides_retrieve_perfectly_and_prompts_change_the_scores(tiny_model, real_mirror):
    # Given a tiny encoder on the real Tatoeba and STS17 mirrors, scored with and without a prefix
    table = ba.base_alignment([str(tiny_model)], ["", "query: "], tatoeba_langs=["spa", "fra"], tatoeba_pairs=40,
                              sts17_subsets=["es-en"], batch_size=16, device="cpu")
    # Then there is one row per prompt with scores in range, and the prefix is really applied
    assert list(table["prompt"]) == ["", "query: "] and table["layers"].isna().all()
    assert table["tatoeba_accuracy"].between(0, 100).all() and np.isfinite(table["sts17_es-en"]).all()
    assert table["sts17_en-tr"].isna().all(), "unscored subsets stay empty"
    assert table.loc[0, "sts17_es-en"] != table.loc[1, "sts17_es-en"], "the prompt must reach the encoder"
    assert (table["sts17_mean"] == table["sts17_es-en"]).all()


class _MeaningEncoder:
    """Embeds a sentence as the one-hot of its meaning (row index in the 4-row mirror): a perfectly aligned model."""

    def __init__(self, rows: dict[str, int]) -> None:
        self.rows = rows

    def encode(self, texts, **kwargs):
        vectors = np.zeros((len(texts), 4), dtype=np.float32)
        for i, text in enumerate(texts):
            vectors[i, self.rows.get(text, 0)] = 1.0
        return vectors


def test_an_aligned_encoder_retrieves_every_pair_and_a_confused_one_half(tiny_mirror):
    # Given an encoder that maps each Spanish sentence and its English translation to the same vector
    aligned = {text: i for rows in (TATOEBA_ROWS["spa"], ENGLISH_ROWS) for i, text in enumerate(rows)}
    # When scored, Then every pair is found in both directions
    assert ba.tatoeba_accuracy(_MeaningEncoder(aligned), ["spa"], 4, "", 8) == 100.0
    # Given one that swaps the meanings of two Spanish sentences, Then those two are missed both ways
    confused = aligned | {TATOEBA_ROWS["spa"][0]: 1, TATOEBA_ROWS["spa"][1]: 0}
    assert ba.tatoeba_accuracy(_MeaningEncoder(confused), ["spa"], 4, "", 8) == 50.0


def _cuts(means: dict[int, float]) -> pd.DataFrame:
    rows = [{"model": f"me5-small-l{k}", "layers": k, "prompt": "", "sts17_es-en": m, "sts17_en-tr": m,
             "sts17_en-ar": m, "sts17_mean": m} for k, m in means.items()]
    rows.append({"model": "minilm-en", "layers": None, "prompt": "", "sts17_es-en": 14.0, "sts17_en-tr": 14.0,
                 "sts17_en-ar": 14.0, "sts17_mean": 14.0})  # inside the band, but not a cut: never chosen
    return pd.DataFrame(rows).astype({"layers": "Int64"})


def test_the_rule_picks_the_cut_closest_to_the_paper_models():
    low, high = ba.paper_level()
    assert (round(low, 2), round(high, 2)) == (12.5, 18.07), "XLM-R and mBERT means over es-en, tr-en, ar-en"
    # Given cuts all above the band, Then the smallest gap wins
    assert ba.closest_to_paper(_cuts({1: 31.0, 2: 35.0, 3: 41.0}), "") == 1
    # Given one cut inside the band, Then it wins over one just below it
    assert ba.closest_to_paper(_cuts({1: 11.0, 2: 15.0, 4: 30.0}), "") == 2
    # Given two cuts equally far, Then the one with fewer layers wins
    assert ba.closest_to_paper(_cuts({2: 20.0, 3: 20.0}), "") == 2
    with pytest.raises(ValueError, match="no me5-small-l<L> rows with prompt 'query: '"):
        ba.closest_to_paper(_cuts({1: 30.0}), "query: ")


def test_report_table_puts_published_levels_under_the_measured_rows():
    shown = report.table(_cuts({1: 31.0, 3: 41.0}).assign(tatoeba_accuracy=50.0))
    published = shown[shown["source"].str.startswith("sentence-transformers docs")]
    assert list(published["model"]) == ["xlm-roberta-base", "bert-base-multilingual-cased"]
    assert list(published["STS17 es-en"]) == [10.9, 21.5] and published["Tatoeba acc."].isna().all()
    assert report.chosen_layers(_cuts({1: 31.0, 3: 41.0})) == 1


def test_the_stage_reuses_the_table_until_its_settings_change(tmp_path, monkeypatch):
    # Given a counting stand-in for the scorer
    calls = []
    fake = pd.DataFrame([{c: 1.0 for c in ba.COLUMNS} | {"model": "x", "prompt": "", "layers": None}])
    monkeypatch.setattr(ba, "base_alignment", lambda *a, **k: calls.append(a) or fake)
    ev = config.EvaluationConfig(base_alignment={"layers": [], "controls": ["tiny-xlmr"], "tatoeba_langs": ["spa"]})
    (tmp_path / "results").mkdir()
    # When run twice with the same settings, Then it scores once and the parquet is there
    stage.run_base_alignment(ev, tmp_path)
    stage.run_base_alignment(ev, tmp_path)
    assert len(calls) == 1 and (tmp_path / "results" / "base_alignment.parquet").is_file()
    # When a setting changes, Then it scores again
    ev.base_alignment = config.BaseAlignmentConfig(layers=[], controls=["tiny-xlmr"], tatoeba_langs=["fra"])
    stage.run_base_alignment(ev, tmp_path)
    assert len(calls) == 2


@pytest.mark.parametrize(("override", "says"), [
    ("evaluation.base_alignment={layers: [13]}", "me5-small-l13: L=13 is out of range"),
    ("evaluation.base_alignment={tatoeba_langs: [xxx]}", "unknown language code 'xxx'"),
    ("evaluation.base_alignment={sts17_subsets: [fr-en]}", "es-en"),
])
def test_bad_base_alignment_settings_fail_at_load(override, says):
    with pytest.raises(config.ConfigError) as err:
        config.load_config("smoke", [override])
    message = str(err.value)
    assert message.startswith(f"--set {override}: evaluation.base_alignment.") and says in message, message
    assert "\n" not in message
