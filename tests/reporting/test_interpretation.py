"""The generated paragraphs change with the numbers and carry the numbers of their tables."""

from __future__ import annotations

import pandas as pd

from mwalign.reporting import interpretation, results
from tests.reporting.test_results import _scores


def _three_readings(steps_bilingual: list[float]) -> pd.DataFrame:
    pairs = _scores([0.6, 0.66, 0.63], [0.5, 0.55, 0.52]).assign(budget="pairs")
    steps = _scores([0.6, 0.66, 0.63], steps_bilingual).assign(budget="steps")
    return pd.concat([pairs, steps])


def test_claims_text_says_when_the_verdict_depends_on_the_cost_reading():
    agree = interpretation.claims_text(results.claims_table(_three_readings([0.5, 0.55, 0.52])))
    differ = interpretation.claims_text(results.claims_table(_three_readings([0.7, 0.75, 0.72])))
    assert "the readings agree" in agree and "the verdict depends on what is held equal" in differ
    assert "reversed at the same steps" in differ and "The paper's reading is the same number of positive pairs" in agree
    assert "Not evaluated here: STS, Classification" in agree


def test_findings_name_the_reading_under_which_a_claim_holds():
    scaling = pd.DataFrame({"task type": ["BitextMining"] * 2, "fraction": [0.333, 1.0], "gain %": [-2.0, 20.0]})
    text = interpretation.findings(results.claims_table(_three_readings([0.7, 0.75, 0.72])), scaling)
    assert "**BitextMining** (+21.3% claimed)" in text and "reversed at the same steps" in text
    assert "Its sign changes with corpus size" in text and "**STS** (+5.3% claimed): not evaluated" in text
    same_sign = interpretation.findings(results.claims_table(_three_readings([0.7, 0.75, 0.72])),
                                        scaling.assign(**{"gain %": [5.0, 20.0]}))
    assert "Its sign is the same at every corpus size tried" in same_sign


def test_scaling_text_answers_whether_size_changes_the_verdict_and_who_moves():
    rows = {"base": "m", "task type": "Classification", "seeds": 3}
    flipping = pd.DataFrame([
        {**rows, "fraction": 0.111, "bilingual": 67.0, "multi-way": 64.2, "gain %": -4.2, "ci low": -4.3, "ci high": -4.2},
        {**rows, "fraction": 1.0, "bilingual": 62.0, "multi-way": 67.0, "gain %": 8.0, "ci low": 6.0, "ci high": 10.0}])
    steady = flipping.assign(**{"gain %": [3.0, 8.0], "ci low": [1.0, 6.0], "ci high": [5.0, 10.0],
                                "bilingual": [60.0, 61.0], "multi-way": [61.8, 66.0]})
    a, b = interpretation.scaling_text(flipping), interpretation.scaling_text(steady)
    assert "the sign changes with corpus size" in a and "bilingual moves more" in a and "0.111: -4.2% [-4.3, -4.2]" in a
    assert "the sign holds at every size" in b and "multi-way moves more" in b
    assert a.startswith("Yes for Classification (m).") and b.startswith("No: every task type keeps its verdict")
    # an interval that reaches zero at one size changes the verdict, not the sign
    zero = flipping.assign(**{"ci low": [-4.3, -1.0], "ci high": [-4.2, 10.0]})
    assert "the verdict depends on corpus size (the interval reaches zero" in interpretation.scaling_text(zero)


def test_findings_judge_corpus_size_on_the_headline_model_only():
    # Given a headline whose gain is positive at every size and a depth encoder whose gain is negative
    scaling = pd.DataFrame({"task type": ["BitextMining"] * 3, "base": ["m", "m", "m-l2"],
                            "fraction": [0.333, 1.0, 0.333], "gain %": [5.0, 20.0, -7.0]})
    claims = results.claims_table(_three_readings([0.7, 0.75, 0.72]))
    assert "m" in set(claims["model"])
    # Then the depth encoder's sign does not make the headline's verdict depend on size
    assert "Its sign is the same at every corpus size tried" in interpretation.findings(claims, scaling)


def test_sensitivity_text_follows_the_numbers():
    table = pd.DataFrame({"mean chrF": [40.0, 60.0], "STS": [60.0, 61.0], "STS seed sd": [1.0, 1.0]},
                         index=pd.Index(["apertium", "human"], name="condition"))
    assert "STS +1.0 (within twice the seed sd)" in interpretation.sensitivity_text(table)
    assert "beyond" in interpretation.sensitivity_text(table.assign(STS=[55.0, 61.0]))


def test_seen_unseen_and_seed_texts_follow_the_numbers():
    groups = pd.DataFrame({"bilingual": [60.0, 50.0], "multiway": [62.0, 58.0]},
                          index=pd.MultiIndex.from_tuples([("m", "Tatoeba", "seen"), ("m", "Tatoeba", "unseen")],
                                                          names=["base", "task", "group"]))
    assert "more in multi-way's favour on unseen languages" in interpretation.seen_unseen_text(groups)
    less = interpretation.seen_unseen_text(groups.assign(multiway=[70.0, 51.0]))
    assert "less in multi-way's favour on unseen" in less
    assert "about the same on both" in interpretation.seen_unseen_text(groups.assign(multiway=[62.0, 52.0]))
    scores = _scores([0.6, 0.66, 0.63], [0.5, 0.55, 0.52])
    text = interpretation.seed_text(results.seed_table(scores), results.relative_gains(scores))
    assert "larger than twice the larger seed sd" in text
    close = _scores([0.6, 0.66, 0.63], [0.62, 0.6, 0.64])
    assert "within twice" in interpretation.seed_text(results.seed_table(close), results.relative_gains(close))


def test_findings_say_what_each_ingredient_of_the_method_is_worth():
    # Given the ablation comparisons at the same pairs and steps: English-only anchors 0.3 below multi-way
    def gains(anchor_gap: float) -> pd.DataFrame:
        return pd.DataFrame({"base": "m", "ablation": ["english-anchors", "k2-multiway"],
                             "against": ["multiway", "bilingual"], "same": "pairs, steps", "task type": "STS",
                             "seeds": 3, "difference": [anchor_gap, 0.1], "ci low": [anchor_gap - 0.1, -0.5],
                             "ci high": [anchor_gap + 0.1, 0.7]})
    claims = results.claims_table(_three_readings([0.7, 0.75, 0.72]))
    small = interpretation.findings(claims, pd.DataFrame(), gains(-0.3))
    # Then the anchors line gives multi-way's side (+0.3) and calls it less than a point
    assert "- **Every language an anchor** (against English-only anchors, the same pairs and steps, 3 seeds): " \
           "STS +0.3; it is worth less than a point" in small, small
    assert "- **Pairs without English** (against En-X pairs, the same pairs and steps, 3 seeds): STS +0.1 (within " \
           "its interval)" in small
    # And a gap of three points is named as mattering
    assert "STS +3.0; it matters on STS" in interpretation.findings(claims, pd.DataFrame(), gains(-3.0))
    assert "an anchor" not in interpretation.findings(claims, pd.DataFrame()), "no ablations, no line"
