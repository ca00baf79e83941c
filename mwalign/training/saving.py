"""Trained models as plain sentence-transformers folders, and the run's ``models/index.json``.

A folder is written under a temp name and renamed into place (:mod:`mwalign.atomic`), so a failed run never leaves a
half-written ``models/<label>/``. It loads with ``SentenceTransformer(path)``; ``README.md`` carries an
mwalign section with the training parameters, dtype and corpus hash, ``mwalign_training.json`` the same
as JSON, and ``train_log.jsonl`` the per-step log.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from mwalign.artifacts import read_json
from mwalign import atomic

INDEX_COLUMNS = ["label", "path", "base", "role", "method", "seed", "dtype", "corpus_hash"]


def save_model_folder(model: nn.Module, target: Path, training_info: dict[str, Any],
                      train_log: Path | None = None) -> Path:
    """Save ``model`` to ``target`` atomically with the training parameters in its card."""
    with atomic.atomic_dir(target) as tmp:
        model.save(str(tmp), safe_serialization=True)
        info = json.dumps(training_info, indent=2, sort_keys=True)
        (tmp / "mwalign_training.json").write_text(info, encoding="utf-8")
        card = tmp / "README.md"
        section = ("\n\n## mwalign training\n\n"
                   "Trained by mwalign (Fazili & Goswami, arXiv:2602.21543 reproduction).\n\n"
                   f"```json\n{info}\n```\n")
        card.write_text((card.read_text(encoding="utf-8") if card.is_file() else f"# {target.name}") + section,
                        encoding="utf-8")
        if train_log is not None and train_log.is_file():
            shutil.copyfile(train_log, tmp / "train_log.jsonl")
    return target


def read_index(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "models" / "index.json"
    if not path.is_file():
        return []
    entries = read_json(path, "model index", rebuild="mwalign train")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of model entries (CONTRACTS.md)")
    return entries


def update_index(run_dir: Path, entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Add or replace (by label) ``entries`` in ``models/index.json``, atomically; returns them as a frame."""
    for entry in entries:
        missing = [c for c in INDEX_COLUMNS if c not in entry]
        if missing:
            raise ValueError(f"models/index.json entry {entry.get('label')!r}: missing {missing}")
    labels = {e["label"] for e in entries}
    merged = [e for e in read_index(run_dir) if e["label"] not in labels] + entries
    atomic.write_json(run_dir / "models" / "index.json", merged, indent=2)
    return pd.DataFrame(entries, columns=INDEX_COLUMNS)
