"""Stage entry points: models folder + index.json contract, ablation variants, mE5 prompts, bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer

from mwalign.config import load_config
from mwalign.models.fingerprint import fingerprint
from mwalign.training import run_alignment_stage, run_me5_stage
from mwalign.training.stage import training_prompt
from mwalign.training.variants import derive_variant
from tests.training.conftest import FIXTURE_LANGUAGES, corpus_frame


def _smoke(model_path, **training):
    overrides = {"training": {"models": [str(model_path)], "batch_size": 4, "max_steps": 2, "eval_every": 2,
                              "dtype": "fp32", "max_seq_length": 32, "ablations": [], "curve": None, **training},
                 "me5": {"model": str(model_path), "n_rows": 4, "batch_size": 2, "max_steps": 1}}
    return load_config("smoke", overrides)


def test_alignment_stage_writes_loadable_models_and_index(run_dir, copy_model):
    # Given a run dir with the corpus files and a tiny local model
    cfg = _smoke(copy_model(), ablations=["english-anchors", "k2-multiway", "sub-pool"], sub_pool=["spa", "fra"])
    # When the alignment stage runs
    frame = run_alignment_stage(cfg, run_dir)
    # Then index.json lists base, multiway, bilingual and the ablations with the contract's fields
    index = json.loads((run_dir / "models" / "index.json").read_text())
    methods = sorted(e["method"] for e in index)
    assert methods == ["base", "bilingual", "english-anchors", "k2-multiway", "multiway", "sub-pool"], methods
    assert set(frame.columns) >= {"label", "path", "base", "role", "method", "seed", "dtype", "corpus_hash"}
    assert all(e["corpus_hash"] == "fixture0123456789" and e["dtype"] == "fp32" for e in index)
    # And each folder loads with plain SentenceTransformer and carries the log and the card section
    for entry in index:
        folder = run_dir / entry["path"]
        model = SentenceTransformer(str(folder), device="cpu")
        assert model.encode(["Hola."]).shape[1] == 32, f"{folder} must load and encode"
        assert list(folder.glob("*.safetensors")) or list(folder.glob("*/*.safetensors")), "weights in safetensors"
        assert "mwalign training" in (folder / "README.md").read_text(), "model card must carry training params"
        if entry["method"] != "base":
            assert (folder / "train_log.jsonl").is_file(), "the per-step log is saved with the model"
    assert not list((run_dir / "models").glob(".*")), "no partial or temp folders remain"


def test_rerun_skips_finished_models(run_dir, copy_model):
    # Given a finished stage
    cfg = _smoke(copy_model())
    run_alignment_stage(cfg, run_dir)
    stamp = (run_dir / "models" / "tiny-multiway-s0" / "mwalign_training.json").stat().st_mtime_ns
    # When it runs again with the same config
    run_alignment_stage(cfg, run_dir)
    # Then the finished model is not retrained and the index has no duplicates
    assert (run_dir / "models" / "tiny-multiway-s0" / "mwalign_training.json").stat().st_mtime_ns == stamp
    labels = [e["label"] for e in json.loads((run_dir / "models" / "index.json").read_text())]
    assert len(labels) == len(set(labels)) == 3, labels


def test_me5_stage_uses_query_prompt_and_equal_pair_budget(run_dir, copy_model):
    # Given a tiny model standing in for mE5 and a bilingual corpus (16 rows) that fits only 2 six-pair rows
    cfg = _smoke(copy_model())
    # When the alignment stage and then the mE5 stage run on the same base and run dir
    run_alignment_stage(cfg, run_dir)
    frame = run_me5_stage(cfg, run_dir)
    # Then it registers base, multiway and bilingual with role me5
    assert sorted(frame["method"]) == ["base", "bilingual", "multiway"] and set(frame["role"]) == {"me5"}
    info = json.loads((run_dir / "models" / "tiny-me5-multiway-s0" / "mwalign_training.json").read_text())
    bilingual = json.loads((run_dir / "models" / "tiny-me5-bilingual-s0" / "mwalign_training.json").read_text())
    assert info["settings"]["prompt"] == "query: ", "E5 training must prepend the query prompt"
    assert info["pairs"] == bilingual["pairs"] == 2 * 6, "multi-way and bilingual must share the pair budget"
    labels = [e["label"] for e in json.loads((run_dir / "models" / "index.json").read_text())]
    assert len(labels) == len(set(labels)) == 6, f"me5 and alignment labels must not collide: {labels}"


def test_me5_stage_trains_every_seed(run_dir, copy_model):
    # Given two seeds for the mE5 role
    cfg = _smoke(copy_model())
    cfg.me5.seeds = [0, 1]
    # When the mE5 stage runs
    frame = run_me5_stage(cfg, run_dir)
    # Then both methods are trained under both seeds, and the seeds give different weights
    trained = frame[frame["method"] != "base"]
    assert sorted(zip(trained["method"], trained["seed"])) == [("bilingual", 0), ("bilingual", 1),
                                                               ("multiway", 0), ("multiway", 1)]
    s0, s1 = (fingerprint(run_dir / "models" / f"tiny-me5-multiway-s{seed}") for seed in (0, 1))
    assert s0 != s1, "seeds must change the batches and hence the weights"


def _two_conditions(run_dir, copy_model, fixture_lines):
    """Two translation-sensitivity corpora as the corpus stage writes them (same roots, other translations)."""
    folder = run_dir / "corpus" / "sensitivity"
    folder.mkdir()
    train = {code: lines[:16] for code, lines in fixture_lines.items()}
    corpus_frame(train, FIXTURE_LANGUAGES).to_parquet(folder / "human.parquet")
    corpus_frame(train, ["eng", "spa"]).to_parquet(folder / "mt.parquet")
    cfg = _smoke(copy_model())
    cfg.corpus.sensitivity_conditions = {"human": ["reference"], "mt": ["apertium"]}
    return cfg, folder, train


def test_sensitivity_corpora_are_trained_as_translator_models(run_dir, copy_model, fixture_lines):
    # Given two translation-sensitivity corpora from the corpus stage (same roots, different translations)
    cfg, _, _ = _two_conditions(run_dir, copy_model, fixture_lines)
    # When the alignment stage runs
    run_alignment_stage(cfg, run_dir)
    # Then each condition yields one first-seed model trained on its own rows
    index = {e["label"]: e for e in json.loads((run_dir / "models" / "index.json").read_text())}
    for condition, pairs in (("human", 16 * 6), ("mt", 16)):
        entry = index[f"tiny-translator-{condition}-s0"]
        assert entry["method"] == f"translator-{condition}" and entry["seed"] == 0
        info = json.loads((run_dir / entry["path"] / "mwalign_training.json").read_text())
        assert info["pairs"] == pairs and info["corpus_source"].endswith(f"{condition}.parquet")


def test_a_retranslated_condition_is_retrained_under_its_old_name(run_dir, copy_model, fixture_lines):
    # Given a finished sensitivity study with two conditions
    cfg, folder, train = _two_conditions(run_dir, copy_model, fixture_lines)
    run_alignment_stage(cfg, run_dir)
    info = {c: run_dir / "models" / f"tiny-translator-{c}-s0" / "mwalign_training.json" for c in ("human", "mt")}
    stamps = {c: path.stat().st_mtime_ns for c, path in info.items()}
    # When one condition's translator changes: same name, same roots and languages, other sentences
    retranslated = {**train, "spa": [line.upper() for line in train["spa"]]}
    corpus_frame(retranslated, ["eng", "spa"]).to_parquet(folder / "mt.parquet")
    run_alignment_stage(cfg, run_dir)
    # Then that condition's model is retrained and the other one is reused
    assert info["mt"].stat().st_mtime_ns != stamps["mt"], "a model must not be reused for other sentences"
    assert info["human"].stat().st_mtime_ns == stamps["human"]


def test_training_prompt_prefers_the_model_query_prompt(tiny_model):
    tiny_model.prompts = {"query": "query: ", "passage": "passage: "}
    assert training_prompt(tiny_model, "unaligned") == "query: "
    tiny_model.prompts = {}
    assert training_prompt(tiny_model, "unaligned") is None and training_prompt(tiny_model, "me5") == "query: "


def test_k_variants_keep_the_pair_budget_and_exclude_dev_roots(run_dir):
    # Given 16 training roots in the wide table
    roots = {f"r{i:03d}" for i in range(12)}
    # When the variants are derived for a budget of 16 pairs
    k2 = derive_variant("k2-multiway", run_dir / "corpus" / "translations.parquet", roots, 16, seed=0)
    kall = derive_variant("k-all", run_dir / "corpus" / "translations.parquet", roots, 16, seed=0)
    # Then k2 has 16 two-language rows, k-all rows of all 4 languages reaching the budget, only training roots
    assert len(k2) == 16 and all(len(langs) == 2 for langs in k2.languages)
    assert any("eng" not in langs for langs in k2.languages), "k2-multiway must include non-English pairs"
    assert kall.pair_count >= 16 and all(len(langs) == 4 for langs in kall.languages)
    assert set(k2.root_ids) <= roots and set(kall.root_ids) <= roots, "dev roots must never enter"


def test_sub_pool_variant_draws_rows_from_the_sub_pool_only(run_dir):
    # Given 12 training roots with eng, spa, fra and deu
    roots = {f"r{i:03d}" for i in range(12)}
    translations = run_dir / "corpus" / "translations.parquet"
    # When the pool-composition ablation keeps spa and deu, with k=2 and with k=4
    k2 = derive_variant("sub-pool", translations, roots, 16, seed=0, k=2, sub_pool=["spa", "deu"])
    k4 = derive_variant("sub-pool", translations, roots, 16, seed=0, k=4, sub_pool=["spa", "deu"])
    # Then rows are English plus sub-pool languages only, at the pair budget, from training roots
    assert {tuple(langs) for langs in k2.languages} == {("eng", "spa"), ("eng", "deu")}
    assert len(k2) == 16 and set(k2.root_ids) <= roots
    assert {tuple(langs) for langs in k4.languages} == {("eng", "spa", "deu")}, "k-1 exceeds the sub-pool: use all"
    assert k4.pair_count >= 16 and set(k4.root_ids) <= roots
    # And a sub-pool no root has is an error naming the parameter
    with pytest.raises(ValueError, match=r"training.sub_pool=\['epo'\]: no training root"):
        derive_variant("sub-pool", translations, roots, 16, seed=0, k=4, sub_pool=["epo"])


def test_stage_errors_before_training(run_dir, copy_model, tmp_path):
    # Given a batch larger than the corpus
    cfg = _smoke(copy_model(), batch_size=64)
    with pytest.raises(ValueError, match=r"params/smoke.yml: training.batch_size=64 is larger than the corpus"):
        run_alignment_stage(cfg, run_dir)
    assert not (run_dir / "models").exists(), "no model folder may be written"
    # Given an empty corpus
    empty = pd.read_parquet(run_dir / "corpus" / "multiway.parquet").head(0)
    empty.to_parquet(run_dir / "corpus" / "multiway.parquet")
    with pytest.raises(ValueError, match="multiway.parquet: the corpus is empty"):
        run_alignment_stage(_smoke(copy_model("b")), run_dir)
    # Given a missing corpus
    with pytest.raises(FileNotFoundError, match="run the corpus stage"):
        run_alignment_stage(_smoke(copy_model("c")), tmp_path / "nowhere")


def test_unknown_model_offline_fails_fast(run_dir, monkeypatch):
    # Given no hub and a model name that is neither local nor a folder
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = load_config("smoke", {"training": {"models": ["no-such-org/no-such-model"], "batch_size": 4}})
    # Then the stage fails with one line naming the model, and writes no model folder
    with pytest.raises(Exception, match="no-such-org/no-such-model") as info:
        run_alignment_stage(cfg, run_dir)
    assert "\n" not in str(info.value), "the error must be one line"
    assert not [p for p in (run_dir / "models").glob("*") if p.is_dir()], "no half-written model folder"


def test_k_variant_without_translations_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="translations.parquet: needed for the k2-multiway"):
        derive_variant("k2-multiway", tmp_path / "translations.parquet", {"r000"}, 4, seed=0)
    with pytest.raises(ValueError, match="not a corpus variant"):
        derive_variant("k3", tmp_path / "translations.parquet", {"r000"}, 4, seed=0)


def test_temperature_grid_picks_one_value_per_base_and_keys_the_jobs(run_dir, copy_model):
    # Given a grid of two temperatures and short grid runs
    cfg = _smoke(copy_model(), temperature_grid=[0.02, 0.5], temperature_grid_steps=2)
    # When the alignment stage runs
    run_alignment_stage(cfg, run_dir)
    # Then the record names the grid, one dev accuracy per value and the chosen value
    record = json.loads((run_dir / "models" / "temperature_grid.json").read_text())
    (choice,) = record.values()
    assert choice["grid"] == [0.02, 0.5] and len(choice["dev_metric"]) == 2 and choice["chosen"] in (0.02, 0.5)
    best = max(choice["dev_metric"])
    assert choice["chosen"] == choice["grid"][choice["dev_metric"].index(best)], "best dev accuracy, ties: first"
    # And both methods train with it, so it is part of each job's hash
    for method in ("multiway", "bilingual"):
        info = json.loads((run_dir / "models" / f"tiny-{method}-s0" / "mwalign_training.json").read_text())
        assert info["loss"]["temperature"] == choice["chosen"], method
    assert not (run_dir / "models" / ".temperature-grid").exists(), "grid runs leave no folders"
    # And a rerun reuses the record instead of running the grid again
    stamp = (run_dir / "models" / "temperature_grid.json").stat().st_mtime_ns
    run_alignment_stage(cfg, run_dir)
    assert (run_dir / "models" / "temperature_grid.json").stat().st_mtime_ns == stamp


def test_training_record_names_stop_step_reason_and_dev_curve(run_dir, copy_model):
    # Given a run capped at 2 steps, evaluated every step
    cfg = _smoke(copy_model(), eval_every=1)
    # When it trains
    run_alignment_stage(cfg, run_dir)
    # Then the record says where and why it stopped, with the dev curve it stopped on
    info = json.loads((run_dir / "models" / "tiny-multiway-s0" / "mwalign_training.json").read_text())
    assert (info["stop_reason"], info["stop_step"]) == ("max_steps", 2), info
    assert [h["step"] for h in info["dev_curve"]] == [1, 2] and info["best_step"] in (1, 2)


def test_scaling_study_trains_nested_sizes_at_equal_pair_budget(run_dir, copy_model):
    # Given a scaling study at half and full size with two seeds (full size reuses the headline models)
    cfg = _smoke(copy_model(), seeds=[0, 1], scaling={"fractions": [0.5, 1.0], "seeds": [0, 1]})
    # When the alignment stage runs
    run_alignment_stage(cfg, run_dir)
    # Then half-size models exist for both methods and seeds, next to the headline models
    index = {e["label"]: e for e in json.loads((run_dir / "models" / "index.json").read_text())}
    for seed in (0, 1):
        for method in ("multiway", "bilingual"):
            assert f"tiny-{method}-f0.5-s{seed}" in index and f"tiny-{method}-s{seed}" in index
            assert index[f"tiny-{method}-f0.5-s{seed}"]["method"] == f"{method}-f0.5"
    small = {m: json.loads((run_dir / "models" / f"tiny-{m}-f0.5-s0" / "mwalign_training.json").read_text())
             for m in ("multiway", "bilingual")}
    # And each half-size corpus is half of its full-size corpus (the fixture's 16 rows each)
    assert small["multiway"]["rows"] == small["bilingual"]["rows"] == 8, small


def test_scaling_rows_are_nested_prefixes():
    # Given 9 four-language rows and the 54 bilingual rows of the same pair budget (equal_pairs)
    from mwalign.training.data import RowTable
    from mwalign.training.stage import scaling_rows
    multi = RowTable([f"m{i}" for i in range(9)], [["eng", "a", "b", "c"]] * 9, [["w", "x", "y", "z"]] * 9, "m")
    bi = RowTable([f"b{i}" for i in range(54)], [["eng", "a"]] * 54, [["w", "x"]] * 54, "b")
    # When cut at 1/3 and 2/3
    third, two_thirds = scaling_rows(multi, bi, 1 / 3), scaling_rows(multi, bi, 2 / 3)
    # Then the smaller sets are prefixes of the larger and the pair budgets still match (3 rows x 6 pairs)
    assert third[0].root_ids == two_thirds[0].root_ids[:3] and third[1].root_ids == two_thirds[1].root_ids[:18]
    assert third[0].pair_count == third[1].pair_count == 18
    assert two_thirds[0].pair_count == two_thirds[1].pair_count == 36


def test_controls_train_both_methods_with_their_own_base(run_dir, copy_model):
    # Given a control encoder besides the main one
    control = copy_model("control")
    cfg = _smoke(copy_model(), controls=[{"model": str(control), "seeds": [0], "label": "no pretraining"}])
    # When the stage runs
    run_alignment_stage(cfg, run_dir)
    # Then the control has a base entry and both methods
    labels = {e["label"] for e in json.loads((run_dir / "models" / "index.json").read_text())}
    assert {"control-base", "control-multiway-s0", "control-bilingual-s0"} <= labels, labels


def test_scaling_seeds_outside_the_headline_seeds_are_refused():
    # Given fraction 1.0 (which reuses the headline models) with a seed the headline does not train
    from mwalign.config import ConfigError
    # When the profile loads, Then the error names the key
    with pytest.raises(ConfigError, match="training.scaling.seeds"):
        load_config("smoke", {"training": {"seeds": [0], "scaling": {"fractions": [0.5, 1.0], "seeds": [0, 1]}}})


def test_model_card_names_the_corpus_relative_to_the_run_dir_once_sliced(run_dir, copy_model):
    # Given the same mE5 training (n_rows=4 cut, then cut again to the pair budget) in two run dirs
    cfg = _smoke(copy_model())
    elsewhere = run_dir / "elsewhere" / "run"
    shutil.copytree(run_dir / "corpus", elsewhere / "corpus")
    for folder in (run_dir, elsewhere):
        run_me5_stage(cfg, folder)
    # Then the card records the corpus relative to the run dir, with the row slice written once
    cards = [(folder / "models" / "tiny-me5-multiway-s0") for folder in (run_dir, elsewhere)]
    info = json.loads((cards[0] / "mwalign_training.json").read_text())
    assert re.fullmatch(r"corpus/multiway\.parquet\[:\d+\]", info["corpus_source"]), info["corpus_source"]
    bilingual = json.loads((run_dir / "models" / "tiny-me5-bilingual-s0" / "mwalign_training.json").read_text())
    assert re.fullmatch(r"corpus/bilingual\.parquet\[:\d+\]", bilingual["corpus_source"]), bilingual["corpus_source"]
    # And the same training gives the same card in either place
    assert (cards[0] / "README.md").read_bytes() == (cards[1] / "README.md").read_bytes(), "cards must not name machines"


def test_two_concurrent_train_processes_leave_a_correct_index(run_dir, copy_model):
    # Given two real `mwalign train` processes started on one run dir, the second while the first holds it
    settings = ["training.batch_size=4", "training.max_steps=2", "training.eval_every=2", "training.dtype=fp32",
                "training.max_seq_length=32", "training.ablations=[]", "training.curve=null",
                f"training.models=[{copy_model()}]"]
    command = [sys.executable, "-m", "mwalign.cli", "train", "--run-dir", str(run_dir),
               *(arg for s in settings for arg in ("--set", s))]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock, deadline = run_dir / ".mwalign.lock", time.time() + 120
    while not (lock.is_file() and f"pid {first.pid}" in lock.read_text()) and first.poll() is None:
        assert time.time() < deadline, "the first process never took the run lock"
        time.sleep(0.05)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    first_out, first_err = first.communicate(timeout=600)
    # Then the first succeeds, and the second either refused with the lock message or (if the first had
    # already finished) found every model done
    assert first.returncode == 0, first_err[-2000:]
    if second.returncode == 2:
        assert second.stderr.startswith(f"mwalign: error: {run_dir}: in use by another mwalign run (pid {first.pid})")
        assert second.stderr.count("\n") == 1, second.stderr
    else:
        assert second.returncode == 0, second.stderr[-2000:]
    # And the index lists each model once, each folder loads and no partial folder is left
    index = json.loads((run_dir / "models" / "index.json").read_text())
    labels = [e["label"] for e in index]
    assert sorted(labels) == ["tiny-base", "tiny-bilingual-s0", "tiny-multiway-s0"], labels
    for entry in index:
        assert SentenceTransformer(str(run_dir / entry["path"]), device="cpu").encode(["Hola."]).shape == (1, 32)
    assert not list((run_dir / "models").glob(".*")), "no partial or temp folders remain"


def test_curve_checkpoints_match_the_multiway_run_in_steps_and_sentences(run_dir, copy_model):
    from mwalign.training.stage import CONTINUED

    # Given learning curves on: 3 epochs of 4-row batches, a dev evaluation every step, 3 curve points
    cfg = _smoke(copy_model(), max_steps=None, epochs=3, eval_every=1, patience=100, curve={"points": 3})
    # When the alignment stage runs
    run_alignment_stage(cfg, run_dir)
    models = run_dir / "models"
    index = {e["label"]: e for e in json.loads((models / "index.json").read_text())}
    multiway = json.loads((models / "tiny-multiway-s0" / "mwalign_training.json").read_text())
    bilingual = json.loads((models / "tiny-bilingual-s0" / "mwalign_training.json").read_text())
    log = [json.loads(line) for line in (models / "tiny-multiway-s0" / "train_log.jsonl").read_text().splitlines()]
    kept_sentences = next(r["sentences_seen"] for r in log if r["step"] == multiway["best_step"])
    # Then the bilingual run kept a checkpoint at the multi-way run's kept step (equal steps) ...
    checkpoints = {c["step"]: c for c in bilingual["checkpoints"]}
    assert "steps" in checkpoints[multiway["best_step"]]["matches"]
    # ... one at the first step whose sentences reach the multi-way run's by then, if its run gets there ...
    by_sentences = [c for c in checkpoints.values() if "sentences" in c["matches"]]
    if bilingual["sentences_seen"] >= kept_sentences:
        (match,) = by_sentences
        assert match["sentences_seen"] >= kept_sentences > match["sentences_seen"] - 8, "8 sentences per step"
    else:
        assert not by_sentences
    # ... and 3 evenly spaced curve points, its last step among them
    assert {4, 8, 12} <= set(checkpoints), sorted(checkpoints)
    # And every checkpoint is a loadable model in the index, under its run's method and step
    for step in checkpoints:
        entry = index[f"tiny-bilingual-s0@{step}"]
        assert entry["method"] == f"bilingual@{step}" and entry["checkpoint_of"] == "tiny-bilingual-s0"
        SentenceTransformer(str(run_dir / entry["path"]), device="cpu")
    # And the continued multi-way run trained as many steps as bilingual planned, with the same curve points
    continued = json.loads((models / f"tiny-{CONTINUED}-s0" / "mwalign_training.json").read_text())
    assert continued["steps"] == bilingual["total_steps"] == 12
    assert {c["step"] for c in continued["checkpoints"]} == {4, 8, 12}
    # And a rerun trains nothing again
    stamps = {p: p.stat().st_mtime_ns for p in models.glob("*/model.safetensors")}
    run_alignment_stage(cfg, run_dir)
    assert stamps == {p: p.stat().st_mtime_ns for p in models.glob("*/model.safetensors")}


def test_depth_study_trains_other_encoders_at_its_fraction_with_both_methods(run_dir, copy_model):
    # Given a depth study of one other encoder at half the rows
    cfg = _smoke(copy_model(), depth={"models": [str(copy_model("deep"))], "fraction": 0.5})
    # When the alignment stage runs
    run_alignment_stage(cfg, run_dir)
    index = {e["label"]: e for e in json.loads((run_dir / "models" / "index.json").read_text())}
    # Then the other encoder has both methods at half size, beside its untrained base and the headline models
    for method in ("multiway", "bilingual"):
        entry = index[f"deep-{method}-f0.5-s0"]
        assert entry["method"] == f"{method}-f0.5" and entry["base"].endswith("deep")
        record = json.loads((run_dir / entry["path"] / "mwalign_training.json").read_text())
        assert record["rows"] == 8, "half of the fixture's 16 rows"
    assert "deep-base" in index and "tiny-multiway-s0" in index


def test_depth_study_refuses_the_headline_model():
    with pytest.raises(ValueError, match="training.depth.models: .* already in training.models"):
        _smoke("tiny-xlmr", depth={"models": ["tiny-xlmr"]})
