"""Early-stopping metric: bitext-mining accuracy over ordered language pairs of held-out rows."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mwalign import devices
from mwalign.training import encoding
from mwalign.training.data import rows_from_frame
from mwalign.training.dev_metric import bitext_accuracy, dev_score, paired_difference


class LookupEncoder(torch.nn.Module):
    """Embeds each text as a fixed vector from a table: lets a test choose the geometry exactly."""

    def __init__(self, table: dict[str, list[float]]):
        super().__init__()
        self.table = table

    def preprocess(self, texts):
        return {"x": torch.tensor([self.table[t] for t in texts])}

    def forward(self, features):
        return {"sentence_embedding": features["x"]}


def _dev():
    return rows_from_frame(pd.DataFrame({
        "root_id": ["a", "b", "c"], "languages": [["eng", "spa"]] * 3,
        "sentences": [["one", "uno"], ["two", "dos"], ["three", "tres"]]}), "dev")


def test_accuracy_is_one_when_translations_are_nearest():
    encoder = LookupEncoder({"one": [1, 0, 0], "uno": [0.9, 0.1, 0], "two": [0, 1, 0], "dos": [0, 0.9, 0.1],
                             "three": [0, 0, 1], "tres": [0.1, 0, 0.9]})
    assert bitext_accuracy(encoder, _dev(), dtype="fp32") == 1.0, "aligned translations must all be retrieved"


def test_accuracy_averages_both_directions():
    # Given English one/two/three on the axes and a Spanish hub "tres" nearest to every English sentence,
    # while each Spanish sentence's nearest English one is its own translation (cosines in the comments)
    encoder = LookupEncoder({"one": [1, 0, 0], "two": [0, 1, 0], "three": [0, 0, 1],
                             "uno": [1, -1.5, -1.5],  # one 0.43, two -0.64, three -0.64
                             "dos": [-1.5, 1, -1.5],  # one -0.64, two 0.43, three -0.64
                             "tres": [1, 1, 1.2]})  # one 0.54, two 0.54, three 0.65
    # Then eng->spa retrieves tres three times (1/3 right) and spa->eng is all right (3/3): the mean is 2/3,
    # which neither direction alone (1/3 or 1) nor their minimum or maximum gives
    assert bitext_accuracy(encoder, _dev(), dtype="fp32") == pytest.approx(2 / 3), "mean over ordered pairs"


def test_bf16_falls_back_to_fp32_where_unsupported(monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: False)
    assert encoding.effective_dtype("bf16") == "fp32" and encoding.effective_dtype("fp32") == "fp32"
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: True)
    assert encoding.effective_dtype("bf16") == "bf16"
    with pytest.raises(ValueError, match="training.dtype"):
        encoding.effective_dtype("fp16")


def _three_languages():
    return rows_from_frame(pd.DataFrame({
        "root_id": ["a", "b"], "languages": [["eng", "spa", "fra"]] * 2,
        "sentences": [["one", "uno", "un"], ["two", "dos", "deux"]]}), "dev")


def test_all_language_mrr_is_one_when_every_translation_outranks_every_other_row():
    encoder = LookupEncoder({"one": [1, 0], "uno": [0.9, 0.1], "un": [0.95, 0.05],
                             "two": [0, 1], "dos": [0.1, 0.9], "deux": [0.05, 0.95]})
    score = dev_score(encoder, _three_languages(), "all-language-mrr", dtype="fp32")
    assert score.value == 1.0 and score.se == 0.0 and score.rows == 2


def test_all_language_mrr_counts_same_language_neighbours_of_other_rows():
    # Given an English query whose nearest sentence is the other row's English one (cosines: two 0.8, uno 0.6, un 0.6)
    encoder = LookupEncoder({"one": [1, 0, 0], "two": [0.8, 0.6, 0], "uno": [0.6, 0, 0.8], "un": [0.6, 0, 0.8],
                             "dos": [0, 1, 0], "deux": [0, 1, 0]})
    score = dev_score(encoder, _three_languages(), "all-language-mrr", dtype="fp32")
    # Then "one" ranks each translation second (1/2 each), while pair accuracy still retrieves both (eng->spa
    # compares uno with dos only): the all-language metric sees what the pairwise one cannot
    assert score.value < 1.0
    assert dev_score(encoder, _three_languages(), "pair-accuracy", dtype="fp32").value == 1.0
    # And the exact value: row a's 6 (query, translation) pairs: one->uno 1/2, one->un 1/2, the other four 1
    # (uno/un are nearest to each other, then to one); row b likewise (two's nearest sentence is one): 5/6
    assert score.value == pytest.approx(5 / 6) and score.se == 0.0


def test_dev_score_keeps_the_pair_accuracy_value_and_adds_a_standard_error():
    encoder = LookupEncoder({"one": [1, 0, 0], "two": [0, 1, 0], "three": [0, 0, 1],
                             "uno": [1, -1.5, -1.5], "dos": [-1.5, 1, -1.5], "tres": [1, 1, 1.2]})
    score = dev_score(encoder, _dev(), "pair-accuracy", dtype="fp32")
    assert score.value == pytest.approx(bitext_accuracy(encoder, _dev(), dtype="fp32")) == pytest.approx(2 / 3)
    # per row: a and b are right in one direction of two (0.5), c in both (1.0): sd 0.2887 over sqrt(3)
    assert score.se == pytest.approx(0.288675 / 3 ** 0.5, abs=1e-5)
    assert score.per_row == pytest.approx((0.5, 0.5, 1.0))


def test_a_paired_difference_is_sharper_than_either_scores_own_noise():
    # Given two checkpoints on rows of very different difficulty, the second better by 0.02 on every row but one
    first = [0.1, 0.5, 0.9, 0.3, float("nan")]
    second = [0.12, 0.52, 0.92, 0.31, 0.7]
    gap, se = paired_difference(second, first)
    # Then the difference is taken over the rows scored in both, with the SE of the per-row differences
    assert gap == pytest.approx(0.0175) and se == pytest.approx(0.0025)
    assert se < torch.tensor(first[:4]).std().item() / 2 / 10  # far below either score's unpaired SE
    with pytest.raises(ValueError, match="different dev sets"):
        paired_difference(second, first[:3])


def test_an_unknown_dev_metric_names_the_setting():
    with pytest.raises(ValueError, match="training.dev_metric"):
        dev_score(LookupEncoder({}), _dev(), "accuracy", dtype="fp32")
