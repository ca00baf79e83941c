"""Multilingual HateCheck (official mteb task ``MultiHateClassification``) from the mirror.

Mirror: ``multihate/MHC_Final_Cases/hatecheck_cases_final_<language>.csv``
(10 languages) and ``multihate/hatecheck_en/test_suite_cases.csv`` (English);
columns ``test_case``, ``label_gold`` (hateful / non-hateful) and
``functionality``. mteb's own ``dataset_transform`` then draws its seeded
1000/1000 train/test split stratified by functionality.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.classification.multilingual.multi_hate_classification import MultiHateClassification as _Official

from mwalign.evaluation.tasks.classification import ArrayLabels
from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_path, read_csv

_FILES = {
    "ara": "arabic", "cmn": "mandarin", "deu": "german", "fra": "french", "hin": "hindi", "ita": "italian",
    "nld": "dutch", "pol": "polish", "por": "portuguese", "spa": "spanish",
}  # fmt: skip


def read_hatecheck(lang: str) -> Dataset:
    if lang == "eng":
        path = mirror_path("multihate", "hatecheck_en", "test_suite_cases.csv")
    else:
        path = mirror_path("multihate", "MHC_Final_Cases", f"hatecheck_cases_final_{_FILES[lang]}.csv")
    header, *rows = read_csv(path)
    missing = {"test_case", "label_gold", "functionality"} - set(header)
    if missing:
        raise MirrorDataError(f"{path}: missing columns {sorted(missing)}")
    col = {name: header.index(name) for name in ("test_case", "label_gold", "functionality")}
    return Dataset.from_dict({
        "text": [r[col["test_case"]] for r in rows], "is_hateful": [r[col["label_gold"]] for r in rows],
        "functionality": [r[col["functionality"]] for r in rows],
    })  # fmt: skip


class MultiHateClassification(ArrayLabels, MirrorOrHub, _Official):
    transform_mirror = True

    def read_mirror(self) -> Any:
        return {lang: DatasetDict({"test": read_hatecheck(lang)}) for lang in self.hf_subsets}
