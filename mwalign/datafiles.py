"""Reading the data mirror's text files: a byte that is not UTF-8 is an error naming the file and the line.

The corpus (evaluation-set exclusion, NTREX references) and the evaluation tasks read the same mirror;
both decode through :func:`read_utf8`, so a damaged file fails at the first read with where it is damaged,
never with a bare ``UnicodeDecodeError`` deep inside a backend.
"""

from __future__ import annotations

from pathlib import Path


class DataFileError(ValueError):
    """A data file that cannot be read as intended; the message names the file (and the line)."""


def read_utf8(path: Path) -> str:
    """The text of ``path``; a non-UTF-8 byte raises :class:`DataFileError` with the file and 1-based line."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DataFileError(
            f"{path}: line {line} is not UTF-8 (byte {raw[err.start]:#04x} at offset {err.start}); "
            "restore the file from the data mirror"
        ) from None
