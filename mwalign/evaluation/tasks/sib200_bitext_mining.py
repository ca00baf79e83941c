"""FLORES-style multi-way bitext mining built from SIB-200 (mwalign task ``SIB200BitextMining``).

SIB-200 carries 1,004 FLORES-200 sentences (train+dev+test, keyed by the
shared FLORES ``index_id``) in 205 languages, so any ordered pair of languages
is a mining direction: subsets are ``src-tgt`` with FLORES codes
(``spa_Latn-eng_Latn``), one column per language (``parallel_subsets``), rows
aligned by ``index_id``. Not an official mteb task (FloresBitextMining needs
the full FLORES dev/devtest, absent here), hence its own name; the hub
fallback reads the same sentences from mteb's ``mteb/sib200``.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

import datasets
from datasets import Dataset, DatasetDict
from mteb.abstasks.task_metadata import TaskMetadata
from mteb.abstasks.text.bitext_mining import AbsTaskBitextMining
from mteb.tasks.classification.multilingual.sib200_classification import SIB200Classification as _SIB

from mwalign.evaluation.tasks.hub import load_from_hub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_available
from mwalign.evaluation.tasks.sib200_classification import SPLIT_FILES, read_sib_split

# The 197 languages of mteb's SIB200Classification plus the 8 the SIB-200 repo adds (arb_Arab, zho_Hans, ...).
_SIB_LANGS = sorted({*_SIB.metadata.hf_subsets, "ace_Arab", "arb_Arab", "bjn_Arab", "kas_Arab", "knc_Arab",
                     "min_Arab", "taq_Latn", "zho_Hans"})
_LANGS = {f"{a}-{b}": [a.replace("_", "-"), b.replace("_", "-")] for a, b in permutations(_SIB_LANGS, 2)}


def align_by_index(per_language: dict[str, list[Dataset]]) -> DatasetDict:
    """One row per FLORES ``index_id``, one column per language; every language must hold the same ids."""
    columns, reference = {}, None
    for lang, parts in per_language.items():
        rows = sorted((i, t) for part in parts for i, t in zip(part["index_id"], part["text"], strict=True))
        ids = [i for i, _ in rows]
        if reference is not None and ids != reference:
            raise MirrorDataError(f"sib200/annotated/{lang}: index_id set differs from the other languages")
        reference, columns[lang] = ids, [t for _, t in rows]
    return DatasetDict({"test": Dataset.from_dict(columns)})


class SIB200BitextMining(AbsTaskBitextMining):
    parallel_subsets = True
    metadata = TaskMetadata(
        name="SIB200BitextMining",
        dataset=_SIB.metadata.dataset,
        description="Multi-way bitext mining over the 1,004 FLORES-200 sentences that SIB-200 carries in 205 "
        "languages, aligned by FLORES index_id; any ordered language pair.",
        reference="https://github.com/dadelani/sib-200",
        type="BitextMining",
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=_LANGS,
        main_score="f1",
        date=_SIB.metadata.date,
        domains=["News", "Written"],
        task_subtypes=[],
        license="cc-by-sa-4.0",
        annotations_creators="human-annotated",
        dialect=[],
        sample_creation="human-translated and localized",
        bibtex_citation=_SIB.metadata.bibtex_citation,
    )

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if self.data_loaded:
            return
        langs = sorted({lang for subset in self.hf_subsets for lang in subset.split("-")})
        if not mirror_available():
            return load_from_hub(self._load_hub, self.metadata.name, langs=langs)
        self.dataset = align_by_index({lang: [read_sib_split(lang, f) for f in SPLIT_FILES.values()] for lang in langs})
        self.data_loaded = True

    def _load_hub(self, langs: list[str]) -> None:
        loaded = {lang: datasets.load_dataset(name=lang, **self.metadata.dataset) for lang in langs}
        self.dataset = align_by_index({lang: list(parts.values()) for lang, parts in loaded.items()})
        self.data_loaded = True
