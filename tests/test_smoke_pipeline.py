"""The whole pipeline on the smoke profile, through papermill, into a temporary book that then builds.

The run itself is the session fixture ``smoke_run`` (tests/conftest.py), shared with the damaged-run tests.
"""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from mwalign import pipeline
from mwalign.config import REPO_ROOT
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
def test_outputs_match_the_golden_record_unless_a_version_was_bumped(smoke_run):
    # Given a fresh smoke run, When its corpus, weights and scores are compared with tests/golden/smoke.json
    _, run_dir, _, _ = smoke_run
    found = golden_record.check(run_dir)
    # Then nothing moved, or the message says which stage's version to bump
    assert not found, "smoke outputs differ from tests/golden/smoke.json:\n" + "\n".join(found[:20])


@pytest.mark.slow
def test_stage_timings_hold_the_work_plan_counted_and_the_run_did(smoke_run):
    """`mwalign plan`'s counts against a real run: the steps trained and the sentences translated."""
    import json

    from mwalign import planning

    _, run_dir, _, _ = smoke_run
    timings = json.loads((run_dir / planning.TIMINGS_FILE).read_text(encoding="utf-8"))
    assert set(timings) == set(pipeline.STAGE_NAMES) and all(t["seconds"] > 0 for t in timings.values())
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
