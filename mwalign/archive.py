"""The committed archive of result files (``artifacts/<profile>/``): what the reporting chapters read.

A run's models, embeddings and corpus are large and stay in its run folder (``runs/<profile>/``); the reporting
stages (chapter 05 and the front page) read only a few small files of it: the scores with their intervals, the
model index, the corpus manifest, the measured geometry and base-alignment tables, the sensitivity study's
quality table and the stage timings. :func:`export` copies those into ``<book root>/artifacts/<profile>/`` with
the keys of the stages that made them and each file's sha256, like a paper companion's committed result tables.
:func:`restore` puts them back into an empty run folder when those keys are still current and every file is
intact, so ``mwalign run --profile P --only results,intro`` on a fresh clone re-executes the reporting chapters in
minutes instead of running the whole profile again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from mwalign import atomic
from mwalign.artifacts import json_or_none

ARTIFACTS_DIR = "artifacts"
MANIFEST = "manifest.json"
RESTORED = ".restored-artifacts.json"  # in a run folder: which files came from committed artifacts
# Run-folder files the reporting stages read (each copied when the run has it).
REPORTING_FILES = (
    "results/scores.parquet",
    "results/geometry.json",
    "results/base_alignment.parquet",
    "models/index.json",
    "corpus/manifest.json",
    "corpus/sensitivity/quality.parquet",
    "stage_timings.json",
)
REQUIRED = ("results/scores.parquet", "models/index.json", "corpus/manifest.json")
# Derived at export from every model folder's mwalign_training.json: how each run ended (chapter 05 compares
# kept with last weights), without the model folders themselves.
TRAINING_RECORDS = "models/training_records.json"
RECORD_KEYS = ("best_step", "steps", "total_steps", "stop_reason", "stopped_early", "kept_sentences_seen")
# The stages whose results the files are: their keys must match for a restore.
PRODUCING_STAGES = ("data", "train", "me5", "evaluate")


class ArtifactError(ValueError):
    """Committed artifacts that cannot be used as they are; the message names the file."""


def folder(book_root: Path, profile: str) -> Path:
    return Path(book_root) / ARTIFACTS_DIR / profile


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(run_dir: Path, book_root: Path, profile: str, keys: dict[str, str]) -> Path | None:
    """Copy the run's reporting files into ``<book_root>/artifacts/<profile>/`` with ``keys`` (of
    :data:`PRODUCING_STAGES`); the folder is replaced whole (built beside it, then renamed). None when the run lacks
    a required file or its files came from committed artifacts themselves."""
    run_dir = Path(run_dir)
    if (run_dir / RESTORED).is_file() or not all((run_dir / name).is_file() for name in REQUIRED):
        return None
    target = folder(book_root, profile)
    with atomic.atomic_dir(target) as staging:
        files = {}
        for name in REPORTING_FILES:
            source = run_dir / name
            if source.is_file():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, staging / name)
                files[name] = _sha256(staging / name)
        records = training_records(run_dir)
        if records:
            atomic.write_json(staging / TRAINING_RECORDS, records, indent=1, sort_keys=True)
            files[TRAINING_RECORDS] = _sha256(staging / TRAINING_RECORDS)
        manifest = {"profile": profile, "stage_keys": {s: keys[s] for s in PRODUCING_STAGES}, "files": files}
        atomic.write_json(staging / MANIFEST, manifest, indent=1, sort_keys=True)
    return target


def training_records(run_dir: Path) -> dict[str, dict[str, Any]]:
    """{model label: how its run ended (:data:`RECORD_KEYS`)} for every indexed model with a training record;
    the run folder's :data:`TRAINING_RECORDS` (restored from artifacts) when it has one."""
    run_dir = Path(run_dir)
    restored = json_or_none(run_dir / TRAINING_RECORDS)
    if restored is not None:
        return restored
    index = json_or_none(run_dir / "models" / "index.json")
    records = {}
    for entry in index if isinstance(index, list) else []:
        record = json_or_none(run_dir / entry.get("path", "") / "mwalign_training.json")
        if isinstance(record, dict):
            records[entry["label"]] = {key: record[key] for key in RECORD_KEYS if key in record}
    return records


def read_manifest(source: Path) -> dict[str, Any] | None:
    path = Path(source) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ArtifactError(f"{path}: not valid JSON ({err}); restore it with git checkout or rerun the profile") from None
    if not isinstance(manifest, dict) or not {"stage_keys", "files"} <= set(manifest):
        raise ArtifactError(f"{path}: no stage_keys and files; restore it with git checkout or rerun the profile")
    return manifest


def current(source: Path, keys: dict[str, str]) -> bool:
    """True when committed artifacts exist in ``source`` and were made under ``keys``."""
    manifest = read_manifest(source)
    return bool(manifest) and all(manifest["stage_keys"].get(s) == keys[s] for s in PRODUCING_STAGES)


def restore(source: Path, run_dir: Path, keys: dict[str, str]) -> list[str]:
    """Copy committed artifacts into ``run_dir`` where it lacks them, if their keys are current; the names restored.

    Every file is checked against its recorded sha256 first; a damaged one is an error naming it. The restored
    names are recorded in ``<run_dir>/.restored-artifacts.json``: they stand in for the producing stages only
    for the reporting chapters (the pipeline still runs a producing stage that another one needs).
    """
    source, run_dir = Path(source), Path(run_dir)
    if not current(source, keys):
        return []
    manifest = read_manifest(source)
    for name, digest in manifest["files"].items():
        path = source / name
        if not path.is_file() or _sha256(path) != digest:
            raise ArtifactError(f"{path}: missing or changed since it was committed (sha256 differs); restore it "
                                "with git checkout or rerun the profile")
    restored = []
    for name in manifest["files"]:
        target = run_dir / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic.atomic_path(target) as tmp:
                shutil.copyfile(source / name, tmp)
            restored.append(name)
    if restored:
        atomic.write_json(run_dir / RESTORED, sorted(set(restored) | set(restored_names(run_dir))), indent=1)
    return restored


def restored_names(run_dir: Path) -> list[str]:
    try:
        return list(json.loads((Path(run_dir) / RESTORED).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return []
