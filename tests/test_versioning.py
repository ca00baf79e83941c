"""Declared stage versions, notebook and data hashes: each moves exactly when what it names changes."""

from __future__ import annotations

import json

import pytest

from mwalign import versioning


def _notebook(path, cells):
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def _code(source, outputs=(), tags=()):
    return {"cell_type": "code", "source": source, "outputs": list(outputs), "metadata": {"tags": list(tags)},
            "execution_count": None}


def test_notebook_hash_follows_cells_not_outputs(tmp_path):
    # Given a notebook
    base = versioning.notebook_hash(_notebook(tmp_path / "a.ipynb", [_code("x = 1")]))
    # When only its outputs and execution metadata differ, Then the hash stays
    executed = _code("x = 1", outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}])
    executed["execution_count"] = 7
    assert versioning.notebook_hash(_notebook(tmp_path / "b.ipynb", [executed])) == base
    # When its code, its prose or a cell's tags change, Then the hash moves
    assert versioning.notebook_hash(_notebook(tmp_path / "c.ipynb", [_code("x = 2")])) != base
    prose = [_code("x = 1"), {"cell_type": "markdown", "source": "Note.", "metadata": {}}]
    assert versioning.notebook_hash(_notebook(tmp_path / "d.ipynb", prose)) != base
    assert versioning.notebook_hash(_notebook(tmp_path / "e.ipynb", [_code("x = 1", tags=["hide-cell"])])) != base


def test_data_hash_follows_the_checksums_or_the_bytes(tmp_path):
    # Given a data folder with a checksum list that its file matches
    import hashlib

    def sums_for(text: str) -> str:
        return f"{hashlib.sha256(text.encode()).hexdigest()}  set.tsv\n"

    (tmp_path / "set.tsv").write_text("a\tb\n")
    (tmp_path / "SHA256SUMS").write_text(sums_for("a\tb\n"))
    with_sums = versioning.data_hash(tmp_path)
    # When the file and its checksum change together, Then the hash moves
    (tmp_path / "set.tsv").write_text("a\tB\n")
    (tmp_path / "SHA256SUMS").write_text(sums_for("a\tB\n"))
    assert versioning.data_hash(tmp_path) != with_sums
    # And without a checksum list the file bytes decide it
    (tmp_path / "SHA256SUMS").unlink()
    plain = versioning.data_hash(tmp_path)
    (tmp_path / "set.tsv").write_text("a\tc\n")
    assert versioning.data_hash(tmp_path) != plain
    assert versioning.data_hash(tmp_path / "missing") == "absent"


def test_code_key_follows_the_stage_version_and_the_libraries(monkeypatch):
    # Given the code keys of two stages
    train, data = versioning.code_key("train"), versioning.code_key("data")
    # When the training stage's version is bumped, Then only its key moves
    monkeypatch.setitem(versioning.STAGE_VERSIONS, "train", versioning.STAGE_VERSIONS["train"] + 1)
    assert versioning.code_key("train") != train and versioning.code_key("data") == data
    # When a library version changes, Then every key moves
    monkeypatch.setattr(versioning, "package_versions", lambda: {"torch": "0.0.0"})
    assert versioning.code_key("data") != data


def test_unknown_stage_is_an_error():
    with pytest.raises(ValueError, match="unknown stage 'trian'; stages are data, train"):
        versioning.stage_version("trian")


def test_every_pipeline_stage_declares_a_version():
    from mwalign import pipeline

    assert set(versioning.STAGE_VERSIONS) == set(pipeline.STAGE_NAMES)
