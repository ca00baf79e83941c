"""The browser check itself: each rule is caught on a crafted page, and a clean page passes.

The books we publish should never contain these faults, so without this test the checks could pass vacuously.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from mwalign.config import REPO_ROOT
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


# The front page's claims table as first published: 90 px wider than the text column at 1280 px, its verdict
# column behind a scrollbar. The book's stylesheet (_static/mwalign.css) makes it fit.
FIRST_CLAIMS_TABLE = """\
| role | task type | model | paper gain % | measured gain % | 95% CI | seeds | verdict |
|---|---|---|---|---|---|---|---|
| unaligned encoder (paper: XLM-R, mBERT) | BitextMining | me5-small-l4 | +21.3 | -0.5 | [-1.9, 0.8] | 3 | not reproduced |
| unaligned encoder (paper: XLM-R, mBERT) | BitextMining | minilm-en (control: no multilingual pretraining) | +21.3 | -5.4 | — | 1 | control, no verdict |
| unaligned encoder (paper: XLM-R, mBERT) | STS | me5-small-l4 | +5.3 | 4.1 | [2.1, 6.1] | 3 | reproduced |
| unaligned encoder (paper: XLM-R, mBERT) | STS | minilm-en (control: no multilingual pretraining) | +5.3 | 2.8 | — | 1 | control, no verdict |
| unaligned encoder (paper: XLM-R, mBERT) | Classification | me5-small-l4 | +28.4 | 8.0 | [7.1, 8.9] | 3 | direction only |
| unaligned encoder (paper: XLM-R, mBERT) | Classification | minilm-en (control: no multilingual pretraining) | +28.4 | 7.1 | — | 1 | control, no verdict |
| mE5 (already aligned) | BitextMining | me5-small | improves markedly | 1.7 | [1.4, 2.0] | 3 | direction reproduced (no size claimed) |
"""


def _wide_scores() -> pd.DataFrame:
    """A per-language table in chapter 04's shape: (group, language) rows, (model, method) columns, 15 of them."""
    rows = pd.MultiIndex.from_tuples([("seen", f"{lang}-eng") for lang in ("cat", "fra", "hrv", "mkd", "por")]
                                     + [("unseen", f"{lang}-eng") for lang in ("hin", "pol", "rus")],
                                     names=["group", "subset"])
    methods = ["base", "bilingual", "multiway", "english-anchors", "translator-apertium"]
    columns = pd.MultiIndex.from_product([["me5-small", "me5-small-l4", "minilm-en"], methods], names=["base", "method"])
    values = np.round(np.linspace(10, 90, len(rows) * len(columns)).reshape(len(rows), len(columns)), 1)
    return pd.DataFrame(values, index=rows, columns=columns)


def _table_outputs() -> list:
    """The three layout faults: a prose table wider than the column, a data table wider than the column (its row
    labels scroll away unless the stylesheet keeps them), and pandas' default 0, 1, 2 index."""
    wide = tables.for_reading(_wide_scores())
    numbered = tables.ReadingTable(tables.readable(pd.DataFrame({"role": ["unaligned", "me5"], "gain %": [8.0, 1.7]})))
    return [
        nbformat.v4.new_markdown_cell("## Claims\n\n" + FIRST_CLAIMS_TABLE),
        _output_cell(nbformat.v4.new_output("execute_result", execution_count=2,
                                            data={"text/html": wide._repr_html_(), "text/plain": repr(wide)})),
        _output_cell(nbformat.v4.new_output("execute_result", execution_count=3,
                                            data={"text/html": numbered._repr_html_(), "text/plain": repr(numbered)})),
    ]


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
        *_table_outputs(),
    ])


def _tables_page() -> nbformat.NotebookNode:
    return _notebook([nbformat.v4.new_markdown_cell("# Tables\n\nThe tables of a results chapter."),
                      *_table_outputs()])


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


def _build_and_inspect(root: Path, config: str, pages: tuple[str, ...]) -> dict[str, dict]:
    chapters = "chapters:\n" + "".join(f"- file: {page}\n" for page in pages[1:]) if pages[1:] else ""
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: {pages[0]}\n{chapters}", encoding="utf-8")
    (root / "_config.yml").write_text(
        "title: crafted\nexecute:\n  execute_notebooks: 'off'\nsphinx:\n  config:\n" + config, encoding="utf-8")
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(root), "--builder", "html"], check=True, capture_output=True)
    html = root / "_build" / "html"
    driver = browser.open_browser()
    try:
        return {name: browser.inspect_page(driver, html / f"{name}.html") for name in pages}
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """A jupyter-book (faulty, clean, tables), built with MyST-NB's defaults and broken MathJax, then inspected."""
    root = tmp_path_factory.mktemp("crafted")
    nbformat.write(_faulty_page(root), root / "faulty.ipynb")
    nbformat.write(_clean_page(), root / "clean.ipynb")
    nbformat.write(_tables_page(), root / "tables.ipynb")
    return _build_and_inspect(root, "    mathjax_path: no-such-mathjax.js\n", ("faulty", "clean", "tables"))


@pytest.fixture(scope="module")
def styled(tmp_path_factory) -> dict:
    """The tables page built with the book's own stylesheet and script (its _static files and _config.yml entries)."""
    root = tmp_path_factory.mktemp("styled")
    book = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    assets = [*book["html_css_files"], *book["html_js_files"]]
    (root / "_static").mkdir()
    for name in assets:
        shutil.copy2(REPO_ROOT / "_static" / name, root / "_static" / name)
    nbformat.write(_tables_page(), root / "tables.ipynb")
    config = (f"    html_static_path: [_static]\n    html_css_files: {book['html_css_files']}\n"
              f"    html_js_files: {book['html_js_files']}\n")
    return _build_and_inspect(root, config, ("tables",))["tables"]


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


def test_prose_table_wider_than_the_column_is_reported_at_both_widths(reports):
    # Given the first published claims table in a page without the book's stylesheet, Then it is too wide at
    # 1280 px (the two sidebars leave the text column about 680 px) and at 800 px
    wide = [w for w in reports["tables"]["wide_tables"] if w.split(": ")[1].startswith("role | task type | model")]
    assert [w.split(":")[0] for w in wide] == ["at 800 px", "at 1280 px"], reports["tables"]["wide_tables"]
    assert all(int(w.rsplit(": ", 1)[1].split(" px")[0]) > 20 for w in wide), wide


def test_data_table_whose_row_labels_scroll_away_is_reported(reports):
    # Given a per-language table of 15 columns without sticky labels, Then scrolled to its end its 8 row labels
    # are out of view, at both widths
    hidden = reports["tables"]["hidden_row_labels"]
    assert len(hidden) == 2 and all(h.endswith(": 8 rows") for h in hidden), hidden


def test_default_integer_index_is_reported(reports):
    assert [d.split(": ", 1)[1] for d in reports["tables"]["default_index"]] == [" | role | gain %"] * 2, \
        reports["tables"]["default_index"]


def test_the_books_stylesheet_fits_the_claims_keeps_row_labels_and_hides_the_default_index(styled):
    # Given the same three tables built with the book's _static/mwalign.css and mwalign.js, Then the claims table
    # fits the column at 1280 and 800 px, the wide table keeps its labels in view and no 0, 1 index shows
    assert styled["wide_tables"] == [] and styled["hidden_row_labels"] == [] and styled["default_index"] == [], styled
    assert browser.problems(styled) == [], browser.problems(styled)


def test_every_rule_fires_on_the_faulty_page_and_none_on_the_clean_one(reports):
    # Then the faulty page breaks all twelve rules and a page made as the chapters are made breaks none
    assert len(browser.problems(reports["faulty"])) == 12, browser.problems(reports["faulty"])
    assert browser.problems(reports["clean"]) == [], browser.problems(reports["clean"])
