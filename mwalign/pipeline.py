"""Run the chapters in dependency order with papermill, skipping unchanged stages, then build the book.

Each stage is one notebook. Its key hashes the package modules it uses, the
notebook, the config sections it reads and the keys of the stages it needs.
The key is stored in the executed notebook's metadata, so a clone with
committed chapters knows they are current without the run's artifacts. A
current stage is skipped unless a stage after it must run and its artifacts
are missing from the run directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mwalign.config import REPO_ROOT, RunConfig, load_config, parse_set, resolve_profile, run_dir_for
from mwalign.versioning import source_hash

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
CHAPTERS_SUBDIR = Path("book") / "chapters"
# What a book root needs besides the executed chapters (copied when building elsewhere).
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")


@dataclass(frozen=True)
class Stage:
    name: str
    notebook: str
    sections: tuple[str, ...]  # config sections it reads
    needs: tuple[str, ...]  # stages whose artifacts it reads
    modules: tuple[str, ...]  # package paths whose code it runs
    outputs: tuple[str, ...]  # artifacts, relative to the run dir


_BASE = ("config.py", "languages.py", "reporting")
STAGES: tuple[Stage, ...] = (
    Stage("data", "01_data.ipynb", ("corpus",), (), _BASE + ("corpus",), ("corpus/manifest.json",)),
    Stage("train", "02_training.ipynb", ("corpus", "training"), ("data",), _BASE + ("models", "training"),
          ("models/index.json",)),
    Stage("me5", "03_me5.ipynb", ("corpus", "me5"), ("data", "train"), _BASE + ("models", "training"),
          ("models/index.json",)),
    Stage("evaluate", "04_evaluation.ipynb", ("evaluation",), ("train", "me5"),
          _BASE + ("models", "evaluation"), ("results/scores.parquet",)),
    Stage("results", "05_results.ipynb", ("corpus", "training", "me5", "evaluation"), ("evaluate",), _BASE,
          ("results/scores.parquet",)),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


class PipelineError(RuntimeError):
    """A stage failed or was asked for wrongly; the message names the stage and where to look."""


def stage_keys(cfg: RunConfig) -> dict[str, str]:
    """Content key of every stage, in dependency order."""
    keys: dict[str, str] = {}
    for stage in STAGES:
        digest = hashlib.sha256()
        digest.update(source_hash(*stage.modules).encode())
        digest.update((NOTEBOOKS_DIR / stage.notebook).read_bytes())
        digest.update(cfg.section_hash(*stage.sections).encode() if stage.sections else b"")
        for need in stage.needs:
            digest.update(keys[need].encode())
        keys[stage.name] = digest.hexdigest()[:16]
    return keys


def select_stages(only: list[str] | None) -> list[Stage]:
    if not only:
        return list(STAGES)
    unknown = sorted(set(only) - set(STAGE_NAMES))
    if unknown:
        raise PipelineError(f"--only {','.join(unknown)}: unknown stage; stages are {', '.join(STAGE_NAMES)}")
    return [s for s in STAGES if s.name in only]


def recorded_key(book_root: Path, stage: Stage) -> str | None:
    """The stage key stored in an executed chapter's metadata (None if absent)."""
    chapter = book_root / CHAPTERS_SUBDIR / stage.notebook
    if not chapter.is_file():
        return None
    return json.loads(chapter.read_text(encoding="utf-8")).get("metadata", {}).get("mwalign", {}).get("stage_key")


def plan(keys: dict[str, str], run_dir: Path, book_root: Path, *, only: list[Stage], force: bool) -> list[Stage]:
    """Stages to execute: stale or forced ones, plus upstream ones whose artifacts are missing."""
    chosen = {s.name for s in only if force or recorded_key(book_root, s) != keys[s.name]}
    by_name = {s.name: s for s in STAGES}
    for stage in reversed(STAGES):
        if stage.name not in chosen:
            continue
        for need in stage.needs:
            upstream = by_name[need]
            if not all((run_dir / out).exists() for out in upstream.outputs):
                chosen.add(need)
    return [s for s in STAGES if s.name in chosen]


def write_json_atomic(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        json.dump(payload, tmp, indent=2, sort_keys=True)
    os.replace(tmp.name, path)


def execute_stage(stage: Stage, key: str, parameters: dict[str, Any], book_root: Path) -> Path:
    """Execute one notebook with papermill into ``<book_root>/book/chapters``; atomic on success."""
    import nbformat
    import papermill

    out = book_root / CHAPTERS_SUBDIR / stage.notebook
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial.ipynb")
    # Progress bars are noise in a rendered chapter (the per-step logs keep throughput), and
    # libraries importing tqdm.auto would warn that the kernel has no ipywidgets.
    quiet = {"TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore:IProgress not found"}
    previous = {name: os.environ.get(name) for name in quiet}
    os.environ.update(quiet)
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / stage.notebook),
            str(tmp),
            parameters=parameters,
            cwd=str(NOTEBOOKS_DIR),
            kernel_name="python3",
            progress_bar=False,
        )
    except Exception as err:  # papermill raises PapermillExecutionError with the cell's traceback
        failed = out.with_suffix(".failed.ipynb")
        if tmp.exists():
            os.replace(tmp, failed)
        summary = str(err).strip().splitlines()
        raise PipelineError(
            f"stage {stage.name} ({stage.notebook}) failed: {summary[-1] if summary else err}; "
            f"executed notebook with the error: {failed}"
        ) from err
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    notebook = nbformat.read(tmp, as_version=4)
    notebook.metadata["mwalign"] = {"stage": stage.name, "stage_key": key, "parameters": parameters}
    for cell in notebook.cells:  # the book hides parameters behind a toggle
        tags = cell.metadata.get("tags", [])
        if {"parameters", "injected-parameters"} & set(tags) and "hide-cell" not in tags:
            cell.metadata["tags"] = [*tags, "hide-cell"]
    nbformat.write(notebook, tmp)
    os.replace(tmp, out)
    return out


def run(
    profile: str,
    *,
    overrides: list[str] | None = None,
    only: list[str] | None = None,
    run_dir: str | Path | None = None,
    book_root: str | Path | None = None,
    force: bool = False,
    build: bool = True,
    log=print,
) -> dict[str, str]:
    """Execute the stages of a profile, skipping the current ones; return {stage: 'ran'|'skipped'}."""
    override_map = parse_set(overrides or [])
    cfg = load_config(profile, override_map)  # validate before any work
    stages = select_stages(only)
    run_path = run_dir_for(cfg, run_dir)
    root = Path(book_root).resolve() if book_root else REPO_ROOT
    if root != REPO_ROOT:
        prepare_book_root(root)
    keys = stage_keys(cfg)
    parameters = {
        "profile": _profile_parameter(profile),
        "overrides": override_map,
        "run_dir": str(run_path) if run_dir else "",
    }
    todo = plan(keys, run_path, root, only=stages, force=force)
    outcome: dict[str, str] = {}
    for stage in STAGES:
        if stage not in todo:
            if stage in stages:
                log(f"[mwalign] {stage.name}: unchanged, skipped")
                outcome[stage.name] = "skipped"
            continue
        log(f"[mwalign] {stage.name}: running {stage.notebook}")
        started = time.time()
        execute_stage(stage, keys[stage.name], parameters, root)
        seconds = round(time.time() - started, 1)
        write_json_atomic(run_path / "stages" / f"{stage.name}.json",
                          {"key": keys[stage.name], "seconds": seconds, "profile": cfg.name})
        log(f"[mwalign] {stage.name}: done in {seconds}s")
        outcome[stage.name] = "ran"
    if build:
        build_book(root)
    return outcome


def _profile_parameter(profile: str) -> str:
    """The profile as the notebooks should see it: relative to the repo when inside it."""
    path = resolve_profile(profile)
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def prepare_book_root(root: Path) -> None:
    """Make ``root`` a buildable book: copy config, TOC and prose (not the committed chapters)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in BOOK_SOURCES:
        src = REPO_ROOT / name
        dst = root / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("chapters", "_build"))
        else:
            shutil.copy2(src, dst)
    static = REPO_ROOT / "_static"
    if static.is_dir():
        shutil.copytree(static, root / "_static", dirs_exist_ok=True)


def build_book(root: Path) -> Path:
    """Build the HTML book with warnings as errors; return the index page."""
    missing = [s.notebook for s in STAGES if not (root / CHAPTERS_SUBDIR / s.notebook).is_file()]
    if missing:
        raise PipelineError(
            f"{root / CHAPTERS_SUBDIR}: missing executed chapters {', '.join(missing)}; "
            "run `mwalign run --profile cpu` (or smoke) first"
        )
    mathjax = root / "_static" / "mathjax" / "tex-svg-full.js"
    if not mathjax.is_file():
        raise PipelineError(f"{mathjax}: offline MathJax missing; run `make mathjax` (npm pack mathjax@3)")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(root), "--builder", "html", "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise PipelineError(f"jupyter-book build {root} failed (exit {proc.returncode}):\n{tail}")
    return root / "_build" / "html" / "index.html"
