"""SIB-200 topic classification (official mteb task ``SIB200Classification``) from the mirror.

Mirror: ``sib200/annotated/<lang>/{train,dev,test}.tsv`` with columns
``index_id<TAB>category<TAB>text``; ``dev`` is mteb's ``validation``. The rows
go through mteb's own ``dataset_transform`` (class-encode ``category``), so
label ids match the hub copy.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.classification.multilingual.sib200_classification import SIB200Classification as _Official

from mwalign.evaluation.tasks.classification import ArrayLabels
from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_path, read_tsv

SPLIT_FILES = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}


def read_sib_split(lang: str, file: str) -> Dataset:
    """One SIB-200 split as ``index_id``, ``category``, ``text`` columns (also used by the FLORES-style bitext)."""
    path = mirror_path("sib200", "annotated", lang, file)
    rows = read_tsv(path)
    if any(len(row) != 3 for row in rows):
        raise MirrorDataError(f"{path}: expected index_id<TAB>category<TAB>text on every line")
    return Dataset.from_dict({
        "index_id": [int(r[0]) for r in rows], "category": [r[1] for r in rows], "text": [r[2] for r in rows],
    })  # fmt: skip


def read_sib_subsets(subsets: list[str]) -> dict[str, DatasetDict]:
    """Every split of each language, as mteb's SIB-200 tasks expect them before ``dataset_transform``."""
    return {lang: DatasetDict({split: read_sib_split(lang, f) for split, f in SPLIT_FILES.items()}) for lang in subsets}


class SIB200Classification(ArrayLabels, MirrorOrHub, _Official):
    transform_mirror = True

    def read_mirror(self) -> Any:
        return read_sib_subsets(self.hf_subsets)
