"""The chapter sentence naming the cut the base-alignment rule picks."""

from __future__ import annotations

import pandas as pd

from mwalign.reporting.base_alignment import choice_sentence


def _frame(rows):
    columns = ["model", "layers", "prompt", "tatoeba_accuracy", "sts17_es-en", "sts17_en-tr", "sts17_en-ar",
               "sts17_mean"]
    return pd.DataFrame(rows, columns=columns)


def test_the_sentence_names_the_rules_pick_and_whether_the_profile_trains_it():
    # Given two cuts, the 2-layer one nearer the paper models' STS17 band
    frame = _frame([("me5-small-l2", 2, "", 50.0, 30.0, 30.0, 30.0, 30.0),
                    ("me5-small-l4", 4, "", 70.0, 40.0, 40.0, 40.0, 40.0)])
    # Then the sentence names L = 2 and says whether the trained model is that cut
    assert "L = 2" in choice_sentence(frame, ["me5-small-l2"]) and "trains `me5-small-l2`" in choice_sentence(
        frame, ["me5-small-l2"])
    assert "not the rule's pick" in choice_sentence(frame, ["me5-small-l4"])


def test_a_table_without_cuts_says_so_instead_of_failing():
    # Given the smoke profile's table: only a tiny random encoder, no cut of mE5
    frame = _frame([("tiny-xlmr", None, "", 1.0, 0.0, 0.0, 0.0, 0.0)])
    assert "no cut of mE5" in choice_sentence(frame, ["tiny-xlmr"])


def test_the_budget_cap_limits_the_rule_and_the_sentence_says_so():
    from mwalign.evaluation.base_alignment import closest_to_paper

    # Given cuts whose untrained STS17 means fall with depth until 6 layers (L6 is nearest the paper's band)
    frame = pd.DataFrame({"model": [f"me5-small-l{n}" for n in (2, 4, 6)], "layers": [2, 4, 6], "prompt": "",
                          "tatoeba_accuracy": [50.0, 70.0, 85.0], "sts17_es-en": [40.0, 33.0, 28.0],
                          "sts17_en-tr": [40.0, 33.0, 28.0], "sts17_en-ar": [40.0, 33.0, 28.0],
                          "sts17_mean": [40.0, 33.0, 28.0]}).astype({"layers": "Int64"})
    assert closest_to_paper(frame, "") == 6 and closest_to_paper(frame, "", max_layers=4) == 4
    text = choice_sentence(frame, ["me5-small-l4"], max_layers=4, studied=["me5-small-l6"])
    assert "among cuts of at most 4 layers" in text and "L = 4; the profile trains `me5-small-l4`" in text
    assert "without the cap the rule would pick L = 6, which the depth study trains" in text
    assert "depth study" not in choice_sentence(frame, ["me5-small-l4"], max_layers=4)
