"""Classification scoring on label arrays instead of lazy ``datasets`` columns.

Since datasets 4, ``dataset["label"]`` is a lazy ``Column`` that formats one
row at a time on every read. mteb's classification scoring hands that column
to seven sklearn metrics (each converts it several times) per experiment, and
its undersampling indexes it row by row. On SIB-200 with 11 languages that was
5.7 of the 5.8 minutes per model with every embedding cached. Reading the
column once as a list gives identical scores (tested against mteb's own code).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _LabelsRead:
    """A dataset stand-in for ``_undersample_data``: the label column read once, ``select`` delegated."""

    def __init__(self, dataset: Any, column: str) -> None:
        self.dataset, self.column = dataset, column
        self.labels = list(dataset[column][:])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: Any) -> Any:
        return self.labels if key == self.column else self.dataset[key]

    def select(self, indices: list[int]) -> Any:
        return self.dataset.select(indices)


class ArrayLabels:
    """Mixin put before an mteb classification task class (``AbsTaskClassification``)."""

    def _calculate_scores(self, y_test: Any, y_pred: Any) -> Any:
        return super()._calculate_scores(np.asarray(y_test[:]), y_pred)

    def _undersample_data(self, dataset: Any, experiment_num: int, idxs: list[int] | None = None) -> Any:
        return super()._undersample_data(_LabelsRead(dataset, self.label_column_name), experiment_num, idxs)
