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

from mwalign.evaluation.tasks.hub import load_from_hub
from mwalign.evaluation.tasks.mirror import mirror_available, mirror_path, read_parallel


class Tatoeba(TatoebaBitextMining):
    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        if not mirror_available():
            return load_from_hub(super().load_data, self.metadata.name, num_proc=num_proc, **kwargs)
        root = mirror_path("tatoeba")
        self.dataset = {}
        for subset in self.hf_subsets:
            xxx = subset.split("-")[0]
            sentence1, sentence2 = read_parallel(root / f"tatoeba.{subset}.{xxx}", root / f"tatoeba.{subset}.eng")
            data = Dataset.from_dict({"sentence1": sentence1, "sentence2": sentence2})
            self.dataset[subset] = DatasetDict({"test": data})
        self.data_loaded = True
