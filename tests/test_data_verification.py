"""The data mirror is checked against its SHA256SUMS before any stage reads it (issue 29, item 1).

A copy of the real mirror (the ``tatoeba/`` folder copied, everything else linked) stands in for a user's
data folder, under a name with URI-special and non-ASCII characters (item 5).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from mwalign import cli, datafiles, filehash
from mwalign.datafiles import DataFileError, verify_data
from mwalign.versioning import data_hash

ALTERED = Path("tatoeba") / "tatoeba.spa-eng.spa"


@pytest.fixture
def mirror_copy(data_dir, tmp_path) -> Path:
    """A data folder equal to the real mirror: tatoeba/ copied (so it can be damaged), the rest symlinked."""
    copy = tmp_path / "data #2? 100% é"
    copy.mkdir()
    for entry in data_dir.iterdir():
        if entry.name == "tatoeba":
            shutil.copytree(entry, copy / entry.name)
        else:
            (copy / entry.name).symlink_to(entry)
    return copy


def _change_one_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[10] = ord("X") if raw[10] != ord("X") else ord("Y")
    path.write_bytes(bytes(raw))


def test_the_unchanged_mirror_verifies_and_keeps_its_key(data_dir, mirror_copy):
    # Given the shared mirror and a faithful copy of it, When they are verified and hashed
    expected = hashlib.sha256((data_dir / "SHA256SUMS").read_bytes()).hexdigest()[:16]
    # Then the key is the SHA256SUMS hash, as before verification existed (committed chapters stay current)
    assert data_hash(data_dir) == expected == data_hash(mirror_copy)


def test_one_changed_byte_is_named_before_any_key_is_computed(mirror_copy):
    # Given a copy with one byte of the Spanish Tatoeba file changed (sha256sum -c would fail)
    _change_one_byte(mirror_copy / ALTERED)
    # When the data key is computed (every run does this before choosing stages), Then it refuses, naming the file
    with pytest.raises(DataFileError) as err:
        data_hash(mirror_copy)
    message = str(err.value)
    assert message.startswith(f"{mirror_copy / ALTERED}: content differs from its sha256 in ") and "\n" not in message


def test_a_listed_file_that_is_missing_is_named(mirror_copy):
    (mirror_copy / ALTERED).unlink()
    with pytest.raises(DataFileError, match=r"tatoeba\.spa-eng\.spa: listed in .*SHA256SUMS but missing"):
        verify_data(mirror_copy)


def test_a_damaged_sums_line_is_named(tmp_path):
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  a.txt\nnot a line\n")
    with pytest.raises(DataFileError, match=r"SHA256SUMS: line 2 is not '<sha256>  <path>'"):
        verify_data(tmp_path)


def test_a_repeat_check_hashes_nothing_and_an_edit_is_still_caught(mirror_copy, monkeypatch):
    # Given a copy verified once
    verify_data(mirror_copy)
    hashed: list[Path] = []
    real = filehash.file_sha256
    monkeypatch.setattr(filehash, "file_sha256", lambda path: hashed.append(path) or real(path))
    # When it is verified again, Then no file is read (the digests are remembered by size and mtime)
    verify_data(mirror_copy)
    assert hashed == [], f"unchanged files were hashed again: {hashed[:3]}"
    # And after one file is edited, exactly that file is hashed again and refused
    _change_one_byte(mirror_copy / ALTERED)
    with pytest.raises(DataFileError, match="content differs"):
        verify_data(mirror_copy)
    assert [p.name for p in hashed] == [ALTERED.name]


def test_a_folder_without_sums_is_keyed_by_its_bytes(tmp_path):
    # Given a folder without SHA256SUMS (a user's own data), Then nothing is verified and the key follows the bytes
    (tmp_path / "a.txt").write_text("one\n")
    before = data_hash(tmp_path)
    (tmp_path / "a.txt").write_text("two\n")
    assert data_hash(tmp_path) != before
    assert datafiles.SUMS_FILE == "SHA256SUMS"


def _one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("mwalign: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture
def altered_mirror(mirror_copy, monkeypatch) -> Path:
    _change_one_byte(mirror_copy / ALTERED)
    monkeypatch.setenv("MWALIGN_DATA_DIR", str(mirror_copy))
    return mirror_copy


def test_run_refuses_altered_data_before_any_stage(altered_mirror, tmp_path, capsys):
    # Given the altered copy as data dir, When `mwalign run --only evaluate` starts
    run_dir, book = tmp_path / "run", tmp_path / "book"
    code = cli.main(["run", "--only", "evaluate", "--run-dir", str(run_dir), "--book-root", str(book), "--no-book"])
    # Then one line names the file, and nothing was created (no stale "unchanged, skipped")
    assert f"{altered_mirror / ALTERED}: content differs" in _one_line_error(capsys, code)
    assert not run_dir.exists() and not book.exists()


def test_direct_evaluate_refuses_altered_data(altered_mirror, tmp_path, capsys):
    from tests.evaluation.conftest import build_tiny_encoder

    model = build_tiny_encoder(tmp_path / "model")
    capsys.readouterr()  # the build's progress bar
    out = tmp_path / "out"
    code = cli.main(["evaluate", str(model), "--tasks", "Tatoeba", "--langs", "spa", "--output", str(out)])
    assert f"{altered_mirror / ALTERED}: content differs" in _one_line_error(capsys, code)
    assert not out.exists(), "nothing is scored on altered data"


def test_corpus_refuses_altered_data_before_translating(altered_mirror, tmp_path, capsys, monkeypatch):
    from mwalign.corpus.backends import apertium

    monkeypatch.setattr(apertium.ApertiumBackend, "_translate", lambda *a: pytest.fail("translated"))
    run_dir = tmp_path / "run"
    code = cli.main(["corpus", "--run-dir", str(run_dir)])
    assert f"{altered_mirror / ALTERED}: content differs" in _one_line_error(capsys, code)
    assert not run_dir.exists()


def test_direct_evaluate_works_from_oddly_named_data_model_and_output_folders(mirror_copy, tmp_path, capsys,
                                                                              monkeypatch):
    # Given the faithful copy at "data #2? 100% é", a model folder and an output folder with such names too
    from tests.evaluation.conftest import build_tiny_encoder

    monkeypatch.setenv("MWALIGN_DATA_DIR", str(mirror_copy))
    model = build_tiny_encoder(tmp_path / "model #1? 50% ü")
    capsys.readouterr()
    out = tmp_path / "out #1? 50% ü"
    # When it is evaluated on Tatoeba spa
    code = cli.main(["evaluate", str(model), "--tasks", "Tatoeba", "--langs", "spa", "--output", str(out)])
    # Then it scores the 1,000 pairs and writes under the odd output folder only
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "spa-eng" in captured.out, captured.out
    assert list(out.rglob("*.json")), "mteb results are written under --output"
