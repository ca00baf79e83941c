"""A resumed evaluation equals an uninterrupted one byte for byte; an evaluated user folder is never written."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mwalign import cli
from mwalign.config import RunConfig
from mwalign.evaluation import run_evaluation_stage
from tests.evaluation.conftest import make_run_dir

pytestmark = pytest.mark.slow  # three evaluations of 2 tiny models on the real Tatoeba spa-eng (1,000 pairs)


def _config() -> RunConfig:
    return RunConfig.model_validate({"name": "t", "evaluation": {
        "tasks": ["Tatoeba"], "langs": ["spa"], "unseen": [], "batch_size": 64, "max_seq_length": 32,
        "bootstrap": 20, "dtype": "fp32"}})  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_model, tiny_model_b) -> bytes:
    run = make_run_dir(tmp_path_factory.mktemp("clean") / "run", tiny_model, tiny_model_b)
    run_evaluation_stage(_config(), run)
    return (run / "results" / "scores.parquet").read_bytes()


def _model_files(run: Path, label: str) -> tuple[Path, Path]:
    """mteb's result JSON and our exact-score record of one model's Tatoeba run."""
    (result,) = (run / "results" / "results").rglob(f"*{label}*/**/Tatoeba.json")
    (exact,) = (run / "results" / "predictions").rglob(f"*{label}*/**/Tatoeba.main_scores.json")
    return result, exact


@pytest.mark.parametrize("lost", ["later-model", "later-model-and-first-record"])
def test_resumed_evaluation_is_byte_identical(real_mirror, tmp_path, tiny_model, tiny_model_b, uninterrupted, lost):
    # Given an uninterrupted evaluation's scores table, and one whose scores carry more than mteb's 6 decimals
    scores = pd.read_parquet(pd.io.common.BytesIO(uninterrupted))["score"]
    assert any(round(s, 6) != s for s in scores), "the test needs scores that mteb's JSON rounds"
    # When a second evaluation is cut short: the later model's results never written (killed while it ran),
    # and in the second case also the first model's exact record (killed between mteb's JSON and ours)
    run = make_run_dir(tmp_path / "run", tiny_model, tiny_model_b)
    run_evaluation_stage(_config(), run)
    first_json, first_exact = _model_files(run, "tiny-base")
    later_json, later_exact = _model_files(run, "tiny-multiway-s0")
    rounded = json.loads(first_json.read_text())["scores"]["test"][0]["main_score"]
    assert rounded != json.loads(first_exact.read_text())["test"]["spa-eng"], "mteb's JSON holds the rounded score"
    for path in (later_json, later_exact, run / "results" / "scores.parquet"):
        path.unlink()
    if lost == "later-model-and-first-record":
        first_exact.unlink()
    # And it is resumed
    run_evaluation_stage(_config(), run)
    # Then scores.parquet has the uninterrupted run's bytes
    assert (run / "results" / "scores.parquet").read_bytes() == uninterrupted, "resume must not round scores"


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def test_evaluating_a_user_folder_writes_nothing_into_it(tiny_mirror, tiny_model, tmp_path, capsys):
    # Given a user's model folder
    folder = shutil.copytree(tiny_model, tmp_path / "my-model")
    before = _snapshot(folder)
    # When `mwalign evaluate` scores it
    code = cli.main(["evaluate", str(folder), "--tasks", "Tatoeba", "--langs", "spa", "--output", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    # Then the folder's listing and bytes are unchanged, and the digest cache lives in the results folder
    assert _snapshot(folder) == before, "evaluation must never write into the input model folder"
    assert list((tmp_path / "out" / "fingerprints").glob("*.json")), "the fingerprint cache goes to the results"
