"""SIB-200 topic clustering (official mteb task ``SIB200ClusteringS2S``) from the mirror.

Reads the same ``sib200/annotated/<lang>/*.tsv`` as SIB200Classification;
mteb's own ``dataset_transform`` pools train+validation+test (1,004
sentences) into one ``test`` split and class-encodes the topics.
"""

from __future__ import annotations

from typing import Any

from datasets import DatasetDict
from mteb.tasks.clustering.multilingual.sib200_clustering_s2s import SIB200ClusteringFast

from mwalign.evaluation.tasks.hub import load_from_hub
from mwalign.evaluation.tasks.mirror import mirror_available
from mwalign.evaluation.tasks.sib200_classification import SPLIT_FILES, read_sib_split


class SIB200ClusteringS2S(SIB200ClusteringFast):
    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        if not mirror_available():
            return load_from_hub(super().load_data, self.metadata.name, num_proc=num_proc, **kwargs)
        self.dataset = {
            lang: DatasetDict({split: read_sib_split(lang, f) for split, f in SPLIT_FILES.items()})
            for lang in self.hf_subsets
        }
        self.dataset_transform(num_proc=num_proc)
        self.data_loaded = True
