"""The browser check itself: each rule is caught on a crafted page, and a clean page passes.

The books we publish should never contain these faults, so without this test the checks could pass vacuously.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from mwalign.reporting import tables
from tests import browser

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not browser.chromium_available(), reason="chromium and chromium-driver are not installed"),
]


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = cells
    return nb


def _output_cell(*outputs) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = list(outputs)
    return cell


def _faulty_page(build_dir: Path) -> nbformat.NotebookNode:
    """Every fault the check knows, one each: what a careless chapter would publish."""
    frame = pd.DataFrame({"STS": [np.nan, 48.1]}, index=["me5-small", "minilm-en"])
    gfm_table = "| role | task type |\n|---|---|\n| me5 | STS |"
    return _notebook([
        nbformat.v4.new_markdown_cell("# Faulty\n\n<img src='missing.png' alt='gone'>\n\n"
                                      "<a href='nowhere.html'>dead</a> and $$\\frac{a}{b}$$"),
        _output_cell(nbformat.v4.new_output("error", ename="ValueError", evalue="boom",
                                            traceback=["Traceback (most recent call last)", "ValueError: boom"])),
        _output_cell(nbformat.v4.new_output("display_data", data={"text/markdown": gfm_table})),
        _output_cell(nbformat.v4.new_output("stream", name="stderr", text="Loading a model took long\n")),
        _output_cell(nbformat.v4.new_output("stream", name="stdout", text="FutureWarning: x is deprecated\n")),
        _output_cell(nbformat.v4.new_output("stream", name="stdout", text=f"saved to {build_dir}/runs/cpu\n")),
        _output_cell(nbformat.v4.new_output("execute_result", execution_count=1,
                                            data={"text/html": frame.to_html(), "text/plain": str(frame)})),
    ])


def _clean_page() -> nbformat.NotebookNode:
    """What a chapter should publish: a formatted table with its marker note, plain output, code with pipes."""
    frame = pd.DataFrame({"STS": [np.nan, 48.1], "rows": pd.array([None, 402], dtype="Int64")}, index=["a", "b"])
    shown = tables.for_reading(frame, note="not evaluated.")
    return _notebook([
        nbformat.v4.new_markdown_cell("# Clean\n\nPipes in code are fine: `a | b | c`."),
        _output_cell(nbformat.v4.new_output("stream", name="stdout", text="trained 3 models\n")),
        _output_cell(nbformat.v4.new_output("execute_result", execution_count=1,
                                            data={"text/html": shown._repr_html_(), "text/plain": repr(shown)})),
    ])


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """A two-page jupyter-book (faulty, clean), built with MyST-NB's defaults and broken MathJax, then inspected."""
    root = tmp_path_factory.mktemp("crafted")
    nbformat.write(_faulty_page(root), root / "faulty.ipynb")
    nbformat.write(_clean_page(), root / "clean.ipynb")
    (root / "_toc.yml").write_text("format: jb-book\nroot: faulty\nchapters:\n- file: clean\n", encoding="utf-8")
    (root / "_config.yml").write_text(
        "title: crafted\nexecute:\n  execute_notebooks: 'off'\n"
        "sphinx:\n  config:\n    mathjax_path: no-such-mathjax.js\n", encoding="utf-8")
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(root), "--builder", "html"], check=True, capture_output=True)
    html = root / "_build" / "html"
    driver = browser.open_browser()
    try:
        return {name: browser.inspect_page(driver, html / f"{name}.html") for name in ("faulty", "clean")}
    finally:
        driver.quit()


def test_error_output_is_reported(reports):
    assert reports["faulty"]["error_outputs"] == 1, reports["faulty"]


def test_broken_image_is_reported(reports):
    assert any(src.endswith("missing.png") for src in reports["faulty"]["broken_images"]), reports["faulty"]


def test_math_left_untypeset_is_reported(reports):
    # Given a page whose MathJax script does not exist, Then the check notices the formula was not typeset
    faulty = reports["faulty"]
    assert faulty["math"] == -1, "MathJax must be reported as not loaded"
    assert faulty["untypeset_math"] >= 1 and "\\frac" in faulty["raw_tex"], faulty
    assert any(line.startswith("math left untypeset") for line in browser.problems(faulty))


def test_dead_link_is_reported(reports):
    assert reports["faulty"]["dead_links"] == ["nowhere.html"], reports["faulty"]


def test_markdown_table_source_is_reported(reports):
    # Given a text/markdown table rendered as CommonMark (MyST-NB's default), Then its pipes are reported
    assert any(p.startswith("| role | task type |") for p in reports["faulty"]["raw_tables"]), reports["faulty"]


def test_stderr_and_warning_outputs_are_reported(reports):
    warnings = reports["faulty"]["warnings"]
    assert any("Loading a model took long" in w for w in warnings), "a stderr stream must be reported"
    assert any("FutureWarning: x is deprecated" in w for w in warnings), "a warning printed to stdout too"


def test_build_machine_path_is_reported(reports):
    # Given an output naming the temporary build folder, Then the machine's path is reported
    assert "/tmp/" in reports["faulty"]["machine_paths"], reports["faulty"]


def test_nan_in_a_table_is_reported(reports):
    assert reports["faulty"]["missing_values"] == ["NaN"], reports["faulty"]


def test_every_rule_fires_on_the_faulty_page_and_none_on_the_clean_one(reports):
    # Then the faulty page breaks all nine rules and a page made as the chapters are made breaks none
    assert len(browser.problems(reports["faulty"])) == 9, browser.problems(reports["faulty"])
    assert browser.problems(reports["clean"]) == [], browser.problems(reports["clean"])
