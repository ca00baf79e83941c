"""The browser check itself: a page with a traceback, a broken figure, raw TeX and a dead link is caught.

The smoke book never contains these faults, so without this test the checks could pass vacuously.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests import browser


def _faulty_book(root: Path) -> Path:
    """A one-page jupyter-book whose notebook shows an error output, a missing image and raw TeX."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    failing = nbformat.v4.new_code_cell("raise ValueError('boom')")
    failing.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom",
                                              traceback=["Traceback (most recent call last)", "ValueError: boom"])]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Faulty\n\n<img src='missing.png' alt='gone'>\n\n"
                                      "<a href='nowhere.html'>dead</a> and $$\\frac{a}{b}$$"),
        failing,
    ]
    nbformat.write(nb, root / "page.ipynb")
    (root / "_toc.yml").write_text("format: jb-book\nroot: page\n", encoding="utf-8")
    (root / "_config.yml").write_text(
        "title: faulty\nexecute:\n  execute_notebooks: 'off'\n"
        "sphinx:\n  config:\n    mathjax_path: no-such-mathjax.js\n", encoding="utf-8")
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(root), "--builder", "html"], check=True, capture_output=True)
    return root / "_build" / "html" / "page.html"


@pytest.mark.slow
@pytest.mark.skipif(not browser.chromium_available(), reason="chromium and chromium-driver are not installed")
def test_inspect_page_reports_every_fault(tmp_path):
    page = _faulty_book(tmp_path)
    driver = browser.open_browser()
    try:
        report = browser.inspect_page(driver, page)
    finally:
        driver.quit()
    assert report["error_outputs"] == 1, report
    assert any(src.endswith("missing.png") for src in report["broken_images"]), report
    assert "\\frac" in report["raw_tex"], report
    assert report["dead_links"] == ["nowhere.html"], report
    shutil.rmtree(tmp_path / "_build", ignore_errors=True)
