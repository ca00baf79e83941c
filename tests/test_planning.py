"""``mwalign plan`` counts each stage's work without running it, and turns measured per-unit costs into minutes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from mwalign import cli, planning
from mwalign.devices import cpu_capability
from mwalign.config import CHAPTERS_SUBDIR, REPO_ROOT, RunConfig, load_config
from mwalign.training.data import RootBatchSampler


def _tree(path: Path) -> set[tuple[str, int]]:
    return {(str(p.relative_to(path)), p.stat().st_mtime_ns) for p in path.rglob("*")} if path.exists() else set()


def test_plan_for_smoke_prints_counts_and_writes_nothing(tmp_path, capsys, monkeypatch):
    # Given an empty folder as run dir and a runs/ folder without measurements
    run_dir = tmp_path / "run"
    monkeypatch.setattr(planning, "REPO_ROOT", tmp_path)
    before = _tree(tmp_path)
    # When `mwalign plan` runs for smoke
    assert cli.main(["plan", "--profile", "smoke", "--run-dir", str(run_dir)]) == 0
    out = capsys.readouterr().out
    # Then it names every stage's work, says nothing was measured, and left no file behind
    cfg = load_config("smoke")
    from mwalign.corpus.sensitivity import study_languages

    ntrex = len(study_languages(cfg.corpus.pool)) * cfg.corpus.quality_sentences  # the quality study's lines
    expected = cfg.corpus.n_roots * len(cfg.corpus.pool) + ntrex
    assert f"data: {expected} sentences [backend=apertium]" in out, out
    assert f"roots: {cfg.corpus.n_roots} " in out
    assert "train: " in out and "me5: 4 steps" in out and "evaluate: " in out
    assert "no measurement on this machine" in out
    assert _tree(tmp_path) == before, "plan must not create the run folder or any file"


@pytest.mark.parametrize("n_rows", [8, 9, 16, 17, 33])
@pytest.mark.parametrize("batch_size", [2, 8])
def test_steps_without_a_corpus_equal_the_samplers_plan(n_rows, batch_size):
    # Given distinct roots (a corpus has one row per root), When steps are counted without and with the sampler
    root_ids = [f"r{i}" for i in range(n_rows)]
    per_epoch = len(RootBatchSampler(root_ids, batch_size, 0))
    # Then the formula and the sampler agree, also under max_steps and several epochs
    assert planning.steps_per_run(n_rows, batch_size, 3, None) == 3 * per_epoch
    assert planning.steps_per_run(n_rows, batch_size, 3, None, root_ids) == 3 * per_epoch
    assert planning.steps_per_run(n_rows, batch_size, 3, 2) == min(2, 3 * per_epoch)


def _small_profile(run_dir: Path) -> RunConfig:
    return RunConfig.model_validate({
        "name": "plan-test", "corpus": {"source": "gensim-lee", "n_roots": 30, "pool": ["spa", "cat", "epo"],
                                        "k": 3, "quality_backends": ["apertium"], "quality_sentences": 5},
        "training": {"models": ["tiny-xlmr"], "batch_size": 4, "seeds": [0], "ablations": []},
        "me5": {"enabled": False},
    })


def test_planned_translations_match_what_the_data_stage_translates(tmp_path):
    """Compared with a real build: the corpus and the quality study translate exactly what plan announced."""
    if shutil.which("apertium") is None:
        pytest.skip("apt-get install apertium (make env)")
    from mwalign.corpus import run_corpus_stage, run_quality_study

    # Given the plan of a fresh run
    cfg = _small_profile(tmp_path)
    fresh = planning.stage_work(cfg, tmp_path, "data")
    # When the data stage's corpus and quality study run
    manifest = run_corpus_stage(cfg, tmp_path, progress=False)
    run_quality_study(cfg, tmp_path)
    # Then the corpus translated the announced roots, and the cache holds exactly the announced sentences
    assert manifest["source"]["sampled"] == 30 and fresh.lines[0].startswith("roots: 30 ")
    assert manifest["run"]["translated"] + manifest["run"]["cache_hits"] == 30 * len(cfg.corpus.pool)
    cached = planning.cached_counts(tmp_path / "corpus" / "cache.sqlite")
    assert sum(cached.values()) == sum(planning.translation_requests(cfg, 30).values()) == fresh.units
    # And a second plan finds them cached, and reads the rows from the manifest
    again = planning.plan_work(cfg, tmp_path)
    assert again[0].units == 0 and "0 sentences (" in again[0].lines[1], again[0].lines
    assert f"rows: {manifest['counts']['rows']['multiway']} multi-way" in again[1].lines[0]
    rows = manifest["counts"]["rows"]
    sampler_steps = len(RootBatchSampler(
        [f"r{i}" for i in range(rows["multiway"])], 4, 0)) + len(RootBatchSampler(
        [f"r{i}" for i in range(rows["bilingual"])], 4, 0))
    assert again[1].units == sampler_steps, "steps follow the sampler on the corpus's rows"


def test_recorded_timings_turn_into_expected_minutes(tmp_path):
    # Given a run that recorded 120 s for 60 translated sentences with apertium
    cfg = load_config("smoke")
    runs = tmp_path / "runs"
    work = planning.StageWork("data", "sentences", 60, "backend=apertium")
    planning.record_stage_timing(runs / "other-profile", work, 120.0, "other-profile")
    # When another profile with the same backend is planned
    costs = planning.measured_costs(runs)
    text = planning.format_plan(cfg, [planning.StageWork("data", "sentences", 30, "backend=apertium"),
                                      planning.StageWork("train", "steps", 5, "models=x")], costs)
    # Then its minutes use the measured seconds per sentence; a stage without a measurement says so
    assert "data: 30 sentences [backend=apertium]: ~1.0 min (2 s per sentence, with profile other-profile)" \
        in text, text
    assert "train: 5 steps [models=x]: no measurement on this machine" in text
    assert "total: ~1.0 min for the measured stages only; measured on this machine" in text


def test_run_records_each_stages_seconds_and_units_and_prints_minutes(tmp_path, monkeypatch):
    from mwalign import pipeline

    # Given a smoke run whose notebooks are replaced by a stand-in that takes a moment
    cfg = load_config("smoke")
    monkeypatch.setattr(pipeline, "execute_stage", lambda stage, key, parameters, root, work=None: None)
    logged: list[str] = []
    stages = pipeline.select_stages(["data", "train"])
    # When `mwalign run` executes data and train
    pipeline._execute(stages, pipeline.stage_keys(cfg), {}, tmp_path / "run", tmp_path / "book", cfg,
                      force=True, log=logged.append)
    # Then stage_timings.json holds both stages' seconds and the units plan counts, and the log gives minutes
    timings = planning._read_json(tmp_path / "run" / planning.TIMINGS_FILE)
    planned = {w.stage: w for w in planning.plan_work(cfg, tmp_path / "run")}
    assert set(timings) == {"data", "train", planning.MACHINE_ENTRY}
    assert timings[planning.MACHINE_ENTRY]["probe_train_step_s"] > 0, "the run probed the machine once"
    for stage in ("data", "train"):
        assert timings[stage]["units"] == planned[stage].units > 0 and timings[stage]["seconds"] >= 0
        assert timings[stage]["cost_key"] == planned[stage].cost_key and timings[stage]["profile"] == "smoke"
    assert any(line.startswith("[mwalign] minutes per stage: data 0.0, train 0.0") for line in logged), logged


def test_plan_counts_scaling_controls_and_the_temperature_grid(tmp_path):
    # Given a profile with a scaling study, a control encoder and a two-value temperature grid
    cfg = RunConfig.model_validate({
        "name": "plan-test", "corpus": {"source": "gensim-lee", "n_roots": 30, "pool": ["spa", "cat", "epo"],
                                        "k": 3, "quality_backends": ["apertium"], "quality_sentences": 5},
        "training": {"models": ["tiny-xlmr"], "batch_size": 4, "seeds": [0, 1], "ablations": [],
                     "temperature_grid": [0.05, 0.1], "temperature_grid_steps": 3,
                     "controls": [{"model": "minilm-en", "seeds": [0], "label": "control"}],
                     "scaling": {"fractions": [0.5, 1.0], "seeds": [0, 1]}},
        "me5": {"enabled": False},
    })
    # When the train and evaluate stages are planned
    train = planning.stage_work(cfg, tmp_path / "run", "train")
    evaluate = planning.stage_work(cfg, tmp_path / "run", "evaluate")
    names = [line.split(":")[0] for line in train.lines[1:]]
    # Then each job the training stage runs has a line: 2 seeds x 2 methods, 2 seeds x 2 methods at half size,
    # 2 grid runs per base, and the control's two methods
    assert sum("-f0.5 " in n for n in names) == 4 and sum("temperature" in n for n in names) == 4
    assert sum("(control)" in n for n in names) == 2 and len(names) == 4 + 4 + 4 + 2, names
    grid_steps = [int(line.split("at most ")[1].split()[0]) for line in train.lines[1:] if " temperature " in line]
    assert grid_steps and all(0 < steps <= 3 for steps in grid_steps), train.lines  # temperature_grid_steps caps
    # And evaluation counts base + 4 headline + 4 half-size models, and the control's base + 2
    assert evaluate.units == (1 + 4 + 4 + 3) * len(cfg.evaluation.tasks)


def _reproducing_total() -> float:
    """The measured minutes from nothing of the run that made the committed chapters (book/reproducing.md)."""
    import re

    text = (REPO_ROOT / "book" / "reproducing.md").read_text(encoding="utf-8")
    totals = [float(m) for m in re.findall(r"\*\*([0-9.]+)\*\* \(peak RSS", text)]
    return totals[-1]  # the last column: the run whose chapters are committed


def test_a_fresh_clone_plans_the_cpu_profile_from_the_committed_book(tmp_path, capsys):
    # Given no run folder (a fresh clone) on a machine whose probe equals the committed run's
    cfg = load_config("cpu")
    recorded = json.loads((REPO_ROOT / "artifacts" / "cpu" / "stage_timings.json").read_text())["machine"]
    work = planning.plan_work(cfg, tmp_path / "run")
    estimate = planning.estimate_costs(cfg, work, tmp_path / "run", runs_root=tmp_path / "runs",
                                       probe=lambda device: {k: recorded[k] for k in
                                                             ("probe_train_step_s", "probe_encode_s", "cpu_kernels")})
    text = planning.format_plan(cfg, work, estimate)
    # Then every stage has minutes from the committed run's timings, unscaled, and the plan says so
    assert "no measurement" not in text, text
    total = float(text.rsplit("total: ~", 1)[1].split(" min")[0])
    assert "the committed run's timings (artifacts/cpu/stage_timings.json)" in text and "scaled by 1.00" in text, text
    # And the total is within a factor of 2 of the minutes that run measured from nothing (the Reproducing page)
    assert _reproducing_total() / 2 <= total <= 2 * _reproducing_total(), (total, _reproducing_total())


def test_committed_timings_with_a_probe_are_scaled_to_this_machine(tmp_path):
    # Given a committed run's timings (train: 100 steps in 600 s) made on a machine whose probe took 1 s
    cfg = load_config("smoke")
    book = tmp_path / "book"
    committed = book / "artifacts" / "smoke"
    planning.record_stage_timing(committed, planning.StageWork("train", "steps", 100, "models=tiny-xlmr"), 600.0,
                                 "smoke", {"probe_train_step_s": 0.8, "probe_encode_s": 0.2, "cpu_kernels": "AVX512"})
    work = [planning.StageWork("train", "steps", 50, "models=tiny-xlmr")]
    # When this machine's probe takes 2 s (half as fast)
    probe = {"probe_train_step_s": 1.5, "probe_encode_s": 0.5, "cpu_kernels": "AVX2"}
    estimate = planning.estimate_costs(cfg, work, tmp_path / "run", book_root=book, runs_root=tmp_path / "runs",
                                       probe=lambda device: probe)
    text = planning.format_plan(cfg, work, estimate)
    # Then 50 steps take twice the committed 300 s, and the plan says from what
    assert "train: 50 steps [models=tiny-xlmr]: ~10.0 min (12 s per step" in text, text
    assert "estimate from the committed run's timings (artifacts/smoke/stage_timings.json)" in text
    assert "scaled by 2.00 = this machine's probe (2.00 s, AVX2) / the recording machine's (1.00 s, AVX512)" in text


# Folder names a user may well have: SQLite must open them as file names, not read '#' or '?' as URI syntax.
ODD_NAMES = ["run #1", "what?", "100% done", "two words", "résumé-ü"]


def _cache_with_rows(run_dir: Path, rows: int, *, keep_open: bool = False):
    from mwalign.corpus.backends.base import Translation
    from mwalign.corpus.cache import TranslationCache

    cache = TranslationCache(run_dir / "corpus" / "cache.sqlite")
    cache.put_many((f"k{i}", "apertium", "", "1", "eng", "spa", Translation(f"hola {i}", 0)) for i in range(rows))
    if keep_open:
        return cache  # a writer still holds it: the rows sit in cache.sqlite-wal, not yet in the main file
    cache.close()
    return None


@pytest.mark.parametrize("name", ODD_NAMES)
@pytest.mark.parametrize("writer_open", [False, True], ids=["closed", "writer-open"])
def test_plan_reads_the_cache_of_an_oddly_named_run_folder_and_writes_nothing(tmp_path, capsys, name, writer_open):
    # Given a run folder whose name has URI-special or non-ASCII characters, and a cache holding 7 sentences
    # (with writer_open, a writer still holds it and the rows sit in its write-ahead log)
    run_dir = tmp_path / name
    writer = _cache_with_rows(run_dir, 7, keep_open=writer_open)
    before = _tree(tmp_path)
    try:
        # When `mwalign plan` counts the work
        assert cli.main(["plan", "--profile", "smoke", "--run-dir", str(run_dir)]) == 0
        after = _tree(tmp_path)
    finally:
        if writer is not None:
            writer.close()
    out = capsys.readouterr().out
    # Then it finds the 7 cached sentences, and neither the run folder nor its parent gained or changed a file
    assert "7 in the cache" in out, out
    if writer_open:  # a reader may update the writer's shared-memory index; it creates and removes nothing
        before, after = ({(p, 0) if p.endswith("-shm") else (p, t) for p, t in tree} for tree in (before, after))
    assert after == before, f"plan changed files: {sorted(after ^ before)}"


def test_a_forced_rerun_under_the_same_key_keeps_the_timing_of_the_run_that_did_the_work(tmp_path, monkeypatch):
    from mwalign import pipeline

    # Given a smoke run folder whose train stage ran once (its stand-in took 0.3 s)
    cfg = load_config("smoke")
    monkeypatch.setattr(pipeline, "execute_stage", lambda stage, key, parameters, root, work=None: time.sleep(0.3))
    stages, keys = pipeline.select_stages(["train"]), pipeline.stage_keys(cfg)
    pipeline._execute(stages, keys, {}, tmp_path / "run", tmp_path / "book", cfg, force=True, log=print)
    first = planning.recorded_timing(tmp_path / "run", "train")["seconds"]
    # When it is re-executed with --force under the same key (a re-render reusing its jobs: instant)
    monkeypatch.setattr(pipeline, "execute_stage", lambda stage, key, parameters, root, work=None: None)
    logged: list[str] = []
    pipeline._execute(stages, keys, {}, tmp_path / "run", tmp_path / "book", cfg, force=True, log=logged.append)
    # Then the plan's basis is still the first run's seconds, and the log says why
    assert first >= 0.3 and planning.recorded_timing(tmp_path / "run", "train")["seconds"] == first
    assert any("keeps the seconds of the run that did its work" in line for line in logged), logged
    # And under a changed key (other settings) the new seconds are the measurement
    keys = {**keys, "train": keys["train"] + "-changed"}
    pipeline._execute(stages, keys, {}, tmp_path / "run", tmp_path / "book", cfg, force=True, log=print)
    assert planning.recorded_timing(tmp_path / "run", "train")["seconds"] < 0.3


def test_a_probe_on_shared_cores_is_taken_again_and_the_faster_kept(tmp_path):
    # Given a run folder whose probe got 40% of its threads' cores (another process ran) and took 3 s
    shared = {"probe_train_step_s": 2.0, "probe_encode_s": 1.0, "cpu_kernels": cpu_capability(),
              "probe_cpu_share": 0.4}
    planning.record_stage_timing(tmp_path, planning.StageWork("data", "sentences", 1, "k"), 1.0, "smoke", shared)
    calls: list[str] = []

    def probe(result):
        return lambda device: calls.append(device) or result
    idle = {**shared, "probe_train_step_s": 0.3, "probe_encode_s": 0.2, "probe_cpu_share": 1.0}
    # Then the next stage probes again and keeps the faster; an unshared probe is never taken again
    assert planning.run_probe(tmp_path, "cpu", probe=probe(idle)) == idle and calls == ["cpu"]
    assert planning.run_probe(tmp_path, "cpu", idle, probe=probe(shared)) == idle and calls == ["cpu"]
    assert planning.run_probe(tmp_path, "cpu", probe=probe({**shared, "probe_train_step_s": 5.0})) == shared
    # And the real probe says what share it got
    assert 0 < planning.machine_probe()["probe_cpu_share"] <= 1


def test_a_plan_scaled_by_a_shared_probe_says_it_is_unreliable(tmp_path):
    cfg = load_config("smoke")
    book = tmp_path / "book"
    work = [planning.StageWork("train", "steps", 50, "models=x")]
    here = {"probe_train_step_s": 0.3, "probe_encode_s": 0.1, "cpu_kernels": "AVX512", "probe_cpu_share": 1.0}
    for recorded_share, warned in ((0.45, True), (0.98, False)):
        planning.record_stage_timing(book / "artifacts" / "smoke", planning.StageWork("train", "steps", 100, "models=x"),
                                     600.0, "smoke", {"probe_train_step_s": 3.0, "probe_encode_s": 1.0,
                                                      "cpu_kernels": "AVX512", "probe_cpu_share": recorded_share})
        estimate = planning.estimate_costs(cfg, work, tmp_path / "run", book_root=book, runs_root=tmp_path / "runs",
                                           probe=lambda device: here)
        text = planning.format_plan(cfg, work, estimate)
        assert ("unreliable: the recording machine's probe got under 75%" in text) is warned, text


def test_chapter_durations_are_divided_by_the_work_they_paid_for(tmp_path):
    import subprocess

    # Given a book whose train chapter took 600 s, executed when the profile had 1 seed, and the profile now has 2
    book = tmp_path / "book"
    (book / "params").mkdir(parents=True)
    (book / CHAPTERS_SUBDIR).mkdir(parents=True)
    profile = (REPO_ROOT / "params" / "smoke.yml").read_text(encoding="utf-8")
    (book / "params" / "smoke.yml").write_text(profile, encoding="utf-8")
    chapter = {"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "mwalign": {"stage": "train", "parameters": {"profile": "smoke"}}, "papermill": {"duration": 600.0}}}
    (book / CHAPTERS_SUBDIR / "02_training.ipynb").write_text(json.dumps(chapter), encoding="utf-8")
    git = ["git", "-C", str(book), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "book"], check=True)
    then = planning.stage_work(load_config("smoke"), tmp_path / "run", "train").units
    (book / "params" / "smoke.yml").write_text(profile.replace("  seeds: [0]\n", "  seeds: [0, 1]\n"), "utf-8")
    # When the costs are read from the committed book
    costs, where, _ = planning.committed_costs(load_config("smoke"), book_root=book)
    # Then the 600 s are spread over the steps of the profile as committed with the chapter, not today's
    (cost,) = costs.values()
    assert cost["per_unit"] == pytest.approx(600.0 / then), (cost, then)
    assert "the profile as committed with the chapter (git)" in where
    # And a chapter that records its work is divided by that
    chapter["metadata"]["mwalign"]["work"] = {"units": 300, "cost_key": "models=tiny-xlmr", "unit": "steps"}
    (book / CHAPTERS_SUBDIR / "02_training.ipynb").write_text(json.dumps(chapter), encoding="utf-8")
    costs, where, _ = planning.committed_costs(load_config("smoke"), book_root=book)
    assert costs == {("train", "models=tiny-xlmr"): {"per_unit": 2.0, "profile": "smoke"}}
    assert "older chapters" not in where


def _machine(small: float, dtype: str = "bf16") -> dict:
    return {"probe_train_step_s": small, "probe_encode_s": 0.0, "cpu_kernels": "AVX512", "dtype": dtype,
            "probe_cpu_share": 1.0}


def _plan_text(tmp_path, here: dict) -> str:
    cfg = load_config("smoke")
    work = [planning.StageWork("train", "steps", 100, "models=x"), planning.StageWork("results", "runs", 1, "r")]
    estimate = planning.estimate_costs(cfg, work, tmp_path / "run", book_root=tmp_path / "book",
                                       runs_root=tmp_path / "runs", probe=lambda device: here)
    return planning.format_plan(cfg, work, estimate)


def _record(tmp_path, stage: str, seconds: float, machine: dict, units: int = 100) -> None:
    cost_key = "models=x" if stage == "train" else "r"
    planning.record_stage_timing(tmp_path / "book" / "artifacts" / "smoke",
                                 planning.StageWork(stage, "steps" if stage == "train" else "runs", units, cost_key),
                                 seconds, "smoke", machine)


def test_a_plan_across_dtypes_is_unreliable_and_says_the_results_will_differ(tmp_path):
    # Given a committed run in bf16 (a CPU with bf16 matrix units)
    _record(tmp_path, "train", 600.0, _machine(1.0))
    # When this machine has none (autocast runs fp32), Then the plan says that the probe does not price the change
    # of dtype and that the results will differ from the book's
    text = _plan_text(tmp_path, {**_machine(1.0, dtype="fp32"), "bf16_units": False})
    assert "unreliable: this machine autocasts to fp32 where the recording machine ran bf16 (bf16 matrix units: " \
           "no here)" in text, text
    assert "more than the cross-CPU tolerance" in text
    assert "autocasts" not in _plan_text(tmp_path, _machine(2.0)), "the same dtype: nothing to say"
    assert "~20.0 min" in _plan_text(tmp_path, _machine(2.0)), "a probe twice as slow doubles the minutes"


def test_each_stage_is_scaled_by_the_machine_that_ran_it(tmp_path):
    # Given a train stage recorded on a machine whose probe took 1 s, in a file from before stages kept their
    # machine (only the file's latest), and then the results stage re-rendered on a machine twice as slow
    folder = tmp_path / "book" / "artifacts" / "smoke"
    folder.mkdir(parents=True)
    (folder / planning.TIMINGS_FILE).write_text(json.dumps({
        "train": {"stage": "train", "unit": "steps", "units": 100, "cost_key": "models=x", "seconds": 600.0,
                  "profile": "smoke"}, planning.MACHINE_ENTRY: _machine(1.0)}))
    _record(tmp_path, "results", 60.0, _machine(2.0), units=1)
    timings = json.loads((folder / planning.TIMINGS_FILE).read_text())
    # Then the train entry keeps the machine that ran it, and the file's latest is the re-rendering one
    assert timings["train"]["machine"]["probe_train_step_s"] == 1.0
    assert timings[planning.MACHINE_ENTRY]["probe_train_step_s"] == 2.0
    # And on a machine like the first, train is unscaled and results halved
    text = _plan_text(tmp_path, _machine(1.0))
    assert "train: 100 steps [models=x]: ~10.0 min" in text and "results: 1 runs [r]: ~0.5 min" in text, text
