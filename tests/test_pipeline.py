"""Stage planning: a stage reruns when its notebook, parameters, data, version, libraries or upstream change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mwalign import config, pipeline


def _write_chapter(root, stage, key):
    path = root / pipeline.CHAPTERS_SUBDIR / stage.notebook
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": {"mwalign": {"stage_key": key}}, "nbformat": 4, "nbformat_minor": 5}))


def _write_outputs(run_dir, stage):
    for out in stage.outputs:
        (run_dir / out).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / out).write_text("{}")


@pytest.fixture
def current_run(tmp_path):
    """A book root and run dir in which every stage is current for the smoke profile."""
    cfg = config.load_config("smoke")
    keys = pipeline.stage_keys(cfg)
    book, run_dir = tmp_path / "book", tmp_path / "run"
    for stage in pipeline.STAGES:
        _write_chapter(book, stage, keys[stage.name])
        _write_outputs(run_dir, stage)
    return cfg, keys, book, run_dir


def test_nothing_runs_when_everything_is_current(current_run):
    cfg, keys, book, run_dir = current_run
    todo = pipeline.plan(keys, run_dir, book, only=list(pipeline.STAGES), force=False)
    assert todo == [], "current stages must be skipped"


def test_changed_training_parameter_reruns_training_and_downstream_only(current_run):
    # Given a current run, When only a training parameter changes
    cfg, _, book, run_dir = current_run
    changed = config.load_config("smoke", ["training.learning_rate=0.001"])
    keys = pipeline.stage_keys(changed)
    todo = [s.name for s in pipeline.plan(keys, run_dir, book, only=list(pipeline.STAGES), force=False)]
    # Then the corpus is kept, and training, the mE5 stage's inputs and everything after rerun
    assert "data" not in todo
    assert todo[0] == "train" and {"evaluate", "results"} <= set(todo)


def test_missing_upstream_artifacts_pull_the_upstream_stage_in(current_run):
    # Given committed chapters but a fresh run dir (a new clone)
    cfg, keys, book, run_dir = current_run
    fresh = run_dir.parent / "fresh"
    # When only the results stage is stale
    keys = dict(keys, results="stale")
    todo = [s.name for s in pipeline.plan(keys, fresh, book, only=list(pipeline.STAGES), force=False)]
    # Then its upstream stages rerun to recreate their artifacts
    assert todo == ["data", "train", "me5", "evaluate", "results"]


def test_force_reruns_the_selected_stage(current_run):
    cfg, keys, book, run_dir = current_run
    only = pipeline.select_stages(["evaluate"])
    assert [s.name for s in pipeline.plan(keys, run_dir, book, only=only, force=True)] == ["evaluate"]


def test_unknown_stage_lists_the_stages():
    with pytest.raises(pipeline.PipelineError, match="unknown stage; stages are data, train"):
        pipeline.select_stages(["trian"])


def test_stage_key_ignores_unrelated_sections():
    base = pipeline.stage_keys(config.load_config("smoke"))
    other = pipeline.stage_keys(config.load_config("smoke", ["evaluation.batch_size=7"]))
    assert base["data"] == other["data"] and base["train"] == other["train"]
    assert base["evaluate"] != other["evaluate"]


def test_every_notebook_has_a_tagged_parameters_cell():
    import nbformat

    for stage in pipeline.STAGES:
        nb = nbformat.read(pipeline.NOTEBOOKS_DIR / stage.notebook, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{stage.notebook}: needs exactly one cell tagged 'parameters'"
        assert "profile" in tagged[0].source and "overrides" in tagged[0].source


def test_bad_profile_fails_before_any_stage_runs(tmp_path):
    with pytest.raises(config.ConfigError, match="training.batch_size"):
        pipeline.run("smoke", overrides=["training.batch_size=0"], book_root=tmp_path, build=False)
    assert not (tmp_path / pipeline.CHAPTERS_SUBDIR).exists(), "no chapter may be written for a bad profile"


def test_a_version_bump_reruns_that_stage_and_downstream_only(current_run, monkeypatch):
    # Given a current run, When the evaluate stage declares a new version (its results would change)
    cfg, _, book, run_dir = current_run
    versions = pipeline_versions().STAGE_VERSIONS
    monkeypatch.setitem(versions, "evaluate", versions["evaluate"] + 1)
    keys = pipeline.stage_keys(cfg)
    # Then evaluation and the chapters that read its scores rerun, and nothing upstream
    todo = [s.name for s in pipeline.plan(keys, run_dir, book, only=list(pipeline.STAGES), force=False)]
    assert todo == ["evaluate", "results", "intro"]


def test_a_chapter_version_bump_reruns_the_chapters_but_keeps_the_artifacts(current_run, monkeypatch):
    # Given a current run, When a reporting change bumps the chapter version
    cfg, keys, book, run_dir = current_run
    artifact_keys = {stage: pipeline_versions().code_key(stage) for stage in pipeline.STAGE_NAMES}
    monkeypatch.setattr(pipeline, "CHAPTER_VERSION", pipeline.CHAPTER_VERSION + 1)
    moved = pipeline.stage_keys(cfg)
    # Then every chapter is re-executed, but corpus, models and embeddings keep their keys (reused)
    assert all(moved[name] != keys[name] for name in pipeline.STAGE_NAMES)
    assert {stage: pipeline_versions().code_key(stage) for stage in pipeline.STAGE_NAMES} == artifact_keys


def test_stage_keys_do_not_hash_the_package_source(current_run, monkeypatch):
    # Given a current run, When computing keys may not read any of the package's own source files
    cfg, keys, _, _ = current_run
    package = Path(pipeline.__file__).resolve().parent
    real_read_bytes, real_read_text = Path.read_bytes, Path.read_text

    def guarded(real):
        def read(self, *args, **kwargs):
            assert not (self.suffix == ".py" and package in self.resolve().parents), f"stage keys read {self}"
            return real(self, *args, **kwargs)
        return read

    monkeypatch.setattr(Path, "read_bytes", guarded(real_read_bytes))
    monkeypatch.setattr(Path, "read_text", guarded(real_read_text))
    # Then the keys are the same: a refactor that changes no result keeps every stage current
    assert pipeline.stage_keys(cfg) == keys
    parts = pipeline.stage_key_parts(cfg)
    assert set(parts["evaluate"]) == {"version", "chapter_version", "notebook", "parameters", "needs", "data",
                                     "packages"}
    assert parts["evaluate"]["data"] and parts["train"]["data"] is None, "only data-reading stages hash the data"


def test_a_library_upgrade_reruns_every_stage(current_run, monkeypatch):
    cfg, keys, _, _ = current_run
    versions = dict(pipeline_versions().package_versions(), torch="9.9.9")
    monkeypatch.setattr(pipeline, "package_versions", lambda: versions)
    moved = pipeline.stage_keys(cfg)
    assert all(moved[name] != keys[name] for name in pipeline.STAGE_NAMES)


def test_changed_evaluation_data_reruns_the_stages_that_read_it(current_run, monkeypatch, tmp_path):
    # Given a current run, When the evaluation data changes (a verified file with its new checksum)
    import hashlib

    cfg, keys, _, _ = current_run
    other = tmp_path / "data"
    (other / "tatoeba").mkdir(parents=True)
    (other / "tatoeba" / "x").write_text("new\n")
    (other / "SHA256SUMS").write_text(f"{hashlib.sha256(b'new' + bytes([10])).hexdigest()}  tatoeba/x\n")
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(other))
    moved = pipeline.stage_keys(cfg)
    # Then the corpus (its exclusion lists), evaluation and everything downstream move
    assert {name for name in pipeline.STAGE_NAMES if moved[name] != keys[name]} == set(pipeline.STAGE_NAMES)


def pipeline_versions():
    from mwalign import versioning

    return versioning


def test_a_second_run_on_the_same_folder_is_refused_until_the_first_ends(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    # Given another process holding the run folder (as a running `mwalign run` does)
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from mwalign.pipeline import run_lock\n"
         f"with run_lock(Path({str(run_dir)!r})):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        # When a second run starts on it, Then it is refused at once, naming the folder and the holder
        with pytest.raises(pipeline.PipelineError, match=rf"{run_dir}: in use by another mwalign run \(pid"):
            pipeline.run("smoke", run_dir=run_dir, book_root=tmp_path / "book", build=False, log=lambda _: None)
        assert not (tmp_path / "book" / pipeline.CHAPTERS_SUBDIR).exists(), "nothing may run while refused"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # And a killed holder leaves no stale lock behind
    deadline = time.time() + 5
    with pipeline.run_lock(run_dir):
        assert time.time() < deadline


def test_a_refused_second_run_writes_nothing_before_the_lock(tmp_path):
    # Given a run folder whose lock is held (as by a running `mwalign run`)
    run_dir, book = tmp_path / "run", tmp_path / "book"
    with pipeline.run_lock(run_dir):
        # When a second run with its own book root starts, Then it is refused ...
        with pytest.raises(pipeline.PipelineError, match="in use by another mwalign run"):
            pipeline.run("smoke", run_dir=run_dir, book_root=book, build=False, log=lambda _: None)
    # ... before it copied the book's sources anywhere
    assert not book.exists(), "the book root was prepared before the lock was taken"


def test_only_the_committed_books_profile_writes_the_repository_by_default(tmp_path, monkeypatch):
    # Given no --book-root, Then cpu (the committed book's profile) writes the repository, smoke its run folder
    run_path = tmp_path / "run"
    assert pipeline.book_root_for("cpu", run_path, None) == pipeline.REPO_ROOT
    assert pipeline.book_root_for("params/cpu.yml", run_path, None) == pipeline.REPO_ROOT
    assert pipeline.book_root_for("smoke", run_path, None) == run_path / "book"
    # And an explicit --book-root wins, `.` included
    monkeypatch.chdir(pipeline.REPO_ROOT)
    assert pipeline.book_root_for("smoke", run_path, ".") == pipeline.REPO_ROOT


def test_a_run_says_when_the_dtype_it_asks_for_does_not_run_here(monkeypatch):
    from mwalign import devices, pipeline

    cfg = pipeline.load_config("smoke")
    # Given a CPU without bf16 matrix units, Then a run of a bf16 profile says both dtypes run as fp32
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: False)
    line = pipeline.dtype_fallback(cfg)
    assert "training.dtype=bf16 runs as fp32, evaluation.dtype=bf16 runs as fp32 on this cpu" in line, line
    # And with bf16 units, or a profile asking for fp32, it says nothing
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: True)
    assert pipeline.dtype_fallback(cfg) == ""
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: False)
    fp32 = pipeline.load_config("smoke", ["training.dtype=fp32", "evaluation.dtype=fp32"])
    assert pipeline.dtype_fallback(fp32) == ""
