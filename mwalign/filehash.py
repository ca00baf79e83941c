"""sha256 of files, remembered by size and mtime, so that checking the same files again costs a ``stat`` each.

A :class:`DigestRecord` is one JSON file ``{name: {size, mtime_ns, sha256}}``. A file whose size and mtime
match its entry is not read again; any other file is hashed and its entry replaced. Model fingerprints
(:mod:`mwalign.models.fingerprint`) and the data mirror's verification (:mod:`mwalign.datafiles`) both keep
their digests this way. Saving is best effort (a read-only place just means hashing again next time).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from mwalign import atomic

_CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    """Hex sha256 of the bytes of ``path``, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class DigestRecord:
    """Per-file digests kept in ``record_file``; :meth:`save` writes back the entries used since loading."""

    def __init__(self, record_file: Path) -> None:
        self.record_file = Path(record_file)
        try:
            loaded = json.loads(self.record_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        self._loaded: dict = loaded if isinstance(loaded, dict) else {}
        self._used: dict[str, dict] = {}

    def sha256(self, path: Path, name: str, *, before_hashing: Callable[[Path], None] | None = None) -> str:
        """The digest of ``path`` (recorded under ``name``); ``before_hashing`` runs on a file about to be read."""
        stat = Path(path).stat()
        entry = self._loaded.get(name)
        if not (isinstance(entry, dict) and [entry.get("size"), entry.get("mtime_ns")] == [stat.st_size,
                                                                                           stat.st_mtime_ns]):
            if before_hashing is not None:
                before_hashing(path)
            entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": file_sha256(path)}
        self._used[name] = entry
        return entry["sha256"]

    def save(self) -> None:
        """Write the entries used since loading (only when they differ from the file); best effort."""
        if self._used == self._loaded:
            return
        try:
            self.record_file.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_json(self.record_file, self._used, indent=1, sort_keys=True)
        except OSError:
            pass
