"""The evaluation stage: run dir in, mteb ResultCache + tidy scores table out; second run re-encodes nothing."""

from __future__ import annotations

import json
import re
import warnings

import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning

from mwalign.config import RunConfig
from mwalign.evaluation import evaluate, run_evaluation_stage
from mwalign.evaluation.stage import SCORE_COLUMNS


def smoke_config(**evaluation) -> RunConfig:
    defaults = {"tasks": ["Tatoeba"], "langs": ["spa", "fra", "deu"], "unseen": ["deu"], "batch_size": 8,
                "max_seq_length": 32, "bootstrap": 20}
    return RunConfig.model_validate({"name": "t", "evaluation": {**defaults, **evaluation}})


def test_stage_writes_tidy_table_and_mteb_results(tiny_mirror, run_dir):
    # Given a run dir with 2 models and a manifest whose seen languages are eng, spa, fra
    # When the stage runs Tatoeba on spa, fra, deu
    scores = run_evaluation_stage(smoke_config(), run_dir)
    # Then the table has the contract columns, one row per model x subset, and groups from the manifest
    on_disk = pd.read_parquet(run_dir / "results" / "scores.parquet")
    assert list(on_disk.columns) == SCORE_COLUMNS, "scores.parquet must carry the contract columns"
    assert len(scores) == 6 and set(scores["subset"]) == {"spa-eng", "fra-eng", "deu-eng"}, "2 models x 3 subsets"
    groups = dict(zip(scores["subset"], scores["group"], strict=False))
    assert groups == {"spa-eng": "seen", "fra-eng": "seen", "deu-eng": "unseen"}, "deu is not in the manifest"
    assert set(scores["metric"]) == {"f1"} and set(scores["method"]) == {"base", "multiway"}, "f1 and provenance"
    assert (scores["ci_low"] <= scores["score"]).all() and (scores["score"] <= scores["ci_high"]).all(), (
        "the bootstrap interval must contain the point score"
    )
    # And mteb's own result JSON lives under results/, one file per model
    result_files = sorted((run_dir / "results" / "results").rglob("Tatoeba.json"))
    assert len(result_files) == 2, "one mteb TaskResult per model in the run's ResultCache"
    assert json.loads(result_files[0].read_text())["task_name"] == "Tatoeba"


def test_second_evaluation_encodes_nothing(tiny_mirror, tiny_model, tmp_path, monkeypatch):
    # Given a first evaluation
    first = evaluate({"tiny": tiny_model}, ["Tatoeba"], ["spa"], results_dir=tmp_path / "r", bootstrap=10)
    # When the results JSON is deleted and the model is evaluated again
    for path in (tmp_path / "r" / "results").rglob("*.json"):
        path.unlink()
    import mwalign.evaluation.harness as harness

    def no_model_load(*args, **kwargs):
        raise AssertionError("model must not load when every embedding is cached")

    monkeypatch.setattr(harness, "load_sentence_transformer", no_model_load)
    second = evaluate({"tiny": tiny_model}, ["Tatoeba"], ["spa"], results_dir=tmp_path / "r", bootstrap=10)
    # Then the scores are identical and came from cached embeddings
    assert first["score"].tolist() == second["score"].tolist(), "cached embeddings must reproduce the scores"


def test_unknown_task_fails_before_encoding(tiny_mirror, run_dir):
    with pytest.raises(ValueError, match=r"evaluation.tasks: unknown task 'Tatoba'; known tasks: .*Tatoeba"):
        run_evaluation_stage(smoke_config(tasks=["Tatoba"]), run_dir)
    assert not (run_dir / "results" / "scores.parquet").exists(), "no half-written artifact"


def test_model_folder_without_weights_is_named(tiny_mirror, run_dir):
    # Given a model folder whose weights were deleted
    for weights in (run_dir / "models" / "tiny-base").rglob("*.safetensors"):
        weights.unlink()
    # Then the stage fails naming the folder, before any encoding
    with pytest.raises(ValueError, match=r"tiny-base.*no .*weights"):
        run_evaluation_stage(smoke_config(), run_dir)
    assert not list((run_dir / "results").glob("embeddings*.sqlite")), "nothing was encoded"


def test_missing_manifest_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"corpus/manifest.json: missing corpus manifest"):
        run_evaluation_stage(smoke_config(), tmp_path)


def test_sts17_rows_carry_intervals_and_groups(real_mirror, tiny_model, tmp_path):
    # Given STS17 on Spanish (es-es, es-en) with Spanish seen in training
    scores = evaluate({"tiny": tiny_model}, ["STS17"], ["spa"], results_dir=tmp_path / "r", seen_languages=["eng", "spa"],
                      bootstrap=50)
    # Then both subsets score Spearman with an interval around it, and both are "seen"
    assert set(scores["subset"]) == {"es-es", "es-en"} and set(scores["metric"]) == {"cosine_spearman"}
    assert (scores["ci_low"] <= scores["score"]).all() and (scores["score"] <= scores["ci_high"]).all(), (
        "the bootstrap interval must contain the point Spearman"
    )
    assert set(scores["group"]) == {"seen"}, "es-en: both languages seen"


def test_language_absent_from_task_is_named(real_mirror, tiny_model, tmp_path):
    # Given French, which the mirrored STS17 lacks (fr-en is not in the SemEval release)
    with pytest.raises(ValueError, match=r"evaluation.langs: fra not in task STS17"):
        evaluate({"tiny": tiny_model}, ["STS17"], ["spa", "fra"], results_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists(), "nothing written before the check"


@pytest.mark.slow  # ~35 s on a shared 2-core box: 3 x 1,004 sentences
def test_multiway_bitext_scores_every_direction_with_groups(real_mirror, tiny_model, tmp_path):
    # Given the SIB-200 multi-way task on Spanish and German, with Spanish seen and German unseen
    scores = evaluate({"tiny": tiny_model}, ["SIB200BitextMining"], ["spa", "deu"], results_dir=tmp_path / "r",
                      seen_languages=["eng", "spa"], bootstrap=30)
    # Then every direction among spa, deu and the English pivot is scored, grouped by its languages
    assert set(scores["subset"]) == {"spa_Latn-deu_Latn", "deu_Latn-spa_Latn", "spa_Latn-eng_Latn",
                                     "eng_Latn-spa_Latn", "deu_Latn-eng_Latn", "eng_Latn-deu_Latn"}
    group = dict(zip(scores["subset"], scores["group"], strict=True))
    assert group["spa_Latn-eng_Latn"] == "seen" and group["spa_Latn-deu_Latn"] == "unseen", "unseen if any language is"
    assert (scores["ci_low"] <= scores["score"]).all() and (scores["score"] <= scores["ci_high"]).all(), (
        "intervals from mteb's parallel predictions must contain the point f1"
    )


def test_shared_sentences_are_encoded_once(tiny_mirror, tiny_model, tmp_path):
    # Given three Tatoeba pairs whose English sides are the same 4 sentences
    evaluate({"tiny": tiny_model}, ["Tatoeba"], ["spa", "fra", "deu"], results_dir=tmp_path / "r", bootstrap=0)
    # Then the cache holds 12 foreign + 4 English vectors: shared sentences were encoded once
    from mwalign.evaluation.embedding_cache import EmbeddingCache

    (cache_file,) = (tmp_path / "r").glob("embeddings-*.sqlite")
    assert len(EmbeddingCache(cache_file)) == 16, "each distinct text encoded once"


def test_results_of_other_evaluation_code_are_discarded(tmp_path):
    # Given a results folder stamped by other evaluation code, with mteb results and embeddings
    from mwalign.evaluation.stage import discard_results_of_other_code

    results = tmp_path / "results"
    for folder in ("results", "predictions"):
        (results / folder).mkdir(parents=True)
    (results / "embeddings-abc.sqlite").write_text("")
    (results / "code_version.txt").write_text("0000\n")
    # When the stage starts
    discard_results_of_other_code(results)
    # Then the stale mteb results go, the embeddings stay, and the stamp is current
    assert not (results / "results").exists() and not (results / "predictions").exists()
    assert (results / "embeddings-abc.sqlite").exists()
    discard_results_of_other_code(results)
    (results / "results").mkdir()
    discard_results_of_other_code(results)
    assert (results / "results").exists(), "results made by the current code must be kept"


@pytest.mark.slow  # ~30 s: 1,004 sentences and 10 k-means runs
def test_clustering_rows_carry_run_intervals(real_mirror, tiny_model, tmp_path):
    scores = evaluate({"tiny": tiny_model}, ["SIB200ClusteringS2S"], ["spa"], results_dir=tmp_path / "r", bootstrap=50)
    assert scores["subset"].tolist() == ["spa_Latn"] and scores["metric"].tolist() == ["v_measure"]
    assert scores["ci_low"][0] <= scores["score"][0] <= scores["ci_high"][0], "interval contains the mean v-measure"


def test_role_tasks_replace_the_task_list_for_that_role(real_mirror, run_dir):
    # Given the second model registered as an mE5 model and STS17 for the unaligned role only
    index = json.loads((run_dir / "models" / "index.json").read_text())
    index[1]["role"] = "me5"
    (run_dir / "models" / "index.json").write_text(json.dumps(index), encoding="utf-8")
    cfg = smoke_config(tasks=["Tatoeba"], langs=["spa"], unseen=[], role_tasks={"unaligned": ["Tatoeba", "STS17"]})
    # When the stage runs
    scores = run_evaluation_stage(cfg, run_dir)
    # Then the unaligned model has both tasks and the mE5 model only the default list
    tasks = scores.groupby("model")["task"].agg(lambda t: sorted(set(t)))
    assert tasks["tiny-base"] == ["STS17", "Tatoeba"] and tasks["tiny-multiway-s0"] == ["Tatoeba"]


def test_encoding_all_first_gives_the_same_scores_and_fills_the_cache(tiny_mirror, tiny_model, tmp_path):
    # Given the same evaluation with and without the one-pass prefill (fp32: batch composition cannot round)
    def run(name, **kw):
        return evaluate({"tiny": tiny_model}, ["Tatoeba"], ["spa", "fra", "deu"], results_dir=tmp_path / name,
                        bootstrap=0, dtype="fp32", **kw)

    plain, prefilled = run("plain"), run("prefilled", encode_all_first=True)
    # Then the scores agree and every text was encoded in the prefill (16 distinct vectors)
    pd.testing.assert_frame_equal(plain, prefilled, rtol=1e-5)
    from mwalign.evaluation.embedding_cache import EmbeddingCache

    (cache_file,) = (tmp_path / "prefilled").glob("embeddings-*.sqlite")
    assert len(EmbeddingCache(cache_file)) == 16, "the prefill should encode each distinct text once"


def test_evaluation_shows_no_anonymous_library_bars(tiny_mirror, tiny_model, tmp_path, capfd):
    # When a bitext task is evaluated
    evaluate({"tiny": tiny_model}, ["Tatoeba"], ["spa", "fra"], results_dir=tmp_path / "r", bootstrap=0)
    # Then mteb's per-subset bars stay silent (the stage's own bar is off off-terminal)
    err = capfd.readouterr().err
    leaked = [line for line in err.replace("\r", "\n").splitlines() if "%|" in line and "Loading weights" not in line]
    assert not leaked, f"library bars leaked: {leaked[:3]}"


@pytest.mark.parametrize("path", ["/etc", "../../elsewhere", "models/../../x"])
def test_index_path_outside_the_run_models_folder_is_refused(tiny_mirror, run_dir, path):
    # Given an index entry whose path leaves <run_dir>/models
    index_path = run_dir / "models" / "index.json"
    index = json.loads(index_path.read_text())
    index[1]["path"] = path
    index_path.write_text(json.dumps(index))
    # When the stage runs, Then it refuses before encoding, naming the index, the entry and the path
    with pytest.raises(ValueError, match=rf"index\.json: entry 1 \(tiny-multiway-s0\): path '{re.escape(path)}' leaves"):
        run_evaluation_stage(smoke_config(), run_dir)
    assert not (run_dir / "results" / "scores.parquet").exists()


def test_classification_of_a_model_that_never_predicts_a_label_warns_nothing(real_mirror, tiny_model, tmp_path):
    # Given the tiny random encoder, whose logistic regression leaves some of SIB-200's 7 labels unpredicted
    # (sklearn then warns that macro precision is ill-defined, and the warning would print in chapter 04)
    # When SIB-200 classification is evaluated with every warning recorded
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = evaluate({"tiny": tiny_model}, ["SIB200Classification"], ["spa"], results_dir=tmp_path / "r",
                          bootstrap=0, dtype="fp32")
    # Then it scores, and no UndefinedMetricWarning reaches the caller (a chapter's output cell)
    assert set(scores["task"]) == {"SIB200Classification"} and scores["score"].between(0, 1).all()
    assert (scores["score"] > 0).all(), "every split must be scored"
    leaked = [str(w.message)[:60] for w in caught if issubclass(w.category, (UndefinedMetricWarning, ConvergenceWarning))]
    assert not leaked, f"sklearn warnings leaked: {leaked[:2]}"


def test_each_model_logs_where_its_evaluation_went(tiny_mirror, tiny_model, tmp_path, caplog):
    # Given a cold evaluation, then a warm one on the same results folder
    def run() -> dict:
        caplog.clear()
        evaluate({"tiny": tiny_model}, ["Tatoeba"], ["spa", "fra", "deu"], results_dir=tmp_path / "r", bootstrap=20)
        (record,) = [r for r in caplog.records if "mteb scored in" in r.msg]
        return dict(zip(["label", "load", "texts", "encoding", "scoring", "intervals", "convergence"], record.args,
                        strict=True))

    caplog.set_level("INFO", logger="mwalign.evaluation.stage")
    cold, warm = run(), run()
    # Then the cold line names the model, loads once, encodes the 16 distinct texts and times every phase apart
    assert cold["label"] == "tiny" and cold["texts"] == 16
    assert cold["load"] > 0 and cold["encoding"] > 0 and cold["scoring"] > 0 and cold["intervals"] > 0
    # And the warm run (mteb's ResultCache) neither loads nor encodes
    assert warm["texts"] == 0 and warm["load"] == 0 and warm["encoding"] == 0


def test_splits_keep_only_the_reported_split_of_each_task():
    from mwalign.evaluation.stage import select_tasks

    # Given SIB200, whose official task scores train, validation and test, and Tatoeba (test only)
    tasks = select_tasks(["SIB200Classification", "Tatoeba"], ["spa"], strict=False, per_task=True, splits=["test"])
    # Then each task scores its test split only
    assert [list(t.eval_splits) for t in tasks] == [["test"], ["test"]]
    assert list(select_tasks(["SIB200Classification"], ["spa"], strict=False)[0].eval_splits) == [
        "train", "validation", "test"], "no setting: the task's own splits"
    # And a split no task has is named
    with pytest.raises(ValueError, match=r"evaluation.splits: Tatoeba has none of dev \(its splits: test\)"):
        select_tasks(["Tatoeba"], ["spa"], strict=False, splits=["dev"])
