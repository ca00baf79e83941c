"""The whole pipeline on the smoke profile, through papermill, into a temporary book that then builds.

The run itself is the session fixture ``smoke_run`` (tests/conftest.py), shared with the damaged-run tests.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pandas as pd
import pytest

from mwalign import pipeline
from mwalign.config import REPO_ROOT, load_config
from tests import browser, golden_record


@pytest.mark.slow
def test_every_stage_runs_and_the_book_builds(smoke_run):
    root, run_dir, outcome, _ = smoke_run
    assert outcome == {s.name: "ran" for s in pipeline.STAGES}
    html = root / "_build" / "html"
    assert (html / "index.html").is_file()
    for stage in pipeline.STAGES:
        page = html / "book" / "chapters" / stage.notebook.replace(".ipynb", ".html")
        assert page.is_file(), f"chapter page {page.name} missing from the built book"


@pytest.mark.slow
def test_chapters_hold_outputs_without_errors_and_record_their_key(smoke_run):
    root, _, _, _ = smoke_run
    for stage in pipeline.STAGES:
        nb = nbformat.read(root / pipeline.CHAPTERS_SUBDIR / stage.notebook, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], f"{stage.notebook} has an error output"
        assert any("text/html" in o.get("data", {}) or "image/png" in o.get("data", {}) for o in outputs), (
            f"{stage.notebook} shows no table or figure"
        )
        assert nb.metadata["mwalign"]["stage_key"], "the stage key must be stored for skipping"


@pytest.mark.slow
def test_results_chapter_has_a_figure_and_a_table_from_the_run(smoke_run):
    root, run_dir, _, _ = smoke_run
    nb = nbformat.read(root / pipeline.CHAPTERS_SUBDIR / "05_results.ipynb", as_version=4)
    kinds = {k for c in nb.cells if c.cell_type == "code" for o in c.outputs for k in o.get("data", {})}
    assert {"image/png", "text/html"} <= kinds
    scores = run_dir / "results" / "scores.parquet"
    assert scores.is_file(), "the results chapter must read the evaluation's saved scores"


@pytest.mark.slow
def test_the_x_y_task_is_scored_on_lines_no_model_of_the_run_trained_on(smoke_run):
    from mwalign.corpus.sensitivity import sensitivity_corpora
    from mwalign.evaluation.stage import select_tasks
    from mwalign.evaluation.tasks.ntrex import XY_NAME

    _, run_dir, _, _ = smoke_run
    cfg = load_config("smoke")
    # Given every English sentence the run trained on: the corpus roots and the sensitivity study's NTREX roots
    trained = set(pd.read_parquet(run_dir / "corpus" / "translations.parquet")["eng"].str.strip())
    for path in sensitivity_corpora(run_dir).values():
        trained |= {row[0].strip() for row in pd.read_parquet(path)["sentences"]}
    assert sensitivity_corpora(run_dir), "the smoke profile runs the sensitivity study, so the check has teeth"
    # Then the X-Y task's English lines are none of them, and its scores hold non-English pairs in both groups
    (task,) = select_tasks([XY_NAME], ["eng", *cfg.evaluation.langs], strict=False, xy_lines=cfg.evaluation.ntrex_xy_lines)
    task.load_data()
    assert not trained & {line.strip() for line in task.dataset["test"]["eng_Latn"]}
    scores = pd.read_parquet(run_dir / "results" / "scores.parquet")
    xy = scores[scores["task"] == XY_NAME]
    assert set(xy["task_type"]) == {"BitextMining X-Y"} and not xy["languages"].str.contains("eng").all()
    assert set(xy["group"]) == {"seen", "unseen"}


@pytest.mark.slow
def test_base_alignment_table_comes_from_the_evaluate_stage(smoke_run):
    # Given the smoke profile's evaluation.base_alignment (tiny-xlmr, two prompts, Tatoeba spa/fra, STS17 es-en)
    _, run_dir, _, _ = smoke_run
    table = pd.read_parquet(run_dir / "results" / "base_alignment.parquet")
    # Then the evaluate stage wrote one scored row per model x prompt
    assert list(zip(table["model"], table["prompt"])) == [("tiny-xlmr", ""), ("tiny-xlmr", "query: ")]
    assert table["tatoeba_accuracy"].between(0, 100).all() and table["sts17_es-en"].notna().all()


@pytest.mark.slow
def test_second_run_skips_every_stage(smoke_run):
    root, run_dir, _, _ = smoke_run
    outcome = pipeline.run("smoke", book_root=root, run_dir=run_dir, build=False, log=lambda _: None)
    assert set(outcome.values()) == {"skipped"}, outcome


@pytest.mark.slow
def test_committed_chapters_are_untouched(smoke_run):
    _, _, _, committed = smoke_run
    now = {p: p.stat().st_mtime_ns for p in (REPO_ROOT / pipeline.CHAPTERS_SUBDIR).glob("*.ipynb")}
    assert now == committed, "a smoke run must never overwrite the committed cpu chapters"


@pytest.mark.slow
def test_book_renders_in_a_browser(smoke_run):
    # Given the smoke book, When every page is opened in headless Chromium
    if not browser.chromium_available():
        pytest.skip("chromium and chromium-driver are not installed (make system installs them as root)")
    root, _, _, _ = smoke_run
    html = root / "_build" / "html"
    # (papermill's injected parameters name the temporary run dir this test gives the smoke run on purpose; the
    # committed book's run_dir is "" and is checked without this exception)
    reports = browser.inspect_book(html, paths_unchecked=".tag_injected-parameters")
    expected = {"method", "reproducing", "index", *(s.notebook.removesuffix(".ipynb") for s in pipeline.STAGES)}
    assert expected <= set(reports), f"pages missing from the book: {sorted(expected - set(reports))}"
    # Then no page breaks a rule: figures load, no error, warning or NaN shows, math is typeset, no raw table
    # source, no machine path and every local link resolves
    for name, report in reports.items():
        assert not browser.problems(report), f"{name}: " + "; ".join(browser.problems(report))
    assert reports["method"]["math"] > 0, "the method page's formulas must be typeset by MathJax"
    for stage in ("01_data", "04_evaluation", "05_results"):
        assert reports[stage]["images"] > 0, f"{stage}: no figure rendered"


@pytest.mark.slow
def test_outputs_match_the_golden_record_unless_a_version_was_bumped(smoke_run, tmp_path):
    # Given a fresh smoke run, When its corpus, weights and scores are compared with tests/golden/smoke.json
    # (beyond the cross-kernel noise the record measured; with MWALIGN_UPDATE_GOLDEN=1 it is rerecorded instead)
    _, run_dir, _, _ = smoke_run
    found = golden_record.check(run_dir, scratch=tmp_path)
    # Then nothing moved, or the message says which stage's version to bump
    assert not found, "smoke outputs differ from tests/golden/smoke.json:\n" + "\n".join(found[:20])


@pytest.mark.slow
def test_stage_timings_hold_the_work_plan_counted_and_the_run_did(smoke_run):
    """`mwalign plan`'s counts against a real run: the steps trained and the sentences translated."""
    from mwalign import planning

    _, run_dir, _, _ = smoke_run
    timings = json.loads((run_dir / planning.TIMINGS_FILE).read_text(encoding="utf-8"))
    machine = timings.pop(planning.MACHINE_ENTRY)
    assert set(timings) == set(pipeline.STAGE_NAMES) and all(t["seconds"] > 0 for t in timings.values())
    assert machine["probe_train_step_s"] > 0 and machine["cpu_kernels"], "the run recorded the machine it ran on"
    index = json.loads((run_dir / "models" / "index.json").read_text(encoding="utf-8"))
    steps = {"unaligned": 0, "me5": 0}
    for entry in index:
        info_path = run_dir / entry["path"] / "mwalign_training.json"
        if info_path.is_file():  # base models were not trained
            steps[entry["role"]] += json.loads(info_path.read_text(encoding="utf-8")).get("steps") or 0
    assert timings["train"]["units"] == steps["unaligned"], "planned steps = steps the alignment runs took"
    assert timings["me5"]["units"] == steps["me5"]
    cached = planning.cached_counts(run_dir / "corpus" / "cache.sqlite")
    translated = sum(n for (backend, _), n in cached.items() if backend == "apertium")
    assert 0 < translated <= timings["data"]["units"], "at most what plan announced (failures are not cached)"
    assert timings["evaluate"]["units"] == len(index) * len(pipeline.load_config("smoke").evaluation.tasks)


@pytest.mark.slow
def test_the_golden_check_passes_on_this_run_moved_by_the_measured_cross_cpu_noise(smoke_run):
    # Given this machine's smoke run as the record, with the noise tests/golden/smoke.json measured
    _, run_dir, _, _ = smoke_run
    noise = json.loads(golden_record.GOLDEN.read_text(encoding="utf-8"))["noise"]
    current = {**golden_record.record(run_dir), "noise": noise}
    # When every trained model and score moves as on another CPU family, Then the check passes
    for seed in range(3):
        assert golden_record.differences(current, golden_record.with_noise(current, noise, seed)) == []


def _other_dropout_draw(monkeypatch):
    import torch

    seed = torch.manual_seed
    monkeypatch.setattr(torch, "manual_seed", lambda value: seed(value + 1))  # training seeds dropout from it


def _one_changed_corpus_row(run_dir):
    path = run_dir / "corpus" / "multiway.parquet"
    rows = pd.read_parquet(path)
    sentences = list(rows.at[3, "sentences"])
    sentences[1] = sentences[1].rstrip(".") + " !"
    rows.at[3, "sentences"] = sentences
    rows.to_parquet(path)


@pytest.mark.slow
@pytest.mark.parametrize(("overrides", "change", "stage"), [
    (["training.max_steps=7"], None, "train"),  # one more optimizer step (the bilingual run is capped at 6)
    (["training.learning_rate=1.1e-4"], None, "train"),  # another learning rate (+10%)
    ([], "dropout", "train"),  # another dropout draw
    ([], "row", "data"),  # one corpus row changed
], ids=["one-more-step", "learning-rate", "dropout-draw", "corpus-row"])
def test_the_golden_check_fails_on_each_real_change(smoke_run, tmp_path, monkeypatch, overrides, change, stage):
    # Given this machine's smoke run as the record (with the measured noise), and its corpus in a new run folder
    from mwalign.config import load_config
    from mwalign.training import run_alignment_stage

    _, run_dir, _, _ = smoke_run
    noise = json.loads(golden_record.GOLDEN.read_text(encoding="utf-8"))["noise"]
    reference = {**golden_record.record(run_dir, scores=False), "noise": noise}
    reference["models"] = {k: v for k, v in reference["models"].items() if v["role"] == "unaligned"}
    changed = tmp_path / "run"
    shutil.copytree(run_dir / "corpus", changed / "corpus")
    if change == "dropout":
        _other_dropout_draw(monkeypatch)
    if change == "row":
        _one_changed_corpus_row(changed)
    # When the alignment models are trained again with one real change
    run_alignment_stage(load_config("smoke", overrides), changed)
    monkeypatch.undo()
    found = golden_record.differences(reference, golden_record.record(changed, scores=False))
    # Then the check fails, naming the stage whose version the change must bump
    assert found and any(f"STAGE_VERSIONS[{stage!r}]" in line for line in found), found


def _shown(chapter) -> list[str]:
    """What a chapter shows (tables and text), less what names the run folder: the injected parameters and the
    Regenerate command."""
    nb = nbformat.read(chapter, as_version=4)
    shown = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        for output in cell.outputs:
            for kind in ("text/markdown", "text/html", "text/plain"):
                text = output.get("data", {}).get(kind) or (output.get("text") if kind == "text/plain" else None)
                if text:
                    shown.append("".join(text).split("*Regenerate:*")[0])
    return shown


@pytest.mark.slow
def test_reporting_chapters_re_execute_from_committed_artifacts_without_the_run_folder(smoke_run, tmp_path):
    # Given a finished smoke run, whose result files the pipeline kept beside its book
    root, run_dir, _, _ = smoke_run
    manifest = json.loads((root / "artifacts" / "smoke" / "manifest.json").read_text(encoding="utf-8"))
    assert "results/scores.parquet" in manifest["files"] and "results/geometry.json" in manifest["files"]
    # And a clone of that book (chapters, sources, artifacts) with no run folder at all
    clone = tmp_path / "clone"
    for name in ("book", "artifacts"):
        shutil.copytree(root / name, clone / name)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copyfile(root / name, clone / name)
    empty = tmp_path / "no-run"
    # When the results chapter and the front page are re-executed there
    outcome = pipeline.run("smoke", book_root=clone, run_dir=empty, only=["results", "intro"], force=True,
                           build=False, log=lambda _: None)
    # Then only those two ran, no model was trained or loaded, and they show what the run's chapters show
    assert outcome == {"results": "ran", "intro": "ran"}
    assert not [p for p in (empty / "models").iterdir() if p.is_dir()], "no model folder may be needed"
    for stage in ("05_results.ipynb", "00_introduction.ipynb"):
        assert _shown(clone / pipeline.CHAPTERS_SUBDIR / stage) == _shown(root / pipeline.CHAPTERS_SUBDIR / stage)
    # And an upstream stage that needs real inputs is not fooled by the restored files
    keys = pipeline.stage_keys(load_config("smoke"))
    evaluate = [s for s in pipeline.STAGES if s.name == "evaluate"]
    assert [s.name for s in pipeline.plan(keys, empty, clone, only=evaluate, force=True)] == [
        "data", "train", "me5", "evaluate"]
