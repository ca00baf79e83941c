"""A stable content hash of a sentence-transformers folder, for caches and provenance.

The hash covers what decides the embeddings: every weight file
(``*.safetensors``, or legacy ``pytorch_model.bin``) and the module structure
files (``modules.json``, ``sentence_bert_config.json``, each module's
``config.json`` below the root). It leaves out files that change with the
library version (``config_sentence_transformers.json`` records versions),
READMEs and our own markers. Per-file digests are cached in
``.mwalign-fingerprint.json`` beside the weights and reused while the file's
size and mtime are unchanged, so a repeat call costs a few ``stat`` calls.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mwalign import atomic

CACHE_FILE = ".mwalign-fingerprint.json"
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model.bin")
_STRUCTURE_FILES = ("modules.json", "sentence_bert_config.json")
_CHUNK = 1 << 22


class NoWeightsError(FileNotFoundError):
    """A model folder without weight files."""


def weight_files(folder: Path) -> list[Path]:
    """Weight files anywhere under ``folder`` (sorted; empty if there are none)."""
    found = {p for pattern in WEIGHT_PATTERNS for p in folder.rglob(pattern) if p.is_file()}
    return sorted(found)


def _hashed_files(folder: Path) -> list[Path]:
    weights = weight_files(folder)
    if not weights:
        raise NoWeightsError(
            f"{folder}: no model weights (*.safetensors or pytorch_model.bin); "
            "is this a sentence-transformers folder? run `mwalign models prepare` for local models"
        )
    structure = [folder / name for name in _STRUCTURE_FILES if (folder / name).is_file()]
    module_configs = [p for p in folder.glob("*/config.json") if not p.parent.name.startswith(".")]
    return sorted(set(weights + structure + module_configs))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _load_cache(folder: Path) -> dict:
    try:
        cache = json.loads((folder / CACHE_FILE).read_text(encoding="utf-8"))
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(folder: Path, cache: dict) -> None:
    """Best effort: a read-only model folder just means no cache."""
    try:
        atomic.write_json(folder / CACHE_FILE, cache, indent=1, sort_keys=True)
    except OSError:
        pass


def fingerprint(path: str | Path) -> str:
    """sha256 (hex) over the relative names and contents of a model folder's weight and structure files."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a model folder")
    cache = _load_cache(folder)
    fresh: dict[str, dict] = {}
    total = hashlib.sha256()
    for file in _hashed_files(folder):
        rel = file.relative_to(folder).as_posix()
        stat = file.stat()
        entry = cache.get(rel)
        signature = [stat.st_size, stat.st_mtime_ns]
        if not (isinstance(entry, dict) and [entry.get("size"), entry.get("mtime_ns")] == signature):
            entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _file_sha256(file)}
        fresh[rel] = entry
        total.update(f"{rel}\0{entry['sha256']}\n".encode())
    if fresh != cache:
        _save_cache(folder, fresh)
    return total.hexdigest()
