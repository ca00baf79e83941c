"""English sentences of every evaluation set we mirror: training roots must never contain them.

Covers the evaluation data in ``data_dir()``: Tatoeba (English sides), SIB-200
(FLORES English), STS17, STS Benchmark and its multilingual MT version, the
NTREX-128 English source (NTREX is both an evaluation set and the human
reference of the translation-quality study), Amazon counterfactual (EN) and
HateCheck (EN). Matching uses :func:`normalise_key`, so case and punctuation
differences do not let a test sentence slip into training.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from mwalign.config import data_dir
from mwalign.corpus.text import normalise_key
from mwalign.datafiles import read_utf8
from mwalign.ntrex import ntrex_file


def _lines(path: Path) -> Iterator[str]:
    yield from read_utf8(path).splitlines()


def _tsv_column(path: Path, column: int, skip_header: bool = True) -> Iterator[str]:
    for n, line in enumerate(_lines(path)):
        fields = line.split("\t")
        if (n or not skip_header) and len(fields) > column:
            yield fields[column]


def _csv_rows(path: Path) -> Iterator[list[str]]:
    csv.field_size_limit(sys.maxsize)
    yield from csv.reader(io.StringIO(read_utf8(path), newline=""))


def evaluation_sentences(root: Path | None = None) -> Iterator[str]:
    """Every English (and STS17 mixed-language) evaluation sentence under the data dir."""
    root = root or data_dir()
    for path in sorted((root / "tatoeba").glob("tatoeba.*-eng.eng")):
        yield from _lines(path)
    for path in sorted((root / "sib200").glob("eng*/*.tsv")) + sorted((root / "sib200").glob("annotated/eng_Latn/*.tsv")):
        yield from _tsv_column(path, 2)
    for path in sorted((root / "sts17").glob("STS2017.eval.v1.1/STS.input.*.txt")):
        for line in _lines(path):
            yield from line.split("\t")
    for path in sorted((root / "stsbenchmark_en").glob("sts-*.csv")):
        for line in _lines(path):
            yield from line.split("\t")[5:7]
    for path in sorted((root / "stsb_multi_mt").glob("data/stsb-en-*.csv")):
        for row in _csv_rows(path):
            yield from row[:2]
    if ntrex_file("eng", root).is_file():
        yield from _lines(ntrex_file("eng", root))
    for path in sorted((root / "amazon_counterfactual").glob("data/EN*.tsv")):
        yield from _tsv_column(path, 0)
    hatecheck = root / "multihate" / "hatecheck_en" / "test_suite_cases.csv"
    if hatecheck.is_file():
        yield from (row[3] for row in _csv_rows(hatecheck) if len(row) > 3)


@lru_cache(maxsize=4)
def evaluation_keys(root: Path | None = None) -> frozenset[str]:
    """Normalised keys of :func:`evaluation_sentences` (empty when the data dir is absent)."""
    return frozenset(k for k in map(normalise_key, evaluation_sentences(root)) if k)
