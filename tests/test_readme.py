"""The README's headline table is generated from the committed introduction chapter, never typed."""

from __future__ import annotations

import json

import pytest

from mwalign import pipeline
from mwalign.config import REPO_ROOT


def test_readme_headline_equals_the_committed_introduction():
    chapter = REPO_ROOT / pipeline.CHAPTERS_SUBDIR / "00_introduction.ipynb"
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    # The committed README is what update_readme would write from the committed chapter
    assert pipeline.readme_with_headline(readme, pipeline.headline_from_chapter(chapter)) == readme
    assert "| verdict |" in readme


def test_update_readme_replaces_only_the_marked_block(tmp_path):
    # Given an executed introduction whose headline cell printed a table, and a README with the markers
    chapter = tmp_path / "00_introduction.ipynb"
    chapter.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {"tags": ["remove-input", "headline"]},
         "outputs": [{"output_type": "execute_result", "data": {"text/markdown": ["| a |\n", "|---|\n", "| 1 |"]}}]},
    ]}), encoding="utf-8")
    start, end = pipeline.README_MARKERS
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n{start}\nold table\n{end}\ntail\n", encoding="utf-8")
    # When the README is updated
    pipeline.update_readme(chapter, readme)
    # Then the block holds the new table and the rest is unchanged
    assert readme.read_text(encoding="utf-8") == f"# title\n{start}\n| a |\n|---|\n| 1 |\n{end}\ntail\n"


def test_missing_markers_or_headline_cell_are_named(tmp_path):
    chapter = tmp_path / "00_introduction.ipynb"
    chapter.write_text(json.dumps({"cells": []}), encoding="utf-8")
    with pytest.raises(pipeline.PipelineError, match="no output of a cell tagged 'headline'"):
        pipeline.headline_from_chapter(chapter)
    with pytest.raises(pipeline.PipelineError, match="README.md: markers"):
        pipeline.readme_with_headline("# no markers\n", "| a |")
