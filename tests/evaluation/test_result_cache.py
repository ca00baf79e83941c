"""What the run's mteb ResultCache holds: every evaluated model, and official task names only on official rows."""

from __future__ import annotations

import mteb
import pandas as pd
import pytest

from mwalign.config import RunConfig, data_dir
from mwalign.evaluation import run_evaluation_stage
from mwalign.evaluation.official_data import differences
from mwalign.evaluation.tasks import get_task
from mwalign.evaluation.tasks.ntrex import CLEAN_NAME
from tests.evaluation.conftest import make_run_dir

pytestmark = pytest.mark.slow  # one stage run shared by the module: 2 models x ~4,600 texts, ~30-70 s on 2 cores

TASKS = ["Tatoeba", "STS17", CLEAN_NAME]
FIRST_NTREX_SENTENCE = "Welsh AMs worried about 'looking like muppets'"


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory, tiny_model, tiny_model_b):
    """A run whose corpus holds one NTREX sentence, evaluated on Tatoeba, STS17 and the clean NTREX task."""
    if not (data_dir() / "ntrex128").is_dir():
        pytest.skip(f"{data_dir()}/ntrex128 absent; set MWALIGN_DATA_DIR")
    run = make_run_dir(tmp_path_factory.mktemp("evaluated") / "run", tiny_model, tiny_model_b)
    pd.DataFrame({"eng": [FIRST_NTREX_SENTENCE, "An English training sentence."]}).to_parquet(
        run / "corpus" / "translations.parquet"
    )
    cfg = RunConfig.model_validate({"name": "t", "evaluation": {
        "tasks": TASKS, "langs": ["spa"], "unseen": [], "batch_size": 32, "max_seq_length": 32, "bootstrap": 0,
    }})  # fmt: skip
    return run, run_evaluation_stage(cfg, run)


def _load(run, **kwargs):
    return mteb.ResultCache(run / "results").load_results(include_remote=False, **kwargs)


def test_load_results_with_experiments_returns_every_evaluated_model(evaluated_run):
    # Given a run evaluated by the stage (results stored as mteb experiments: dtype, max length, prompt)
    run, scores = evaluated_run
    # When mteb's own ResultCache loads it, as the README and the evaluation chapter show
    results = _load(run, load_experiments=True)
    # Then every evaluated model is there with every task
    evaluated = {f"mwalign/{label}" for label in scores["model"].unique()}
    assert {m.model_name for m in results.model_results} == evaluated, "every evaluated model must load"
    for model in results.model_results:
        assert {t.task_name for t in model.task_results} == set(TASKS), f"{model.model_name}: every task loads"


def test_load_results_without_experiments_finds_no_model(evaluated_run):
    # Given the same run, When loaded without load_experiments
    run, _ = evaluated_run
    # Then no model is found: why the README shows load_experiments=True
    results = _load(run, load_experiments="no_experiments")
    assert not [m for m in results.model_results if m.task_results], "experiments load only when asked for"


def _scored_splits(task, entry) -> list[str]:
    splits = list(entry.scores)
    train = getattr(task, "train_split", None)
    return splits + [train] if task.metadata.type == "Classification" and train not in splits else splits


def test_official_names_in_the_result_cache_hold_official_rows(evaluated_run):
    # Given every entry the stage wrote to the ResultCache
    run, _ = evaluated_run
    entries = [t for m in _load(run, load_experiments=True).model_results for t in m.task_results]
    official_names = {t.metadata.name for t in mteb.get_tasks()}
    assert entries, "the stage must have written results"
    for entry in entries:
        subsets = sorted({score["hf_subset"] for split in entry.scores.values() for score in split})
        task = get_task(entry.task_name)
        if entry.task_name not in official_names:
            # Then a renamed task records which rows it kept (here: one NTREX document dropped)
            assert entry.task_name == CLEAN_NAME and "+keep-" in entry.dataset_revision
            assert not entry.dataset_revision.startswith(f"{task.metadata.revision}+keep-1997-"), "a document dropped"
            continue
        # Then an official name carries mteb's revision and, for each subset it lists, mteb's official rows
        assert entry.dataset_revision == mteb.get_task(entry.task_name).metadata.revision, entry.task_name
        task.hf_subsets = subsets
        task.load_data()
        found = [d for s in subsets for split in _scored_splits(task, entry) for d in differences(task, split, s)]
        assert not found, f"{entry.task_name}: results under the official name on non-official rows: {found[:3]}"


def test_official_ntrex_name_is_refused_when_training_shares_documents(evaluated_run):
    # Given the run whose corpus holds an NTREX sentence, When the official NTREX task is asked for
    run, _ = evaluated_run
    cfg = RunConfig.model_validate({"name": "t", "evaluation": {"tasks": ["NTREXBitextMining"], "langs": ["spa"],
                                                                "unseen": [], "bootstrap": 0}})
    # Then the stage refuses before encoding and names the task to use
    with pytest.raises(ValueError, match=rf"NTREXBitextMining: \d+ of 1997 NTREX lines .* use {CLEAN_NAME}"):
        run_evaluation_stage(cfg, run)
