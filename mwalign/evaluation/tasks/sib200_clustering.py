"""SIB-200 topic clustering (official mteb task ``SIB200ClusteringS2S``) from the mirror.

Reads the same ``sib200/annotated/<lang>/*.tsv`` as SIB200Classification;
mteb's own ``dataset_transform`` pools train+validation+test (1,004
sentences) into one ``test`` split and class-encodes the topics. The text is
the newer FLORES revision (see SIB200Classification), hence the tolerance.
"""

from __future__ import annotations

from typing import Any

from mteb.tasks.clustering.multilingual.sib200_clustering_s2s import SIB200ClusteringFast

from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.sib200_classification import read_sib_subsets


class SIB200ClusteringS2S(MirrorOrHub, SIB200ClusteringFast):
    transform_mirror = True
    official_text_tolerance = 0.007  # the upstream FLORES revision (sib200_classification docstring)

    def read_mirror(self) -> Any:
        return read_sib_subsets(self.hf_subsets)
