"""Amazon counterfactual detection (official mteb task ``AmazonCounterfactualClassification``) from the mirror.

Mirror: ``amazon_counterfactual/data/{EN,EN-ext,DE,JP}_{train,valid,test}.tsv``
with header ``sentence<TAB>is_counterfactual``; csv quoting is undone (texts
then equal mteb's hub copy). Subsets en, en-ext, de, ja; ``valid`` is mteb's
``validation``; ``train`` trains the classifier. Licence: CC BY-NC 4.0.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.classification.multilingual.amazon_counterfactual_classification import (
    AmazonCounterfactualClassification as _Official,
)

from mwalign.evaluation.tasks.classification import ArrayLabels
from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_path, read_csv

_FILES = {"en": "EN", "en-ext": "EN-ext", "de": "DE", "ja": "JP"}
_SPLITS = {"train": "train", "validation": "valid", "test": "test"}


def read_counterfactual(subset: str, split: str) -> Dataset:
    path = mirror_path("amazon_counterfactual", "data", f"{_FILES[subset]}_{_SPLITS[split]}.tsv")
    rows = read_csv(path, delimiter="\t", fields=2)[1:]
    labels = [r[1] for r in rows]
    if set(labels) - {"0", "1"}:
        raise MirrorDataError(f"{path}: is_counterfactual must be 0 or 1, found {sorted(set(labels) - {'0', '1'})}")
    return Dataset.from_dict({"text": [r[0] for r in rows], "label": [int(x) for x in labels]})


class AmazonCounterfactualClassification(ArrayLabels, MirrorOrHub, _Official):
    def read_mirror(self) -> Any:
        return {s: DatasetDict({sp: read_counterfactual(s, sp) for sp in _SPLITS}) for s in self.hf_subsets}
