"""The provenance line printed under every figure and table of the book."""

from __future__ import annotations

import json
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from mwalign.config import REPO_ROOT, RunConfig

PACKAGES = ("torch", "transformers", "sentence-transformers", "mteb", "datasets")


@lru_cache(maxsize=1)
def git_commit() -> str:
    """HEAD's short hash, with ``+dirty`` when tracked files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}+dirty" if dirty else head


def package_versions() -> str:
    return ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)


def corpus_hash(run_dir: Path) -> str:
    manifest = Path(run_dir) / "corpus" / "manifest.json"
    if not manifest.is_file():
        return "none"
    return json.loads(manifest.read_text())["content_hash"][:16]


def provenance(cfg: RunConfig, run_dir: Path, *, dtype: str | None = None) -> str:
    """One Markdown line: profile, parameter hash, corpus hash, commit, versions, dtype."""
    params = cfg.section_hash("corpus", "training", "me5", "evaluation")
    parts = [
        f"profile `{cfg.name}`",
        f"parameters `{params}`",
        f"corpus `{corpus_hash(run_dir)}`",
        f"commit `{git_commit()}`",
        package_versions(),
    ]
    if dtype:
        parts.append(f"dtype {dtype}")
    return "*Provenance:* " + "; ".join(parts) + "."


def caption(cfg: RunConfig, run_dir: Path, *, dtype: str | None = None):
    """The provenance line as a notebook display object."""
    from IPython.display import Markdown

    return Markdown(provenance(cfg, run_dir, dtype=dtype))
