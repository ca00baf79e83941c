"""The committed archive of result files: exported with their stage keys, restored only while current and intact."""

from __future__ import annotations

import json

import pytest

from mwalign import archive

KEYS = {"data": "d1", "train": "t1", "me5": "m1", "evaluate": "e1", "results": "r1", "intro": "i1"}


@pytest.fixture
def finished_run(tmp_path):
    run = tmp_path / "run"
    for name in archive.REPORTING_FILES[:5]:
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_bytes(f"content of {name}".encode())
    (run / "models" / "m1").mkdir()
    (run / "models" / "m1" / "model.safetensors").write_bytes(b"large weights, never exported")
    return run


def test_export_keeps_the_reporting_files_with_their_keys_and_digests(finished_run, tmp_path):
    target = archive.export(finished_run, tmp_path / "book", "cpu", KEYS)
    manifest = json.loads((target / "manifest.json").read_text())
    assert target == tmp_path / "book" / "artifacts" / "cpu"
    assert manifest["stage_keys"] == {s: KEYS[s] for s in archive.PRODUCING_STAGES}
    assert sorted(manifest["files"]) == sorted(archive.REPORTING_FILES[:5])
    assert not (target / "models" / "m1").exists(), "weights stay in the run folder"


def test_restore_fills_an_empty_run_folder_only_while_the_keys_are_current(finished_run, tmp_path):
    source = archive.export(finished_run, tmp_path / "book", "cpu", KEYS)
    # When the evaluation's key moved, nothing is restored
    assert archive.restore(source, tmp_path / "stale", {**KEYS, "evaluate": "e2"}) == []
    assert not (tmp_path / "stale").exists()
    # When it is current, every file comes back byte for byte and the run folder says which came from where
    fresh = tmp_path / "fresh"
    restored = archive.restore(source, fresh, KEYS)
    assert sorted(restored) == sorted(archive.REPORTING_FILES[:5])
    assert all((fresh / n).read_bytes() == (finished_run / n).read_bytes() for n in restored)
    assert sorted(archive.restored_names(fresh)) == sorted(restored)
    # And a restored run folder is never exported again as if it were a run
    assert archive.export(fresh, tmp_path / "elsewhere", "cpu", KEYS) is None


def test_a_damaged_committed_file_is_named_before_anything_is_copied(finished_run, tmp_path):
    source = archive.export(finished_run, tmp_path / "book", "cpu", KEYS)
    (source / "results" / "scores.parquet").write_bytes(b"truncated")
    with pytest.raises(archive.ArtifactError, match=r"scores\.parquet: missing or changed since it was committed"):
        archive.restore(source, tmp_path / "fresh", KEYS)
    assert not (tmp_path / "fresh").exists()
    (source / "manifest.json").write_text("{not json")
    with pytest.raises(archive.ArtifactError, match=r"manifest\.json: not valid JSON"):
        archive.restore(source, tmp_path / "fresh", KEYS)


def test_how_each_run_ended_travels_without_the_model_folders(finished_run, tmp_path):
    # Given an index with one trained model whose folder holds its training record
    (finished_run / "models" / "index.json").write_text(json.dumps([{"label": "m1", "path": "models/m1"},
                                                                   {"label": "base", "path": "models/base"}]))
    record = {"best_step": 30, "steps": 40, "total_steps": 60, "stop_reason": "patience", "history": [1] * 99}
    (finished_run / "models" / "m1" / "mwalign_training.json").write_text(json.dumps(record))
    # When it is exported and restored into an empty run folder
    source = archive.export(finished_run, tmp_path / "book", "cpu", KEYS)
    fresh = tmp_path / "fresh"
    assert archive.TRAINING_RECORDS in archive.restore(source, fresh, KEYS)
    # Then the record's ending comes back (not its history), and no model folder is made
    assert archive.training_records(fresh) == {"m1": {"best_step": 30, "steps": 40, "total_steps": 60,
                                                      "stop_reason": "patience"}}
    assert archive.training_records(finished_run) == archive.training_records(fresh)
    assert not [p for p in (fresh / "models").iterdir() if p.is_dir()]
