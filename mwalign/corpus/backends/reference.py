"""Human translations looked up in NTREX-128 (multi-way parallel news, 1,997 sentences).

Not a translator: it returns the human reference for English sentences that
occur in the NTREX English source, and ``Translation(None)`` (a counted drop)
for any other sentence. It is the ceiling of the translation-quality study and
a way to build a small human-translated multi-way corpus.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from mwalign import languages, ntrex
from mwalign.config import data_dir
from mwalign.corpus.backends.base import BackendError, Translation, TranslationBackend
from mwalign.corpus.text import clean_text
from mwalign.datafiles import DataFileError, read_utf8


def ntrex_file(lang: str, root: Path | None = None) -> Path:
    """The NTREX-128 file for an ISO 639-3 code (``eng`` is the source file)."""
    return ntrex.ntrex_file(languages.get(lang, where="reference backend").ntrex or lang, root)


@lru_cache(maxsize=64)
def ntrex_lines(lang: str, root: Path | None = None) -> tuple[str, ...]:
    """Cleaned lines (CRLF stripped) of one NTREX-128 language, line-aligned across languages.

    A reference with a different number of lines than the English source (a truncated copy) is an error
    naming both files, raised here, at the first read, instead of an ``IndexError`` inside a backend.
    """
    path = ntrex_file(lang, root)
    if not path.is_file():
        raise BackendError(f"reference backend: {path} not found; set MWALIGN_DATA_DIR to the mirrored data")
    lines = tuple(clean_text(line) for line in read_utf8(path).splitlines())
    if lang != "eng" and len(lines) != len(source := ntrex_lines("eng", root)):
        raise DataFileError(
            f"{path}: {len(lines)} lines but the English source {ntrex_file('eng', root)} has {len(source)}; "
            "NTREX files are line-aligned (truncated copy?); restore it from the data mirror"
        )
    return lines


def check_references(langs: list[str], root: Path | None = None) -> None:
    """Read (and so check) the English source and every NTREX reference of ``langs`` that the mirror has."""
    root = root or data_dir()  # explicit, so the line cache is keyed by the folder actually read
    for lang in ["eng", *langs]:
        if languages.get(lang, where="corpus.pool").ntrex and ntrex_file(lang, root).is_file():
            ntrex_lines(lang, root)


class ReferenceBackend(TranslationBackend):
    """eng -> any language NTREX-128 has in the data dir (human translations)."""

    name = "reference"

    def __init__(self, root: Path | None = None) -> None:
        self.root = root

    @property
    def model_id(self) -> str:
        return "ntrex-128"

    @property
    def version(self) -> str:
        return "MicrosoftTranslator/NTREX@8561f6a"

    def pairs(self) -> set[tuple[str, str]]:
        return {
            ("eng", code)
            for code, lang in languages.LANGUAGES.items()
            if lang.ntrex and code != "eng" and ntrex.ntrex_file(lang.ntrex, self.root).is_file()
        }

    def _translate(self, texts: list[str], src: str, tgt: str) -> list[Translation]:
        index = _line_index(self.root)
        refs = ntrex_lines(tgt, self.root)
        return [Translation(refs[index[key]]) if (key := clean_text(t)) in index else Translation(None) for t in texts]


@lru_cache(maxsize=4)
def _line_index(root: Path | None) -> dict[str, int]:
    index: dict[str, int] = {}
    for number, line in enumerate(ntrex_lines("eng", root)):
        index.setdefault(line, number)  # NTREX repeats a few short lines; the first one wins
    return index
