"""Readers for the read-only data mirror (``mwalign.config.data_dir()``).

Every reader checks what it reads (file present, non-empty, line counts,
score ranges) and raises :class:`MirrorDataError` naming the file, so a bad
mirror fails before any model is loaded or any sentence is encoded.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mwalign.config import data_dir
from mwalign.datafiles import DataFileError, read_utf8


class MirrorDataError(DataFileError):
    """A mirror file that is missing, truncated or inconsistent; the message names the file."""


def mirror_path(*parts: str) -> Path:
    """Path inside the data mirror; the mirror itself may be absent (then tasks use the hub)."""
    return data_dir().joinpath(*parts)


def mirror_available() -> bool:
    """True when the data mirror exists; when it does not, tasks defer to mteb's hub loading."""
    return data_dir().is_dir()


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise MirrorDataError(f"{path}: missing data file (set MWALIGN_DATA_DIR to the data mirror)")
    if path.stat().st_size == 0:
        raise MirrorDataError(f"{path}: empty data file (truncated copy?)")
    return path


def read_lines(path: Path) -> list[str]:
    """One sentence per line; CRLF endings (NTREX) are stripped, empty lines are an error."""
    text = read_utf8(require_file(path))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    empty = [i + 1 for i, line in enumerate(lines) if not line.strip()]
    if empty:
        raise MirrorDataError(f"{path}: empty line {empty[0]} in a line-aligned file")
    return lines


def read_parallel(first: Path, second: Path) -> tuple[list[str], list[str]]:
    """Two line-aligned files; unequal line counts are an error naming both files."""
    left, right = read_lines(first), read_lines(second)
    if len(left) != len(right):
        raise MirrorDataError(
            f"{first} has {len(left)} lines but {second} has {len(right)}; line-aligned files must match"
        )
    return left, right


def read_tsv(path: Path, *, header: bool = True) -> list[list[str]]:
    """Tab-separated rows split on every tab (no csv quoting: STS and SIB files contain quotes)."""
    lines = read_lines(path)
    return [line.split("\t") for line in (lines[1:] if header else lines)]


def read_csv(path: Path, *, delimiter: str = ",", fields: int | None = None) -> list[list[str]]:
    """Rows with csv quoting undone (excel dialect); ``fields``: every row must have that many."""
    text = read_utf8(require_file(path))
    rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row]
    bad = next((i for i, row in enumerate(rows) if fields is not None and len(row) != fields), None)
    if bad is not None:
        raise MirrorDataError(f"{path}: row {bad + 1} has {len(rows[bad])} fields, expected {fields}")
    return rows


def check_scores(scores: list[float], low: float, high: float, *, where: Path) -> list[float]:
    """Gold scores must lie in the task's declared range."""
    bad = [s for s in scores if not low <= s <= high]
    if bad:
        raise MirrorDataError(f"{where}: score {bad[0]} outside the declared range [{low}, {high}]")
    return scores
