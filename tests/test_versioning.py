"""Source hashes change exactly when the hashed code changes."""

from __future__ import annotations

import pytest

from mwalign import versioning


def test_hash_follows_the_named_modules_only(tmp_path, monkeypatch):
    # Given a package with two subpackages
    for name in ("corpus", "training"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "core.py").write_text(f"NAME = {name!r}\n")
    monkeypatch.setattr(versioning, "PACKAGE", tmp_path)
    corpus, training = versioning.source_hash("corpus"), versioning.source_hash("training")
    # When only the training code changes
    (tmp_path / "training" / "core.py").write_text("NAME = 'changed'\n")
    # Then only the training hash moves
    assert versioning.source_hash("corpus") == corpus
    assert versioning.source_hash("training") != training


def test_unknown_module_is_an_error():
    with pytest.raises(ValueError, match="no module"):
        versioning.source_hash("no_such_stage")
