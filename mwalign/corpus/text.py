"""Text normalisation shared by the corpus sources, the translation backends and the evaluation-set exclusion.

:func:`clean_text` is what a stored sentence looks like, :func:`flatten` what a backend is sent (one physical
line), and :func:`normalise_key` the matching key for de-duplication and evaluation-set overlap.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
_IN_WORD_MARKS = re.compile(r"(?<=\w)[^\w\s]+(?=\w)")  # don't, 3,000, e.g: marks inside a word
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029\x00]+")


def normalise_key(text: str) -> str:
    """Matching key for de-duplication and overlap: case-folded letters and digits only.

    Marks inside a word are deleted ("don't" and "dont", "3,000" and "3000" match); other punctuation
    separates words, so "a b" and "ab" stay apart.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", _IN_WORD_MARKS.sub("", folded)).strip()


def clean_text(text: str) -> str:
    """NFC, one line, single spaces."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def flatten(text: str) -> str:
    """One physical line per sentence: line breaks (and NUL) become single spaces."""
    return _LINE_BREAKS.sub(" ", text).strip()
