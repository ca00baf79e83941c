"""The X-Y bitext task (every language pair on NTREX's last lines) and per-task unseen languages (STS17 ar, tr)."""

from __future__ import annotations

import json

import pytest

from mwalign.config import NTREX_XY_MAX_LINES, SENSITIVITY_MAX_ROOTS, RunConfig
from mwalign.corpus.backends.reference import ntrex_lines
from mwalign.evaluation import languages as eval_languages
from mwalign.evaluation.stage import _drop_unreadable_results, select_tasks
from mwalign.evaluation.tasks.mirror import MirrorDataError, read_lines
from mwalign.evaluation.tasks.ntrex import NTREX_LINES, XY_NAME
from mwalign.ntrex import ntrex_file


def test_xy_task_scores_every_ordered_pair_non_english_included(real_mirror):
    # Given English, two pool languages and one unseen language
    (task,) = select_tasks([XY_NAME], ["eng", "spa", "hrv", "pol"], strict=False, xy_lines=50)
    # Then every ordered pair is a subset, X-Y pairs among them (mteb's NTREX task has no spa-hrv)
    pairs = [tuple(eval_languages.subset_languages(task, s)) for s in task.hf_subsets]
    assert len(pairs) == 12 and ("spa", "hrv") in pairs and ("hrv", "spa") in pairs
    groups = {p: eval_languages.group_of(list(p), {"eng", "spa", "hrv"}) for p in pairs}
    assert groups[("spa", "hrv")] == "seen" and groups[("hrv", "pol")] == "unseen"
    # And it reads the last 50 lines of every language, line-aligned, under a revision that says so
    task.load_data()
    rows = task.dataset["test"]
    assert len(rows) == 50 and task.metadata.revision.endswith("+last-50")
    assert rows["eng_Latn"] == read_lines(ntrex_file("eng"))[-50:]
    assert rows["hrv_Latn"] == read_lines(ntrex_file("hrv"))[-50:]


def test_xy_rows_never_meet_the_lines_the_sensitivity_study_may_train_on(real_mirror):
    # Given the largest X-Y task and the largest sensitivity study the config allows
    (task,) = select_tasks([XY_NAME], ["eng", "spa"], strict=False, xy_lines=NTREX_XY_MAX_LINES)
    assert min(task.line_numbers()) >= SENSITIVITY_MAX_ROOTS and max(task.line_numbers()) == NTREX_LINES - 1
    task.load_data()
    # Then no English sentence it scores is among the study's roots (nor equal to one elsewhere in NTREX)
    trained = {s.strip() for s in ntrex_lines("eng")[:SENSITIVITY_MAX_ROOTS]}
    assert not trained & {s.strip() for s in task.dataset["test"]["eng_Latn"]}


def test_xy_refuses_to_score_a_line_the_run_trained_on(real_mirror):
    (task,) = select_tasks([XY_NAME], ["eng", "spa"], strict=False, xy_lines=20,
                           exclude_sentences=frozenset({read_lines(ntrex_file("eng"))[-3].strip()}))
    with pytest.raises(MirrorDataError, match=rf"NTREX line {NTREX_LINES - 2} is in this run's training corpus"):
        task.load_data()


def test_task_unseen_adds_sts17_arabic_and_turkish_in_the_unseen_group(real_mirror):
    # Without: STS17 keeps only the subsets in the evaluation languages
    (plain,) = select_tasks(["STS17"], ["eng", "spa", "pol"], strict=False)
    assert set(plain.hf_subsets) == {"en-en", "es-en", "es-es"}
    # With task_unseen: ar-ar, en-ar and en-tr too, unseen (Arabic and Turkish are not trained on)
    (task,) = select_tasks(["STS17"], ["eng", "spa", "pol"], strict=False, task_unseen={"STS17": ["arb", "tur"]})
    added = set(task.hf_subsets) - set(plain.hf_subsets)
    assert added == {"ar-ar", "en-ar", "en-tr"}
    assert {eval_languages.group_of(eval_languages.subset_languages(task, s), {"eng", "spa"}) for s in added} == {
        "unseen"}
    # And the other tasks do not get those languages
    (tatoeba,) = select_tasks(["Tatoeba"], ["eng", "spa"], strict=False, task_unseen={"STS17": ["arb", "tur"]})
    assert tatoeba.hf_subsets == ["spa-eng"]


@pytest.mark.parametrize(("evaluation", "says"), [
    ({"tasks": ["STS17"], "task_unseen": {"STS17": ["spa"]}}, r"evaluation.task_unseen: spa trained on"),
    ({"tasks": ["Tatoeba"], "task_unseen": {"STS17": ["arb"]}}, r"evaluation.task_unseen: STS17 not in evaluation.tasks"),
    ({"tasks": ["STS17"], "task_unseen": {"STS17": ["xx1"]}}, r"evaluation.task_unseen.STS17"),
    ({"tasks": [XY_NAME], "ntrex_xy_lines": NTREX_XY_MAX_LINES + 1}, r"ntrex_xy_lines"),
])
def test_bad_x_y_and_unseen_settings_are_refused_naming_them(evaluation, says):
    with pytest.raises(ValueError, match=says):
        RunConfig.model_validate({"name": "t", "corpus": {"pool": ["spa", "fra", "por"]}, "evaluation": evaluation})


def test_a_cached_result_on_other_rows_is_computed_again(real_mirror, tmp_path):
    # Given cached results of the X-Y task at 40 lines, and the task now at 50
    (task,) = select_tasks([XY_NAME], ["eng", "spa"], strict=False, xy_lines=50)
    predictions = tmp_path / "predictions"
    result = tmp_path / "result.json"
    from mwalign.evaluation.scores import exact_scores_path

    record = exact_scores_path(task.metadata.name, predictions)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("{}")
    result.write_text(json.dumps({"dataset_revision": task.metadata.revision.replace("+last-50", "+last-40")}))
    # When the stage checks its cache, Then mteb's "only-missing" does not get to keep them
    _drop_unreadable_results(task, result, predictions)
    assert not result.exists() and not record.exists()
    # And a result on the same rows stays
    record.write_text("{}")
    result.write_text(json.dumps({"dataset_revision": task.metadata.revision}))
    _drop_unreadable_results(task, result, predictions)
    assert result.exists() and record.exists()


def test_encoding_everything_first_covers_every_language_column_of_the_x_y_task(real_mirror):
    from mwalign.evaluation.stage import task_texts

    (task,) = select_tasks([XY_NAME], ["eng", "spa", "hrv"], strict=False, xy_lines=20)
    task.load_data()
    texts = set(task_texts([task]))
    assert {line for column in ("eng_Latn", "spa_Latn", "hrv_Latn") for line in task.dataset["test"][column]} <= texts
