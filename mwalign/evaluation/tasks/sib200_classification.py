"""SIB-200 topic classification (official mteb task ``SIB200Classification``) from the mirror.

Mirror: ``sib200/annotated/<lang>/{train,dev,test}.tsv`` with columns
``index_id<TAB>category<TAB>text``; ``dev`` is mteb's ``validation``. The rows
go through mteb's own ``dataset_transform`` (class-encode ``category``), so
label ids match the hub copy.

Version: deliberately v1. mteb marks it ``superseded_by="SIB200Classification.v2"``;
v2 is another dataset (``mteb/sib200.v2``): 14 topic labels instead of 7, a
``test`` split of 1,225 sentences per language instead of 204, train/test only.
The mirror holds the 7-label release for all 205 languages (14 labels only for
English, ``sib200/eng_14``), which is exactly v1: per subset and split the row and
label counts equal mteb's v1 record. The FLORES text is the newer upstream
revision (at most 0.7 % of a split's characters differ from the hub copy), hence
the tolerance. The superseded notice is logged, not raised as a warning.
"""

from __future__ import annotations

import logging
from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.classification.multilingual.sib200_classification import SIB200Classification as _Official

from mwalign.evaluation.tasks.classification import ArrayLabels
from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_path, read_tsv

logger = logging.getLogger(__name__)
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
    official_text_tolerance = 0.007  # the upstream FLORES revision (module docstring)

    def check_if_dataset_is_superseded(self) -> None:
        """v1 is the version the mirror holds (module docstring): a log line, not a warning in every chapter."""
        logger.info("%s: v1 on purpose; %s needs 14-label data", self.metadata.name, self.superseded_by)

    def read_mirror(self) -> Any:
        return read_sib_subsets(self.hf_subsets)
