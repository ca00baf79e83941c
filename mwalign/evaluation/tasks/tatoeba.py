"""Tatoeba bitext mining (official mteb task ``Tatoeba``) read from the LASER mirror.

Metadata, subsets (``xxx-eng``), split (``test``) and main score (``f1``) are
inherited unchanged from mteb's ``TatoebaBitextMining``; only loading differs.
Mirror: ``tatoeba/tatoeba.<xxx>-eng.<xxx>`` (sentence1) and
``tatoeba/tatoeba.<xxx>-eng.eng`` (sentence2), line-aligned. mteb's hub copy
keeps each line's trailing newline (its descriptive stats count one extra
character per sentence); tokenizers drop it, so we strip it.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.bitext_mining.multilingual.tatoeba_bitext_mining import TatoebaBitextMining

from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import mirror_path, read_parallel


class Tatoeba(MirrorOrHub, TatoebaBitextMining):
    official_extra_chars = 1  # the hub copy's trailing newline (see the module docstring)

    def read_mirror(self) -> Any:
        root = mirror_path("tatoeba")
        dataset = {}
        for subset in self.hf_subsets:
            xxx = subset.split("-")[0]
            sentence1, sentence2 = read_parallel(root / f"tatoeba.{subset}.{xxx}", root / f"tatoeba.{subset}.eng")
            data = Dataset.from_dict({"sentence1": sentence1, "sentence2": sentence2})
            dataset[subset] = DatasetDict({"test": data})
        return dataset
