"""STS17 (official mteb task ``STS17``) from the SemEval-2017 release in the mirror.

The mirror holds the 6 original SemEval subsets: ar-ar (track1), en-ar
(track2), es-es (track3), es-en (track4a), en-en (track5) and en-tr (track6,
first 250 of its 500 lines, the scored ones). mteb's other 5 subsets (en-de,
fr-en, it-en, nl-en from STS2017-extended, and ko-ko) are not in the mirror,
so with the mirror present the task offers only the 6. Columns are taken as
written (sentence1 = first column), which matches mteb's hub copy; its Arabic
text differs from the SemEval files by a few characters of normalisation
(at most 0.15 % of the characters of ar-ar; the other subsets are identical).
Each of the 6 has exactly mteb's rows and scores, so results keep the official
name; the subsets a result covers are listed in its JSON (``scores.test[].hf_subset``).
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.sts.multilingual.sts17_crosslingual_sts import STS17Crosslingual

from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import (
    MirrorDataError,
    check_scores,
    mirror_available,
    mirror_path,
    read_lines,
)

_TRACKS = {
    "ar-ar": "track1.ar-ar", "en-ar": "track2.ar-en", "es-es": "track3.es-es",
    "es-en": "track4a.es-en", "en-en": "track5.en-en", "en-tr": "track6.tr-en",
}  # fmt: skip


def read_track(track: str, low: float, high: float) -> Dataset:
    root = mirror_path("sts17")
    pairs_path = root / "STS2017.eval.v1.1" / f"STS.input.{track}.txt"
    gold_path = root / "STS2017.gs" / f"STS.gs.{track}.txt"
    gold = check_scores([float(x) for x in read_lines(gold_path)], low, high, where=gold_path)
    pairs = [line.split("\t") for line in read_lines(pairs_path)][: len(gold)]  # track6: only the first 250 are scored
    if len(pairs) < len(gold) or any(len(p) != 2 for p in pairs):
        raise MirrorDataError(f"{pairs_path}: expected {len(gold)} lines of sentence1<TAB>sentence2 (gold {gold_path})")
    return Dataset.from_dict({"sentence1": [p[0] for p in pairs], "sentence2": [p[1] for p in pairs], "score": gold})


class STS17(MirrorOrHub, STS17Crosslingual):
    official_text_tolerance = {"ar-ar": 0.002, "en-ar": 0.002}  # the hub's Arabic normalisation (module docstring)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mirror_available():
            self.hf_subsets = [s for s in self.hf_subsets if s in _TRACKS]

    def read_mirror(self) -> Any:
        return {
            s: DatasetDict({"test": read_track(_TRACKS[s], self.min_score, self.max_score)}) for s in self.hf_subsets
        }
