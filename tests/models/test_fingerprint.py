"""fingerprint(): stable, content-sensitive, cached."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import save

from mwalign import filehash
from mwalign.models.fingerprint import NoWeightsError, fingerprint



def _safetensors(weights: bytes) -> bytes:
    """A real (tiny) safetensors file whose one tensor holds ``weights``' bytes."""
    return save({"w": torch.tensor(list(weights), dtype=torch.uint8)})


def _folder(tmp_path, weights: bytes = b"weights-v1"):
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(_safetensors(weights))
    (folder / "modules.json").write_text("[]")
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode": "mean"}')
    (folder / "README.md").write_text("docs")
    return folder


def test_fingerprint_is_stable_and_path_independent(tmp_path):
    # Given the same files in two places
    first = _folder(tmp_path / "a")
    second = shutil.copytree(first, tmp_path / "b")
    # Then the hash is identical and 64 hex chars
    assert fingerprint(first) == fingerprint(second) == fingerprint(first)
    assert len(fingerprint(first)) == 64


def test_fingerprint_changes_with_weights_and_pooling_not_docs(tmp_path):
    folder = _folder(tmp_path)
    original = fingerprint(folder)
    (folder / "README.md").write_text("other docs")
    assert fingerprint(folder) == original, "docs do not change the embeddings"
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    pooled = fingerprint(folder)
    assert pooled != original, "pooling changes the embeddings"
    (folder / "model.safetensors").write_bytes(_safetensors(b"weights-v2"))
    assert fingerprint(folder) != pooled, "new weights, new fingerprint"


def test_repeat_call_reuses_cached_digests(tmp_path, monkeypatch):
    # Given a fingerprinted folder
    folder = _folder(tmp_path)
    expected = fingerprint(folder)
    # When files are unchanged, no file is hashed again
    calls = []
    monkeypatch.setattr(filehash, "file_sha256", lambda path: calls.append(path) or "x")
    assert fingerprint(folder) == expected
    assert calls == [], "unchanged files must come from the cache beside the weights"


def test_folder_without_weights_is_named(tmp_path):
    folder = tmp_path / "empty-model"
    folder.mkdir()
    with pytest.raises(NoWeightsError, match="empty-model: no model weights"):
        fingerprint(folder)
