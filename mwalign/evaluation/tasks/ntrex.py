"""NTREX-128 bitext mining (official mteb task ``NTREXBitextMining``) from the mirror.

Multi-way parallel: one column per language (``spa_Latn``), mteb's 1,916
directions as ``src-tgt`` subsets (``parallel_subsets``). Files are
``ntrex128/NTREX-128/newstest2019-ref.<code>.txt`` (``newstest2019-src.eng.txt``
for English), CRLF line ends, 1,997 lines each; equal to mteb's record of its
hub copy (descriptive stats).

Two names, so a score's name says which rows it was computed on:

* ``NTREXBitextMining`` scores all 1,997 official lines. When a document
  (``DOCUMENT_IDS.tsv``) shares a sentence with the run's training corpus it
  refuses to run rather than score training text under the official name.
* ``NTREXBitextMining.mwalign-clean`` drops such documents whole, so only
  never-trained documents are scored. Its dataset revision (in every result
  JSON) is the official revision plus ``+keep-<n lines>-<hash of the kept line
  numbers>``; with nothing dropped its rows equal the official ones.
* ``NTREXBitextMining.mwalign-xy`` scores every ordered pair of languages
  (X-Y, not only En-X) on NTREX's last lines (:class:`NTREXBitextMiningXY`).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from datasets import Dataset, DatasetDict
from mteb.tasks.bitext_mining.multilingual.ntrex_bitext_mining import NTREXBitextMining as _Official

from mwalign import languages
from mwalign.evaluation.tasks.hub import MirrorOrHub
from mwalign.evaluation.tasks.mirror import MirrorDataError, mirror_available, mirror_path, read_lines
from mwalign.ntrex import ntrex_dir, ntrex_file

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


CLEAN_NAME = "NTREXBitextMining.mwalign-clean"


def kept_lines(exclude: set[str]) -> tuple[list[int], int]:
    """Line numbers of documents sharing no English sentence with ``exclude``, and the total line count."""
    doc_path = mirror_path("ntrex128", "DOCUMENT_IDS.tsv")
    documents, english = read_lines(doc_path), read_lines(ntrex_path("eng_Latn"))
    if len(documents) != len(english):
        raise MirrorDataError(f"{doc_path} has {len(documents)} lines but the English source has {len(english)}")
    tainted = {doc for doc, text in zip(documents, english, strict=True) if text.strip() in exclude}
    return [i for i, doc in enumerate(documents) if doc not in tainted], len(documents)


class NTREXBitextMining(MirrorOrHub, _Official):
    exclude_sentences: frozenset[str] = frozenset()  # English training sentences (set by the stage)

    def rows_to_score(self) -> tuple[list[int], int]:
        """All lines; a document shared with training is an error (the official name means all official rows)."""
        keep, total = kept_lines(set(self.exclude_sentences))
        if len(keep) < total:
            raise MirrorDataError(
                f"{self.metadata.name}: {total - len(keep)} of {total} NTREX lines are in documents that share "
                f"sentences with this run's training corpus; use {CLEAN_NAME} in evaluation.tasks"
            )
        return keep, total

    def read_mirror(self) -> Any:
        columns = sorted({column for subset in self.hf_subsets for column in subset.split("-")})
        keep, total = self.rows_to_score()
        texts = {column: read_lines(ntrex_path(column)) for column in columns}
        counts = {column: len(lines) for column, lines in texts.items()}
        odd = [column for column, count in counts.items() if count != total]
        if odd:
            raise MirrorDataError(f"{ntrex_path(odd[0])}: {counts[odd[0]]} lines, but NTREX has {total} (DOCUMENT_IDS.tsv)")
        dataset = DatasetDict({"test": Dataset.from_dict({c: [texts[c][i] for i in keep] for c in columns})})
        return dataset


class NTREXBitextMiningClean(NTREXBitextMining):
    """NTREX-128 without the documents that share a sentence with training (module docstring)."""

    metadata = _Official.metadata.model_copy(
        update={
            "name": CLEAN_NAME,
            "description": _Official.metadata.description + " mwalign: documents sharing a sentence with the "
            "training corpus are dropped whole; the dataset revision records which lines were kept.",
        }
    )

    def rows_to_score(self) -> tuple[list[int], int]:
        keep, total = kept_lines(set(self.exclude_sentences))
        if len(keep) < total:
            logger.info("%s: kept %d of %d lines (training documents dropped)", CLEAN_NAME, len(keep), total)
        digest = hashlib.sha256(",".join(map(str, keep)).encode()).hexdigest()[:12]
        dataset = {**self.metadata.dataset, "revision": f"{_Official.metadata.revision}+keep-{len(keep)}-{digest}"}
        self.metadata = self.metadata.model_copy(update={"dataset": dataset})
        return keep, total


XY_NAME = "NTREXBitextMining.mwalign-xy"
NTREX_LINES = 1997  # every NTREX-128 file (DOCUMENT_IDS.tsv included)


def _xy_columns() -> dict[str, str]:
    """mwalign code -> the X-Y task's column (``spa_Latn``) for every language of mwalign's table that NTREX has."""
    return {lang.code: f"{lang.code}_{lang.script}" for lang in languages.LANGUAGES.values() if lang.ntrex}


def _xy_eval_langs() -> dict[str, list[str]]:
    """Every ordered pair of those languages, English or not (``spa_Latn-hrv_Latn``)."""
    columns = _xy_columns()
    return {f"{a}-{b}": [a.replace("_", "-"), b.replace("_", "-")]
            for a in columns.values() for b in columns.values() if a != b}


class NTREXBitextMiningXY(MirrorOrHub, _Official):
    """X-Y bitext mining: every ordered pair of the evaluated languages, non-English pairs included, on the last
    ``n_lines`` lines of NTREX-128 (human translations).

    mteb's NTREX task keeps pairs with English, a bridge language or the same language family (M2M-100's
    grouping); multi-way training's claimed advantage is alignment *between* non-English languages, so this task
    scores every pair. Its rows are the last lines of NTREX, which the translation-sensitivity study never trains
    on (it takes at most the first 1,000, ``corpus.sensitivity_roots``); the corpus never holds an NTREX sentence
    (:mod:`mwalign.corpus.exclusion`), and a line that shares its English with the run's training text is an
    error. Its dataset revision records the line count (``+last-<n>``). Mirror only: the hub copy has other rows.
    """

    n_lines: int = 500  # set by the stage from evaluation.ntrex_xy_lines
    # its own task type in the scores table, so X-Y pairs are reported beside, not averaged into, Tatoeba's X-eng
    reported_type = "BitextMining X-Y"
    exclude_sentences: frozenset[str] = frozenset()
    metadata = _Official.metadata.model_copy(
        update={
            "name": XY_NAME,
            "eval_langs": _xy_eval_langs(),
            "description": "mwalign: NTREX-128 bitext mining over every ordered pair of languages (not only those "
            "with English or within a language family), on the last lines of NTREX-128.",
        }
    )

    def set_lines(self, n_lines: int) -> None:
        if not 1 <= n_lines <= NTREX_LINES:
            raise ValueError(f"evaluation.ntrex_xy_lines: {n_lines} not in 1..{NTREX_LINES}")
        self.n_lines = n_lines
        dataset = {**self.metadata.dataset, "revision": f"{_Official.metadata.revision}+last-{n_lines}"}
        self.metadata = self.metadata.model_copy(update={"dataset": dataset})

    def line_numbers(self) -> list[int]:
        """The (0-based) NTREX lines this task scores: the last ``n_lines``."""
        return list(range(NTREX_LINES - self.n_lines, NTREX_LINES))

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        if not self.data_loaded and not mirror_available():
            raise MirrorDataError(f"{XY_NAME}: needs the data mirror (MWALIGN_DATA_DIR); it has no hub copy")
        super().load_data(num_proc=num_proc, **kwargs)

    def read_mirror(self) -> Any:
        codes = {column: code for code, column in _xy_columns().items()}
        columns = sorted({column for subset in self.hf_subsets for column in subset.split("-")})
        keep = self.line_numbers()
        texts = {}
        for column in columns:
            path = ntrex_file(languages.get(codes[column]).ntrex)
            lines = read_lines(path)
            if len(lines) != NTREX_LINES:
                raise MirrorDataError(f"{path}: {len(lines)} lines, but NTREX has {NTREX_LINES}")
            texts[column] = [lines[i] for i in keep]
        english = read_lines(ntrex_file("eng"))
        trained = [i + 1 for i in keep if english[i].strip() in self.exclude_sentences]
        if trained:
            raise MirrorDataError(f"{XY_NAME}: NTREX line {trained[0]} is in this run's training corpus; "
                                  "lower evaluation.ntrex_xy_lines")
        return DatasetDict({"test": Dataset.from_dict(texts)})
