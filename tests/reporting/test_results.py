"""The paper-shaped tables compute gains per seed, intervals over seeds and honest verdicts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from mwalign.reporting import results


def _scores(multiway: list[float], bilingual: list[float], task_type="BitextMining") -> pd.DataFrame:
    """Two subsets per seed; each (method, seed) has the given mean score."""
    rows = []
    for method, means in (("multiway", multiway), ("bilingual", bilingual)):
        for seed, mean in enumerate(means):
            for subset, shift in (("spa-eng", -0.01), ("deu-eng", 0.01)):
                rows.append({"model": f"m-{method}-s{seed}", "role": "unaligned", "base": "m", "method": method,
                             "seed": float(seed), "task": "Tatoeba", "task_type": task_type, "subset": subset,
                             "languages": "spa,eng", "group": "seen", "split": "test", "metric": "f1",
                             "score": mean + shift})
    return pd.DataFrame(rows)


def test_gain_is_relative_per_seed_then_averaged():
    # Given multi-way 0.6/0.66 against bilingual 0.5/0.6 over two seeds
    gains = results.relative_gains(_scores([0.6, 0.66], [0.5, 0.6]))
    # Then the gain is the mean of the per-seed relative gains: (20% + 10%) / 2
    assert gains.loc[0, "gain %"] == pytest.approx(15.0)
    assert gains.loc[0, "seeds"] == 2


def test_interval_is_a_t_interval_over_seeds():
    gains = results.relative_gains(_scores([0.6, 0.66, 0.63], [0.5, 0.6, 0.5]))
    per_seed = np.array([20.0, 10.0, 26.0])
    half = 4.302653 * per_seed.std(ddof=1) / math.sqrt(3)  # t(0.975, df=2)
    assert gains.loc[0, "ci low"] == pytest.approx(per_seed.mean() - half, abs=0.01)
    assert gains.loc[0, "ci high"] == pytest.approx(per_seed.mean() + half, abs=0.01)


@pytest.mark.parametrize(
    "gain, low, high, expected",
    [
        (25.0, 18.0, 32.0, "consistent with the claim"),  # the interval holds the 21.3% claim, clear of zero
        (40.0, 30.0, 50.0, "larger than claimed"),
        (8.0, 2.0, 14.0, "smaller than claimed"),  # clear of zero but short of the claim
        (8.0, -3.0, 30.0, "no effect"),  # reaches the claim but holds zero: a wide interval earns nothing
        (-2.0, -5.0, 1.0, "no effect"),
        (-4.2, -4.3, -4.2, "reversed"),  # a significant loss has its own outcome
        (3.0, float("nan"), float("nan"), "one seed, no interval"),
    ],
)
def test_verdicts_have_five_outcomes_and_one_for_a_single_seed(gain, low, high, expected):
    assert results.verdict(21.3, gain, low, high) == expected


def test_a_claim_without_a_number_improves_or_not():
    assert results.verdict(None, 2.0, 0.5, 3.5) == "improves"
    assert results.verdict(None, 2.0, -0.5, 3.5) == "no effect"
    assert results.verdict(None, -2.0, -3.5, -0.5) == "reversed"


def test_each_cost_reading_gets_its_row_and_verdict():
    # Given the headline models (same pairs) and bilingual checkpoints matched in steps and in sentences
    pairs = _scores([0.6, 0.66, 0.63], [0.5, 0.6, 0.5]).assign(budget="pairs")
    steps = _scores([0.6, 0.66, 0.63], [0.3, 0.33, 0.31]).assign(budget="steps")
    sentences = _scores([0.6, 0.66, 0.63], [0.7, 0.75, 0.72]).assign(budget="sentences")
    table = results.claims_table(pd.concat([pairs, steps, sentences])).set_index(["task type", "same"])
    # Then each reading has its own gain and verdict, the paper's first
    assert table.loc[("BitextMining", "pairs (paper)"), "verdict"] == "no effect"
    assert table.loc[("BitextMining", "steps"), "verdict"] == "larger than claimed"
    assert table.loc[("BitextMining", "sentences"), "verdict"] == "reversed"
    assert list(table.loc["BitextMining"].index) == ["pairs (paper)", "steps", "sentences"]
    markdown = results.headline_markdown(pd.concat([pairs, steps, sentences]))
    assert "| unaligned | BitextMining | m | bilingual, same steps | +21.3 |" in markdown
    assert "*same pairs* is the paper's control" in markdown


def test_me5_is_also_compared_with_the_released_model():
    # Given mE5 fine-tuned both ways over three seeds and the released model's score
    tuned = _scores([0.62, 0.63, 0.64], [0.61, 0.62, 0.6]).assign(role="me5", base="me5-small")
    released = tuned[(tuned["method"] == "bilingual") & (tuned["seed"] == 0)].assign(method="base", seed=np.nan)
    released = released.assign(score=released["score"] + 0.01)  # 0.62 on average
    gains = results.released_gains(pd.concat([tuned, released]))
    # Then the gain over the released model is per seed against its one score, with an interval
    assert gains.loc[0, "released"] == pytest.approx(62.0) and gains.loc[0, "seeds"] == 3
    assert gains.loc[0, "gain %"] == pytest.approx((0.0 + 1 / 0.62 + 2 / 0.62) / 3, abs=0.01)
    table = results.claims_table(pd.concat([tuned, released]), role="me5")
    assert list(table["against"]) == ["bilingual", "released model"]


def test_claims_table_lists_every_claim_even_unevaluated():
    table = results.claims_table(_scores([0.6, 0.66], [0.5, 0.6]))
    assert list(table["task type"]) == ["BitextMining", "STS", "Classification", "BitextMining X-Y"]
    assert table.set_index("task type").loc["STS", "verdict"] == "not evaluated"
    assert table.set_index("task type").loc["BitextMining", "paper gain %"] == "+21.3"


def test_me5_claim_has_a_direction_but_no_number():
    # Given an mE5 run whose multi-way gain is clear of zero over three seeds
    scores = _scores([0.62, 0.63, 0.64], [0.6, 0.6, 0.6]).assign(role="me5")
    # Then the all-roles table lists the unaligned claims as not evaluated and reproduces the mE5 claim
    table = results.claims_table(scores, role=None).set_index(["role", "task type"])
    assert table.loc[("unaligned", "STS"), "verdict"] == "not evaluated"
    assert table.loc[("me5", "BitextMining"), "paper gain %"] == "improves markedly"
    assert table.loc[("me5", "BitextMining"), "verdict"] == "improves"
    # And the README's Markdown carries the same rows, the gain beside its interval
    markdown = results.headline_markdown(scores)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(table)
    assert "| mE5 | BitextMining | m | bilingual, same pairs (paper) | improves markedly | 5.0 [" in markdown


def test_headline_is_short_enough_for_the_column_and_names_the_papers_models_in_a_note():
    # Given a three-seed encoder, a one-seed control and mE5
    main = _scores([0.6, 0.66, 0.63], [0.5, 0.6, 0.5])
    control = _with(_scores([0.9], [0.1]), base="minilm-en")
    me5 = _scores([0.62, 0.63, 0.64], [0.6, 0.6, 0.6]).assign(role="me5", base="me5-small")
    # When the headline is written
    markdown = results.headline_markdown(pd.concat([main, control, me5]),
                                         controls={"minilm-en": "no multilingual pretraining"})
    table, note = markdown.split("\n\n")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]
    # Then it has seven columns (the gain and its interval in one), one-word roles and a short control label
    assert rows[0] == results.HEADLINE_COLUMNS and len(rows[0]) == 7 and "verdict" in rows[0]
    assert all(len(row) == 7 for row in rows), rows
    body = {(row[0], row[1], row[2]): row for row in rows[2:]}
    assert body[("unaligned", "BitextMining", "m")][5] == "18.7 [-1.4, 38.8]"
    assert body[("unaligned", "BitextMining", "minilm-en (control)")][5:] == ["800.0", "control, no verdict"]
    assert body[("mE5", "BitextMining", "me5-small")][6] == "improves"
    # And no label cell is longer than the verdicts: the long words moved to the note below the table
    assert max(len(cell) for row in rows[2:] for cell in row[:3]) <= len("minilm-en (control)")
    # And the note names the paper's models, what the control lacks and where an interval is missing
    assert "XLM-R and mBERT" in note and "mE5" in note and "minilm-en (control)*: no multilingual pretraining" in note
    assert "without an interval is from one seed" in note


def test_seed_table_and_sensitivity_table():
    # Given three seeds of multi-way/bilingual and two translator models scored on bitext mining
    scores = _scores([0.60, 0.62, 0.64], [0.5, 0.5, 0.5])
    extra = _scores([0.55], [0.7]).replace({"multiway": "translator-mt", "bilingual": "translator-human"})
    ablation = _scores([0.58], [0.0]).query("method == 'multiway'").replace({"multiway": "english-anchors"})
    scores = pd.concat([scores, extra, ablation], ignore_index=True)
    quality = pd.DataFrame({"condition": ["mt", "mt", "human", "human"], "language": ["spa", "fra"] * 2,
                            "chrF": [40.0, 50.0, 100.0, 100.0]})
    # Then the seed table shows each seed, the range and the sd of the multi-way scores
    seeds = results.seed_table(scores).loc[("unaligned", "m", "BitextMining", "multiway")]
    assert seeds["seed 2"] == pytest.approx(64.0) and seeds["range"] == pytest.approx(4.0)
    assert seeds["sd"] == pytest.approx(2.0)
    # And the sensitivity table orders conditions by chrF with the multi-way seed sd as the yardstick
    table = results.sensitivity_table(scores, quality)
    assert list(table.index) == ["mt", "human"] and table.loc["mt", "mean chrF"] == pytest.approx(45.0)
    assert table.loc["human", "BitextMining"] == pytest.approx(70.0)
    assert table.loc["mt", "BitextMining seed sd"] == pytest.approx(2.0)
    # And translator models never appear as ablations
    methods = list(results.ablation_table(scores).index.get_level_values("method"))
    assert methods == ["multiway", "english-anchors", "bilingual"], methods


def test_per_language_table_orders_methods_and_scales():
    table = results.per_language_table(_scores([0.6], [0.5]), task="Tatoeba")
    assert list(table.columns.get_level_values("method")) == ["bilingual", "multiway"]
    assert table.loc[("seen", "spa-eng"), ("m", "multiway")] == pytest.approx(59.0)


def _with(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    frame = frame.assign(**{k: v for k, v in columns.items() if k != "suffix"})
    if "suffix" in columns:
        frame["method"] = frame["method"] + columns["suffix"]
        frame["model"] = frame["model"] + columns["suffix"]
    return frame


def test_control_rows_are_shown_labelled_but_get_no_verdict():
    # Given a main encoder with a clear gain and a control encoder with a bigger one
    main = _scores([0.6, 0.66, 0.63], [0.5, 0.6, 0.5])
    control = _with(_scores([0.9, 0.9, 0.9], [0.1, 0.1, 0.1]), base="minilm-en")
    # When the claims table is built with the control named
    table = results.claims_table(pd.concat([main, control]), controls={"minilm-en": "no multilingual pretraining"})
    bitext = table[table["task type"] == "BitextMining"]
    # Then the main encoder's row carries the verdict and comes first; the control's row is labelled, no verdict
    assert list(bitext["model"]) == ["m", "minilm-en (control: no multilingual pretraining)"]
    assert bitext.iloc[0]["verdict"] != "control, no verdict" and bitext.iloc[1]["verdict"] == "control, no verdict"
    # And a claim only the control measured still counts as not evaluated for the verdict
    only_control = results.claims_table(control, controls={"minilm-en": "x"})
    assert "not evaluated" in set(only_control[only_control["task type"] == "BitextMining"]["verdict"])


def test_scaling_gains_per_fraction_reuse_the_headline_models_at_full_size():
    # Given headline models (gain 20% per seed) and half-size models (gain 0% per seed), three seeds each
    from mwalign.config import load_config
    full = _scores([0.6, 0.6, 0.6], [0.5, 0.5, 0.5])
    half = _with(_scores([0.5, 0.52, 0.48], [0.5, 0.52, 0.48]), suffix="-f0.5")
    cfg = load_config("smoke", {"training": {"seeds": [0, 1, 2], "scaling": {"fractions": [0.5, 1.0],
                                                                          "seeds": [0, 1, 2]}}})
    scores = pd.concat([full, half])
    # When the scaling gains are computed
    gains = results.scaling_gains(scores, cfg).set_index("fraction")
    # Then each fraction has its own gain over the three seeds, and the half-size models stay out of the claims
    assert gains.loc[1.0, "gain %"] == pytest.approx(20.0, abs=0.1) and gains.loc[1.0, "seeds"] == 3
    assert gains.loc[0.5, "gain %"] == pytest.approx(0.0, abs=0.1) and gains.loc[0.5, "seeds"] == 3
    claims = results.claims_table(scores)
    assert claims.iloc[0]["measured gain %"] == pytest.approx(20.0, abs=0.1)
    assert results.ablation_table(scores).empty, "scaling models are no ablation"
    # And the figure draws one line per task type
    fig = results.plot_scaling(gains.reset_index())
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["BitextMining"]


def test_scaling_gains_are_empty_when_the_study_is_off():
    from mwalign.config import load_config
    assert results.scaling_gains(_scores([0.6], [0.5]), load_config("smoke")).empty


def test_seed_table_of_a_model_trained_with_one_seed_has_no_sd_and_warns_nothing():
    # Given three seeds of the main model and one seed of a second base model (the cpu profile's minilm-en)
    one_seed = _scores([0.40], [0.30]).assign(base="minilm")
    scores = pd.concat([_scores([0.60, 0.62, 0.64], [0.5, 0.5, 0.5]), one_seed], ignore_index=True)
    # When the seed table is made with every warning an error (a warning would print in chapter 05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = results.seed_table(scores)
    # Then the one-seed row has a zero range and no sd, and the three-seed row keeps its sd
    row = table.loc[("unaligned", "minilm", "BitextMining", "multiway")]
    assert row["range"] == 0 and np.isnan(row["sd"])
    assert table.loc[("unaligned", "m", "BitextMining", "multiway"), "sd"] == pytest.approx(2.0)


def test_the_x_y_task_type_has_its_own_row_judged_without_a_claimed_number():
    # Given Tatoeba (X-eng) where multi-way loses and the X-Y task where it wins, over three seeds
    scores = pd.concat([_scores([0.5, 0.52, 0.51], [0.6, 0.61, 0.6]),
                        _scores([0.6, 0.63, 0.62], [0.5, 0.52, 0.5], task_type="BitextMining X-Y")])
    table = results.claims_table(scores)
    # Then the two are judged apart: the X-Y gain is not averaged into the paper's bitext claim
    rows = table.set_index("task type")
    assert rows.loc["BitextMining", "verdict"] == "reversed"
    assert rows.loc["BitextMining X-Y", "verdict"] == "improves"
    assert rows.loc["BitextMining X-Y", "paper gain %"] == "not claimed (expected to gain)"
    assert rows.loc["BitextMining", "paper gain %"] == "+21.3"
