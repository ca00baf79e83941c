"""The provenance line printed under every figure and table of the book."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mwalign.artifacts import json_or_none
from mwalign.config import REPO_ROOT, RUN_OUTPUTS, RunConfig, run_dir_for
from mwalign.devices import cpu_capability
from mwalign.reporting import readings
from mwalign.versioning import package_versions as _package_versions


@lru_cache(maxsize=1)
def git_commit(root: Path = REPO_ROOT) -> str:
    """HEAD's short hash, with ``+dirty`` when tracked files other than the run's own outputs differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
             *(f":(exclude){path}" for path in RUN_OUTPUTS)],
            cwd=root, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}+dirty" if dirty else head


def package_versions() -> str:
    return ", ".join(f"{name} {version}" for name, version in _package_versions().items())


def corpus_hash(run_dir: Path) -> str:
    manifest = Path(run_dir) / "corpus" / "manifest.json"
    if not manifest.is_file():
        return "none"
    return json.loads(manifest.read_text())["content_hash"][:16]


def exclusion_missing(run_dir: Path) -> bool:
    """True when the run's corpus was built without the evaluation-set exclusion (corpus.allow_missing_exclusion)."""
    manifest = Path(run_dir) / "corpus" / "manifest.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("exclusion", {}).get("evaluation_sets") == "missing"


TRAINED_BY = {"train": "unaligned", "me5": "me5"}  # a training chapter's models, by the role index.json gives them
SCORED_BY = ("evaluate", "results", "intro")  # chapters whose numbers come from results/scores.parquet


def dtype_that_ran(cfg: RunConfig, run_dir: Path, requested: str, stage: str | None = None) -> str:
    """The dtype behind a chapter's numbers, where the run recorded it: the trained models' (``models/index.json``)
    for a training chapter, the scores' (``results/scores.parquet``) for an evaluation one; else what autocast
    picks here for ``requested`` (a CPU without bf16 matrix units runs fp32). Asked for another, it says so."""
    from mwalign.devices import autocast_dtype, resolve_device

    ran: set[str] = set()
    index = json_or_none(Path(run_dir) / "models" / "index.json") if stage in TRAINED_BY else None
    if isinstance(index, list):
        ran = {e["dtype"] for e in index if e.get("role") == TRAINED_BY[stage] and e.get("method") != "base"
               and e.get("dtype")}
    scores = Path(run_dir) / "results" / "scores.parquet"
    if stage in SCORED_BY and scores.is_file():
        import pyarrow.parquet as pq

        ran = {str(d) for d in pq.read_table(scores, columns=["dtype"]).column("dtype").to_pylist() if d}
    if not ran:
        ran = {autocast_dtype(resolve_device(cfg.device), requested)}
    shown = ", ".join(sorted(ran))
    if ran == {requested}:
        return shown
    why = "; without bf16 matrix units autocast runs fp32" if ran == {"fp32"} and requested == "bf16" else ""
    return f"{shown} (asked: {requested}{why})"


def provenance(cfg: RunConfig, run_dir: Path, *, dtype: str | None = None, stage: str | None = None) -> str:
    """One Markdown line: profile, parameter hash, corpus hash, commit, versions, the dtype that ran and the CPU
    kernels."""
    params = cfg.section_hash("corpus", "training", "me5", "evaluation")
    parts = [
        f"profile `{cfg.name}`",
        f"parameters `{params}`",
        f"corpus `{corpus_hash(run_dir)}`"
        + (" built **without** the evaluation-set exclusion (data dir missing)" if exclusion_missing(run_dir) else ""),
        f"commit `{git_commit()}`",
        package_versions(),
    ]
    if dtype:
        parts.append(f"dtype {dtype_that_ran(cfg, run_dir, dtype, stage)}")
    parts.append(f"CPU kernels {cpu_capability()}")  # bf16 results move in their last bits between CPU families
    return "*Provenance:* " + "; ".join(parts) + "."


def regenerate_command(cfg: RunConfig, run_dir: Path, stage: str, overrides: dict[str, Any] | None = None) -> str:
    """The shell command that re-executes ``stage`` with this chapter's parameters (upstream artifacts reused)."""
    parts = ["mwalign run", f"--profile {cfg.name}", f"--only {stage}"]
    parts += [f"--set {shlex.quote(f'{key}={value}')}" for key, value in _flat_overrides(overrides or {})]
    if Path(run_dir).resolve() != run_dir_for(cfg).resolve():
        parts.append(f"--run-dir {_run_dir_argument(Path(run_dir))}")
    return " ".join(parts)


def _run_dir_argument(run_dir: Path) -> str:
    """A run dir inside the repository, relative to it; elsewhere a placeholder (a page names no machine path)."""
    try:
        return shlex.quote(str(run_dir.resolve().relative_to(REPO_ROOT)))
    except ValueError:
        return "RUN_DIR"


def _flat_overrides(overrides: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    flat = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            flat += _flat_overrides(value, f"{prefix}{key}.")
        else:
            flat.append((f"{prefix}{key}", yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
                         .removesuffix("...").strip()))
    return flat


@dataclass
class Captions:
    """A chapter's caption maker: ``caption = Captions(cfg, run, stage="results", overrides=overrides)``,
    then ``caption(dtype=...)`` under every table and figure gives provenance plus the regenerating command,
    after the reading of the figure drawn just before it (:mod:`mwalign.reporting.readings`), if it has one."""

    cfg: RunConfig
    run_dir: Path
    stage: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def text(self, *, dtype: str | None = None) -> str:
        command = regenerate_command(self.cfg, self.run_dir, self.stage, self.overrides)
        return f"{provenance(self.cfg, self.run_dir, dtype=dtype, stage=self.stage)} *Regenerate:* `{command}`"

    def __call__(self, *, dtype: str | None = None):
        from IPython.display import Markdown

        reading = readings.take_figure_reading()
        return Markdown((f"{reading}\n\n" if reading else "") + self.text(dtype=dtype))
