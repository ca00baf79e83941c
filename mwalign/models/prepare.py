"""``mwalign models prepare``: build the offline checkpoints into ``config.models_dir()``.

Each local model is a sentence-transformers folder that plain
``SentenceTransformer(path)`` loads. A folder is built in a temporary
directory beside its target, checked by loading it and embedding a sentence,
then renamed into place, so an interrupted run never leaves a half-written
model. ``.mwalign-model.json`` inside records the recipe, the source
packages and a content hash; a later call whose recipe and sources match is
a no-op that touches no file.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from mwalign import atomic, config
from mwalign.models.fingerprint import fingerprint
from mwalign.models.recipes import LOCAL_MODELS
from mwalign.models.spec import LocalModel, ModelError, Source

__all__ = ["MARKER", "LocalModel", "ModelError", "Source", "build", "is_prepared", "prepare", "prepare_all",
           "read_marker"]

logger = logging.getLogger(__name__)

MARKER = ".mwalign-model.json"
RECIPE_VERSION = 1


def _recipe_signature(model: LocalModel) -> dict:
    sources = {key: f"{s.package}=={s.version}:{s.relpath}" for key, s in model.sources.items()}
    return {"name": model.name, "recipe_version": RECIPE_VERSION, "recipe": model.recipe, "sources": sources}


def read_marker(folder: Path) -> dict | None:
    """The build record of a prepared folder, or None if absent or unreadable."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def is_prepared(model: LocalModel, folder: Path) -> bool:
    """True when ``folder`` holds a complete build of this exact recipe (cheap: no hashing)."""
    marker = read_marker(folder)
    if marker is None or marker.get("signature") != _recipe_signature(model):
        return False
    files = marker.get("files", {})
    try:
        return bool(files) and all((folder / rel).stat().st_size == size for rel, size in files.items())
    except OSError:
        return False


def _write_marker(model: LocalModel, folder: Path, seconds: float) -> dict:
    files = {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".mwalign")
    }
    marker = {
        "signature": _recipe_signature(model),
        "description": model.description,
        "content_hash": fingerprint(folder),
        "files": files,
        "disk_bytes": sum(files.values()),
        "build_seconds": round(seconds, 2),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True), encoding="utf-8")
    return marker


def _check_loads(folder: Path, dimension: int | None) -> None:
    """Refuse to install a folder that plain SentenceTransformer cannot load and run."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    vector = model.encode(["A sentence to check the model."], convert_to_numpy=True)
    if not np.isfinite(vector).all() or (dimension is not None and vector.shape[1] != dimension):
        raise ModelError(f"{folder}: built model gives embeddings of shape {vector.shape}, expected (1, {dimension})")


def build(model: LocalModel, target: Path) -> Path:
    """Build ``model`` into ``target`` atomically (always rebuilds; see :func:`prepare`)."""
    sources = {key: source.path() for key, source in model.sources.items()}  # fail before heavy work
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        message = f"{target.parent}: cannot create the models dir ({err.strerror}); set MWALIGN_MODELS_DIR"
        raise ModelError(message) from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        start = time.perf_counter()
        model.build(sources, tmp, model.recipe)
        atomic.default_permissions(tmp)  # mkdtemp and transformers' shard writer make owner-only files
        _check_loads(tmp, model.recipe.get("dimension"))
        marker = _write_marker(model, tmp, time.perf_counter() - start)
        try:
            atomic.swap_into_place(tmp, target)
        except OSError:
            if not is_prepared(model, target):  # lost a race to a concurrent prepare: theirs is fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("prepared %s in %.1f s (%.1f MB)", model.name, marker["build_seconds"], marker["disk_bytes"] / 1e6)
    return target


def prepare(name: str, models_dir: str | Path | None = None, *, force: bool = False) -> Path:
    """Make the local model ``name`` available under ``models_dir`` (default ``config.models_dir()``).

    Idempotent: returns at once, touching no file, if the folder already holds
    this recipe's build. ``force=True`` rebuilds regardless.
    """
    if name not in LOCAL_MODELS:
        raise ModelError(f"unknown local model {name!r}; local models: {', '.join(LOCAL_MODELS)}")
    model = LOCAL_MODELS[name]
    target = Path(models_dir).expanduser().resolve() if models_dir else config.models_dir()
    target = target / name
    if not force and is_prepared(model, target):
        return target
    return build(model, target)


def prepare_all(models_dir: str | Path | None = None, *, force: bool = False) -> dict[str, Path]:
    """Prepare every local model except the on-demand ones; returns name -> folder."""
    return {name: prepare(name, models_dir, force=force) for name, m in LOCAL_MODELS.items() if not m.on_demand}
