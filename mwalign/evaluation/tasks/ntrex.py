"""NTREX-128 bitext mining (official mteb task ``NTREXBitextMining``) from the mirror.

Multi-way parallel: one column per language (``spa_Latn``), mteb's 1,916
directions as ``src-tgt`` subsets (``parallel_subsets``). Files are
``ntrex128/NTREX-128/newstest2019-ref.<code>.txt`` (``newstest2019-src.eng.txt``
for English), CRLF line ends, 1,997 lines each. Documents
(``DOCUMENT_IDS.tsv``) that contain a training sentence are dropped whole, so
only never-trained documents are scored; with none excluded the data equals
mteb's.
"""

from __future__ import annotations

import logging
from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.bitext_mining.multilingual.ntrex_bitext_mining import NTREXBitextMining as _Official

from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_path, read_lines
from mwalign.ntrex import ntrex_dir

logger = logging.getLogger(__name__)
_FILE_CODES = {"zho_Hans": "zho-CN", "zho_Hant": "zho-TW", "eng_Latn": "src.eng"}


def ntrex_path(column: str):
    """The mirror file of one mteb column; NTREX writes some codes with their script (``aze-Latn``)."""
    folder = ntrex_dir()
    if column == "eng_Latn":
        return folder / "newstest2019-src.eng.txt"
    code = _FILE_CODES.get(column)
    candidates = [code] if code else [column.replace("_", "-"), column.split("_")[0]]
    paths = [folder / f"newstest2019-ref.{c}.txt" for c in candidates]
    return next((p for p in paths if p.is_file()), paths[-1])


def kept_lines(exclude: set[str]) -> tuple[list[int], int]:
    """Line numbers of documents sharing no English sentence with ``exclude``, and the total line count."""
    doc_path = mirror_path("ntrex128", "DOCUMENT_IDS.tsv")
    documents, english = read_lines(doc_path), read_lines(ntrex_path("eng_Latn"))
    if len(documents) != len(english):
        raise MirrorDataError(f"{doc_path} has {len(documents)} lines but the English source has {len(english)}")
    tainted = {doc for doc, text in zip(documents, english, strict=True) if text.strip() in exclude}
    if tainted:
        logger.warning("NTREXBitextMining: dropping %d documents that share sentences with training", len(tainted))
    return [i for i, doc in enumerate(documents) if doc not in tainted], len(documents)


class NTREXBitextMining(MirrorOrHub, _Official):
    exclude_sentences: frozenset[str] = frozenset()  # English training sentences (set by the stage)

    def read_mirror(self) -> Any:
        columns = sorted({column for subset in self.hf_subsets for column in subset.split("-")})
        keep, total = kept_lines(set(self.exclude_sentences))
        texts = {column: read_lines(ntrex_path(column)) for column in columns}
        counts = {column: len(lines) for column, lines in texts.items()}
        odd = [column for column, count in counts.items() if count != total]
        if odd:
            raise MirrorDataError(f"{ntrex_path(odd[0])}: {counts[odd[0]]} lines, but NTREX has {total} (DOCUMENT_IDS.tsv)")
        dataset = DatasetDict({"test": Dataset.from_dict({c: [texts[c][i] for i in keep] for c in columns})})
        return dataset
