"""mwalign.atomic: a failed write leaves the old content and no temporary; modes follow the umask."""

from __future__ import annotations

import os
import stat

import pytest

from mwalign import atomic


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_failed_file_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    # Given a file with old content
    target = tmp_path / "table.parquet"
    target.write_text("old", encoding="utf-8")
    # When a write fails half-way
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("disk full")
    # Then the old content is intact and nothing else is in the folder
    assert target.read_text(encoding="utf-8") == "old", "a failed write must not touch the target"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.parquet"], "the temporary file must be removed"


def test_successful_write_replaces_the_file_with_umask_modes(tmp_path):
    # Given a umask of 022 and an existing file
    previous = os.umask(0o022)
    try:
        target = tmp_path / "sub" / "index.json"
        atomic.write_json(target, {"a": 1})
        # When it is rewritten
        atomic.write_json(target, {"a": 2}, indent=2)
    finally:
        os.umask(previous)
    # Then the new content is there, mode 0644 (not mkstemp's 0600), and no temporary is left
    assert target.read_text(encoding="utf-8") == '{\n  "a": 2\n}'
    assert _mode(target) == 0o644, f"mode {oct(_mode(target))}: files must follow the umask"
    assert [p.name for p in target.parent.iterdir()] == ["index.json"]


def test_failed_folder_write_keeps_the_old_folder_and_leaves_no_temporary(tmp_path):
    # Given a complete folder
    target = tmp_path / "checkpoint"
    target.mkdir()
    (target / "state.json").write_text("old", encoding="utf-8")
    # When building its replacement fails
    with pytest.raises(RuntimeError, match="killed"):
        with atomic.atomic_dir(target) as tmp:
            (tmp / "state.json").write_text("new", encoding="utf-8")
            raise RuntimeError("killed")
    # Then the old folder is untouched and no temporary folder remains
    assert (target / "state.json").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint"], "the temporary folder must be removed"


def test_folder_write_replaces_the_old_folder_whole(tmp_path):
    # Given a folder with a file the new version no longer has
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.bin").write_bytes(b"x")
    previous = os.umask(0o022)
    try:
        # When a new version is written
        with atomic.atomic_dir(target) as tmp:
            (tmp / "model.safetensors").write_bytes(b"weights")
    finally:
        os.umask(previous)
    # Then only the new files are there, the folder is 0755 (not mkdtemp's 0700), and nothing is left beside it
    assert sorted(p.name for p in target.iterdir()) == ["model.safetensors"], "the old folder's files must be gone"
    assert _mode(target) == 0o755, f"mode {oct(_mode(target))}: folders must follow the umask"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
