"""Every file of a finished run folder, truncated or filled with random bytes: the stage that reads it names it in
one line, or rebuilds it and gives the same result; never a traceback (issue 29, item 3).

The smoke run (session fixture ``smoke_run``) is made once. Per case the run folder is cloned (small files
copied; model weights and tokenizers, which stages replace whole and never edit, hard-linked), one file is
damaged, and the reading command runs in-process on the clone. Files of the same kind in sibling folders
(the same reader code: ``models/<label>/config.json`` of each trained model) are checked once per kind.

Also here, as they need a finished run: a smoke run without ``--book-root`` leaves the repository as it was
(item 7).
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from mwalign import cli, pipeline
from mwalign.config import REPO_ROOT

# The command that reads each file first (the consumer stage), most specific pattern first.
READERS = (
    ("corpus/cache.sqlite", "corpus"), ("corpus/manifest.json", "corpus"), ("corpus/quality.parquet", "corpus"),
    ("corpus/sensitivity/*", "corpus"), ("corpus/translations.parquet", "evaluate"), ("corpus/*.parquet", "train"),
    ("models/*", "evaluate"), ("results/*", "evaluate"), ("stages/*", "plan"), ("stage_timings.json", "plan"),
)
HARD_LINKED = ("model.safetensors", "tokenizer.json")


def _reader(rel: str) -> str:
    return next(command for pattern, command in READERS if fnmatch.fnmatch(rel, pattern))


def _kind(rel: str, labels: list[str]) -> str:
    """``models/tiny-xlmr-multiway-s0/config.json`` -> ``models/<label>/config.json`` (and alike in results/)."""
    for label in sorted(labels, key=len, reverse=True):
        rel = rel.replace(f"models/{label}/", "models/<label>/").replace(f"mwalign__{label}/", "mwalign__<label>/")
    rel = re.sub(r"mwalign__<label>/[0-9a-f]{16}/", "mwalign__<label>/<rev>/", rel)
    rel = re.sub(r"/dtype_[^/]+/", "/<experiment>/", rel)
    return re.sub(r"fingerprints/[0-9a-f]{16}\.json", "fingerprints/<hash>.json", rel)


def _files_by_kind(run_dir: Path) -> dict[str, str]:
    """One file per kind (the base models and the trained ones are different kinds of folder)."""
    labels = [entry["label"] for entry in json.loads((run_dir / "models" / "index.json").read_text())]
    trained = [label for label in labels if not label.endswith("-base")]
    kinds: dict[str, str] = {}
    for path in sorted(run_dir.rglob("*")):
        rel = str(path.relative_to(run_dir))
        if path.is_file() and path.name != ".mwalign.lock":
            base = next((label for label in labels if f"/{label}/" in f"/{rel}" and label.endswith("-base")), None)
            kind = _kind(rel, trained) if base is None else _kind(rel, [base]).replace("<label>", "<base>")
            kinds.setdefault(kind, rel)
    return kinds


def _clone(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        copy = target / path.relative_to(source)
        if path.is_dir():
            copy.mkdir(parents=True, exist_ok=True)
        elif path.name in HARD_LINKED:
            copy.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, copy)
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)


def _damage(path: Path, how: str) -> None:
    raw = path.read_bytes()
    path.unlink()  # a new inode: a hard-linked original stays intact
    path.write_bytes(raw[: len(raw) // 2] if how == "truncated" else os.urandom(max(len(raw), 64)))


def _result(command: str, run_dir: Path) -> object:
    """What the command produced, to compare with the intact run's."""
    if command == "corpus":
        manifest = json.loads((run_dir / "corpus" / "manifest.json").read_text())
        return manifest["content_hash"], manifest["files"]
    if command == "evaluate":
        return pd.read_parquet(run_dir / "results" / "scores.parquet").to_json()  # NaN-safe, exact floats
    if command in ("train", "me5"):
        return json.loads((run_dir / "models" / "index.json").read_text())
    return None


def _run(command: str, run_dir: Path) -> tuple[object, str]:
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main([command, "--run-dir", str(run_dir)])
    except Exception as exc:  # noqa: BLE001 (the finding: a library error reached the user)
        return f"traceback {type(exc).__name__}: {str(exc)[:160]}", err.getvalue()
    return code, err.getvalue()


@pytest.fixture(scope="module")
def intact(smoke_run, tmp_path_factory) -> tuple[Path, dict[str, object]]:
    """A copy of the finished smoke run and each reading command's result on it."""
    copy = tmp_path_factory.mktemp("intact") / "run"
    _clone(smoke_run[1], copy)
    return copy, {command: _result(command, copy) for command in ("corpus", "train", "evaluate")}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["truncated", "random-bytes"])
def test_every_damaged_file_is_named_or_rebuilt(intact, tmp_path, how):
    # Given the finished smoke run and, per file kind, a clone with that file damaged
    source, expected = intact
    findings = []
    for kind, rel in _files_by_kind(source).items():
        case = tmp_path / "case"
        shutil.rmtree(case, ignore_errors=True)
        _clone(source, case)
        _damage(case / rel, how)
        # When the command that reads it runs
        command = _reader(rel)
        code, err = _run(command, case)
        # Then: one `mwalign: error:` line naming the file (or its model folder), or the same result as intact
        errors = [line for line in err.splitlines() if line.startswith("mwalign: error: ")]
        names_it = any(str(case / rel) in line or str((case / rel).parent) in line for line in errors)
        if code == 2 and len(errors) == 1 and names_it and "Traceback" not in err:
            continue
        if code == 0 and _result(command, case) == expected.get(command):
            continue
        findings.append(f"{kind} ({how}, `mwalign {command}`): exit {code}: {(errors or err.splitlines() or [''])[-1]}")
    assert not findings, f"{len(findings)} damaged files not named or rebuilt:\n" + "\n".join(findings)


@pytest.mark.slow
def test_a_smoke_run_without_book_root_leaves_the_repository_as_it_was(smoke_run, tmp_path):
    # Given a finished smoke run (copied) and the repository's state
    run_dir = tmp_path / "run"
    _clone(smoke_run[1], run_dir)

    def state() -> tuple[str, dict[Path, int]]:
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO_ROOT,
                                capture_output=True, text=True, check=True).stdout
        watched = [REPO_ROOT / "README.md", *(REPO_ROOT / pipeline.CHAPTERS_SUBDIR).glob("*")]
        return status, {path: path.stat().st_mtime_ns for path in watched}

    before = state()
    # When the front page is re-executed with the smoke profile and no --book-root
    outcome = pipeline.run("smoke", run_dir=run_dir, only=["intro"], force=True, build=False, log=lambda _: None)
    # Then it ran into the run's own book folder, with its headline there, and the repository is unchanged
    assert outcome == {"intro": "ran"}
    assert (run_dir / "book" / pipeline.CHAPTERS_SUBDIR / "00_introduction.ipynb").is_file()
    assert (run_dir / "book" / "headline.md").read_text().startswith("| role |")
    assert state() == before, "a smoke run without --book-root changed the committed book or README"
