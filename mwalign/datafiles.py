"""Reading the data mirror's text files: a byte that is not UTF-8 is an error naming the file and the line;
a file that differs from the mirror's ``SHA256SUMS`` is an error naming the file (:func:`verify_data`).

The corpus (evaluation-set exclusion, NTREX references) and the evaluation tasks read the same mirror;
both decode through :func:`read_utf8`, so a damaged file fails at the first read with where it is damaged,
never with a bare ``UnicodeDecodeError`` deep inside a backend.
"""

from __future__ import annotations

import hashlib
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


SUMS_FILE = "SHA256SUMS"


def listed_digests(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` from ``folder/SHA256SUMS`` (``sha256sum`` format); a bad line is an error."""
    sums = Path(folder) / SUMS_FILE
    listed: dict[str, str] = {}
    for number, line in enumerate(read_utf8(sums).splitlines(), start=1):
        digest, sep, name = line.partition("  ") if "  " in line else line.partition(" *")
        if not line.strip():
            continue
        if not sep or len(digest) != 64 or not name or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise DataFileError(f"{sums}: line {number} is not '<sha256>  <path>'; restore the file from the data mirror")
        listed[name] = digest.lower()
    return listed


def verify_data(folder: Path) -> None:
    """Check every file that ``folder/SHA256SUMS`` lists against its digest; a folder without the list is
    left alone (its key then hashes every byte, :func:`mwalign.versioning.data_hash`).

    A missing or altered file raises :class:`DataFileError` naming it. Each file is hashed once; its digest is
    remembered by size and mtime (:class:`mwalign.filehash.DigestRecord` under ``.cache/data-sha256/``), so a
    repeat check costs one ``stat`` per file.
    """
    from mwalign.config import REPO_ROOT
    from mwalign.filehash import DigestRecord

    folder = Path(folder).resolve()
    sums = folder / SUMS_FILE
    if not sums.is_file():
        return
    listed = listed_digests(folder)
    name = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    record = DigestRecord(REPO_ROOT / ".cache" / "data-sha256" / f"{name}.json")
    try:
        for rel, expected in listed.items():
            path = folder / rel
            if not path.is_file():
                raise DataFileError(f"{path}: listed in {sums} but missing; restore it from the data mirror")
            if record.sha256(path, rel) != expected:
                raise DataFileError(f"{path}: content differs from its sha256 in {sums} (damaged or edited copy); "
                                    "restore the file from the data mirror")
    finally:
        record.save()
