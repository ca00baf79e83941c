"""STS Benchmark machine-translated (official mteb task ``STSBenchmarkMultilingualSTS``) from the mirror.

Mirror: ``stsb_multi_mt/data/stsb-<lang>-{dev,test}.csv``, rows
``sentence1,sentence2,score`` (excel dialect, no header), scores 0-5. mteb's
10 subsets (en de es fr it nl pl pt ru zh); the mirror's ``ja`` is not an
mteb subset. Rows, scores and text lengths equal mteb's hub copy (its descriptive
stats); its count of distinct pairs is higher by 1 to 3 per split (a few pairs
that differ in the hub copy only, e.g. by whitespace), hence the tolerance.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.sts.multilingual.sts_benchmark_multilingual_sts import STSBenchmarkMultilingualSTS as _Official

from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import check_scores, mirror_path, read_csv


def read_stsb(lang: str, split: str, low: float, high: float) -> Dataset:
    path = mirror_path("stsb_multi_mt", "data", f"stsb-{lang}-{split}.csv")
    rows = read_csv(path, fields=3)
    scores = check_scores([float(r[2]) for r in rows], low, high, where=path)
    return Dataset.from_dict({"sentence1": [r[0] for r in rows], "sentence2": [r[1] for r in rows], "score": scores})


class STSBenchmarkMultilingualSTS(MirrorOrHub, _Official):
    official_text_tolerance = 0.003  # distinct pairs: at most 3 of 1,379 differ from the hub copy

    def read_mirror(self) -> Any:
        return {
            lang: DatasetDict({s: read_stsb(lang, s, self.min_score, self.max_score) for s in self.eval_splits})
            for lang in self.hf_subsets
        }
