"""Shared test set-up: no hub access, ever; real data read in place from the data dir."""

from __future__ import annotations

import os

import pytest

# Tests must never reach a model hub (there is none here, and CI must not depend on one).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from mwalign import config  # noqa: E402  (after the offline switches)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small models on 2 cores run faster single-threaded (no spin-waiting when the other core is busy)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def data_dir():
    """The mirrored evaluation data (../shared/data or MWALIGN_DATA_DIR)."""
    path = config.data_dir()
    if not path.is_dir():
        pytest.skip(f"data dir {path} absent; set MWALIGN_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, data_dir):
    """Run every stage of the smoke profile once (the committed chapters are not touched), into a run folder
    whose name has URI-special and non-ASCII characters, so every stage is run on such a path."""
    from mwalign import pipeline

    root = tmp_path_factory.mktemp("book")
    run_dir = tmp_path_factory.mktemp("run") / "run #1? 100% é"
    committed = {p: p.stat().st_mtime_ns for p in (config.REPO_ROOT / pipeline.CHAPTERS_SUBDIR).glob("*.ipynb")}
    outcome = pipeline.run("smoke", book_root=root, run_dir=run_dir, log=lambda _: None)
    return root, run_dir, outcome, committed
