"""Early-stopping metric: bitext-mining accuracy over ordered language pairs of held-out rows."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mwalign import devices
from mwalign.training import encoding
from mwalign.training.data import rows_from_frame
from mwalign.training.dev_metric import bitext_accuracy


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
