"""Declared versions of what each stage produces, for stage keys and artifact reuse.

A stage's results are keyed by what determines them (as HF ``datasets``
builders key their cache with ``VERSION``, and jupyter-cache keys a notebook
by its code cells, not by the library it imports): the stage's notebook, its
parameters, the keys of the stages it reads, the data it reads, the versions
of the libraries that compute it, and the stage's declared version below.
The package's own source is deliberately *not* hashed: a refactor that
changes no result must not force a rerun.

The contract: **bump a stage's version in** :data:`STAGE_VERSIONS` **in the
same change that alters what the stage produces** (corpus bytes, model
weights, scores), and :data:`CHAPTER_VERSION` when a reporting change alters
what the chapters show. The golden test
(``tests/test_golden.py``) holds the smoke profile's outputs and fails, naming
the stage to bump, when they change while the versions stay put.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from mwalign.datafiles import SUMS_FILE, verify_data

# One entry per pipeline stage. Bump when the stage's outputs would change; say so in the commit.
STAGE_VERSIONS: dict[str, int] = {
    "data": 2,  # corpus bytes: roots, exclusion, translation, filters, budgets, sensitivity corpora.
    # 2: the matching key deletes marks inside words ("don't" = "dont"), so more evaluation copies are excluded
    "train": 2,  # alignment models' weights, training logs and the training chapter.
    # 2: early stopping and model selection by training.dev_metric (default all-language-mrr), logged with its SE
    "me5": 1,  # mE5 fine-tuning weights and its chapter
    "evaluate": 2,  # embeddings, scores and the evaluation chapter. 2: mE5 texts carry the query: prefix once
    "results": 1,  # the results chapter's tables and figures
    "intro": 1,  # the front page's claims table and the README headline
}

# What the chapters show beyond their stages' results: ``mwalign.reporting``'s tables, figures and
# formatting. Bump when a reporting change alters a chapter; it re-executes the chapters, not the
# work behind them (artifact keys, :func:`code_key`, leave it out).
CHAPTER_VERSION = 3  # 2: no sklearn/numpy warnings in chapters 04 and 05; chapter 05 lists the ablation settings.
# 3: five-outcome verdicts under three cost readings, learning curves, depth, geometry over seeds, generated
# interpretations and the findings section (chapters 05, front page); dev resolution (02); encoders table in 04

# Libraries whose versions can change a result; recorded in every key and on every provenance line.
PACKAGES = ("torch", "transformers", "sentence-transformers", "mteb", "datasets")


def stage_version(stage: str) -> int:
    """The declared version of ``stage`` (one of :data:`STAGE_VERSIONS`)."""
    if stage not in STAGE_VERSIONS:
        raise ValueError(f"stage_version: unknown stage {stage!r}; stages are {', '.join(STAGE_VERSIONS)}")
    return STAGE_VERSIONS[stage]


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """``{package: installed version}`` for :data:`PACKAGES` (``"absent"`` for one not installed)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def code_key(stage: str) -> str:
    """What an artifact of ``stage`` records about the code that made it: version and library versions.

    Artifacts in a run folder (a corpus, a trained model, an embedding file) are reused only while
    this is unchanged, so they follow the same rule as the stage keys.
    """
    payload = {"stage": stage, "version": stage_version(stage), "packages": package_versions()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def notebook_hash(path: Path) -> str:
    """Hash of a notebook's cells (type, source, tags), not of its outputs or kernel metadata.

    Prose counts, since the executed chapter shows it; an output or an editor's metadata does not.
    """
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [
        [cell.get("cell_type"), "".join(cell.get("source", [])), sorted(cell.get("metadata", {}).get("tags", []))]
        for cell in notebook.get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:16]


def data_hash(folder: Path) -> str:
    """Content hash of the evaluation-data folder: its ``SHA256SUMS`` once every file it lists is verified
    against it (:func:`mwalign.datafiles.verify_data`, which raises naming a missing or altered file), so the
    key follows the verified contents; without that list, every file's bytes.

    ``"absent"`` when the folder does not exist (a stage that needs it then fails with its own message).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return "absent"
    sums = folder / SUMS_FILE
    digest = hashlib.sha256()
    if sums.is_file():
        verify_data(folder)
        digest.update(sums.read_bytes())
    else:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
