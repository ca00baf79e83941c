"""A stable content hash of a sentence-transformers folder, for caches and provenance.

The hash covers what decides the embeddings: every weight file
(``*.safetensors``, or legacy ``pytorch_model.bin``) and the module structure
files (``modules.json``, ``sentence_bert_config.json``, each module's
``config.json`` below the root). It leaves out files that change with the
library version (``config_sentence_transformers.json`` records versions),
READMEs and our own markers. Per-file digests are cached in
``.mwalign-fingerprint.json`` beside the weights (or in a ``cache_file`` the
caller names: evaluation never writes into an input model folder) and reused
while the file's size and mtime are unchanged, so a repeat call costs a few
``stat`` calls.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mwalign.filehash import DigestRecord

CACHE_FILE = ".mwalign-fingerprint.json"
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model.bin")
_STRUCTURE_FILES = ("modules.json", "sentence_bert_config.json")


class NoWeightsError(FileNotFoundError):
    """A model folder without weight files."""


class BadWeightsError(ValueError):
    """A ``*.safetensors`` file that is truncated or has a garbled header; the message names the file."""


def check_weights_file(path: Path) -> None:
    """Read the header of one ``*.safetensors`` file (cheap: no tensor is loaded).

    safetensors checks that the header is valid JSON and that its offsets cover the file exactly, so a truncated
    copy or a garbled header fails here as one line naming the file, before a model is built or anything trained.
    """
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt"):
            pass
    except (SafetensorError, OSError) as err:
        raise BadWeightsError(
            f"{path}: not a readable safetensors file ({err}); the copy is truncated or damaged, "
            "copy the model folder again (or rerun the stage that wrote it)"
        ) from None


def check_weights(folder: Path) -> None:
    """:func:`check_weights_file` for every ``*.safetensors`` under ``folder``."""
    for path in weight_files(folder):
        if path.suffix == ".safetensors":
            check_weights_file(path)


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


def fingerprint(path: str | Path, *, cache_file: Path | None = None) -> str:
    """sha256 (hex) over the relative names and contents of a model folder's weight and structure files.

    ``cache_file``: where the per-file digests are kept (default: ``.mwalign-fingerprint.json`` in the folder,
    for the folders mwalign writes itself); pass a path elsewhere for a user's model, which is never written to.
    """
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a model folder")
    record = DigestRecord(cache_file or folder / CACHE_FILE)
    total = hashlib.sha256()
    for file in _hashed_files(folder):
        rel = file.relative_to(folder).as_posix()
        check = check_weights_file if file.suffix == ".safetensors" else None
        total.update(f"{rel}\0{record.sha256(file, rel, before_hashing=check)}\n".encode())
    record.save()
    return total.hexdigest()
