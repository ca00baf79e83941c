"""Learning curves and the three cost readings, on a fabricated run folder (scores, index, training records)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mwalign.reporting import learning_curves


def _run(tmp_path, bilingual_scores: dict[int, float], continued: dict[int, float], multiway: float = 0.6,
         base: float = 0.5, seeds=(0, 1)):
    """Multi-way kept at step 10 (sentences 400); bilingual checkpoints at 10 (steps), 20 (sentences), 30, 60."""
    (tmp_path / "results").mkdir(parents=True)
    index, scores = [], []

    def model(label, method, seed, score, folder_record=None, log=None, **extra):
        index.append({"label": label, "path": f"models/{label}", "base": "enc", "role": "unaligned",
                      "method": method, "seed": seed, **extra})
        scores.append({"model": label, "base": "enc", "method": method, "seed": seed, "task": "T",
                       "task_type": "BitextMining", "subset": "spa-eng", "group": "seen", "score": score})
        folder = tmp_path / "models" / label
        folder.mkdir(parents=True)
        if folder_record is not None:
            (folder / "mwalign_training.json").write_text(json.dumps(folder_record))
        if log is not None:
            (folder / "train_log.jsonl").write_text("\n".join(json.dumps(r) for r in log))

    model("enc-base", "base", None, base)
    for seed in seeds:
        model(f"enc-multiway-s{seed}", "multiway", seed, multiway + seed / 100, {"best_step": 10, "steps": 12},
              [{"step": s, "sentences_seen": 40 * s} for s in range(1, 13)])
        model(f"enc-bilingual-s{seed}", "bilingual", seed, bilingual_scores[60], {"best_step": 60, "steps": 60},
              [{"step": s, "sentences_seen": 20 * s} for s in range(1, 61)])
        for step, score in bilingual_scores.items():
            if step == 60 or (seed and step not in (10, 20)):
                continue
            matches = {10: ["steps"], 20: ["sentences"]}.get(step, [])
            model(f"enc-bilingual-s{seed}@{step}", f"bilingual@{step}", seed, score,
                  step=step, sentences_seen=20 * step, matches=matches, checkpoint_of=f"enc-bilingual-s{seed}")
        if seed == 0:
            for step, score in continued.items():
                model(f"enc-multiway-continued-s0@{step}", f"multiway-continued@{step}", 0, score,
                      step=step, sentences_seen=40 * step, matches=[])
    (tmp_path / "models" / "index.json").write_text(json.dumps(index))
    pd.DataFrame(scores).to_parquet(tmp_path / "results" / "scores.parquet")
    return tmp_path


def test_cost_readings_pair_the_headline_multiway_model_with_each_matched_bilingual_one(tmp_path):
    run = _run(tmp_path, {10: 0.55, 20: 0.58, 30: 0.59, 60: 0.57}, {20: 0.62, 40: 0.63, 60: 0.61})
    readings = learning_curves.cost_readings(learning_curves.load_data(run))
    by = readings.set_index(["budget", "method", "seed"])["model"]
    assert by[("pairs", "bilingual", 0)] == "enc-bilingual-s0"
    assert by[("steps", "bilingual", 1)] == "enc-bilingual-s1@10"
    assert by[("sentences", "bilingual", 0)] == "enc-bilingual-s0@20"
    assert by[("steps", "multiway", 0)] == by[("pairs", "multiway", 0)] == "enc-multiway-s0"
    # And what "equal" meant is shown: multi-way kept step 10 having seen 400 sentences; bilingual 400 at step 20
    costs = learning_curves.matched_costs(learning_curves.load_data(run))
    assert costs.loc[("steps", 0), ["multiway step", "bilingual step"]].tolist() == [10, 10]
    assert costs.loc[("sentences", 0), ["multiway sentences", "bilingual sentences"]].tolist() == [400, 400]


def test_curve_points_keep_runs_with_more_than_two_checkpoints_and_the_untrained_level(tmp_path):
    run = _run(tmp_path, {10: 0.55, 20: 0.58, 30: 0.59, 60: 0.57}, {20: 0.62, 40: 0.63, 60: 0.61})
    data = learning_curves.load_data(run)
    scores = pd.read_parquet(run / "results" / "scores.parquet")
    points = learning_curves.curve_points(data, scores[scores["method"] == "base"])
    runs = set(zip(points["run"], points["seed"].fillna(-1)))
    assert ("bilingual", 0) in runs and ("bilingual", 1) not in runs, "seed 1 has only its matched points"
    assert points[points["run"] == "untrained"]["score"].tolist() == pytest.approx([50.0])
    assert learning_curves.plot_curves(points) is not None


def test_curves_text_follows_the_numbers(tmp_path):
    falling = _run(tmp_path / "a", {10: 0.55, 20: 0.58, 30: 0.59, 60: 0.45}, {20: 0.62, 40: 0.63, 60: 0.64})
    rising = _run(tmp_path / "b", {10: 0.55, 20: 0.58, 30: 0.59, 60: 0.70}, {20: 0.62, 40: 0.63, 60: 0.61})

    def text(run):
        scores = pd.read_parquet(run / "results" / "scores.parquet")
        return learning_curves.curves_text(learning_curves.curve_points(learning_curves.load_data(run),
                                                                        scores[scores["method"] == "base"]))

    a, b = text(falling), text(rising)
    assert a != b
    assert "bilingual peaks at step 30 (59.0) and ends at 45.0, 5.0 points below the untrained 50.0" in a
    assert "multiway-continued still rising at its last checkpoint" in a
    assert "bilingual still rising at its last checkpoint, 20.0 points above the untrained 50.0" in b


def test_selection_effect_compares_dev_selected_with_last_weights_and_says_whether_a_sign_flips(tmp_path):
    # Given seed 0: multi-way kept step 10 of 12 (so its last weights were not kept), then the same with its
    # best step the last; bilingual kept its last step (60), scored 0.57 against 0.60 for multi-way
    run = _run(tmp_path, {10: 0.55, 20: 0.58, 30: 0.59, 60: 0.57}, {20: 0.62})
    curves = learning_curves.load_data(run)
    assert learning_curves.selection_effect(curves, run).empty, "multi-way's last step was never scored"
    assert "not measured" in learning_curves.selection_text(learning_curves.selection_effect(curves, run))
    for seed in (0, 1):
        record = run / "models" / f"enc-multiway-s{seed}" / "mwalign_training.json"
        record.write_text(json.dumps({"best_step": 10, "steps": 10, "total_steps": 10}))
    table = learning_curves.selection_effect(curves, run)
    # Then both seeds compare kept with last weights: the same models here, so the two gains agree
    assert list(table["seed"]) == [0, 1] and table["gain, dev-selected %"].tolist() == table["gain, last steps %"].tolist()
    assert table.loc[0, "gain, dev-selected %"] == pytest.approx((0.6 - 0.57) / 0.57 * 100, abs=0.01)
    assert learning_curves.selection_text(table).startswith("Selecting by the dev metric moves no gain across zero")
    # And when the bilingual run kept an earlier, better checkpoint than its last, the sign can flip
    (run / "models" / "enc-bilingual-s0" / "mwalign_training.json").write_text(
        json.dumps({"best_step": 30, "steps": 60, "total_steps": 60}))
    curves = learning_curves.load_data(run)
    headline = curves["model"] == "enc-bilingual-s0"
    last = curves[headline].assign(model="enc-bilingual-s0@60", checkpoint=True, step=60)  # its last step, 0.57
    curves.loc[headline, ["step", "score"]] = [30, 0.65]
    curves = pd.concat([curves, last], ignore_index=True)
    flipped = learning_curves.selection_effect(curves[curves["seed"] == 0], run)
    assert flipped.loc[0, "bilingual kept / last step"] == "30 / 60"
    assert flipped.loc[0, "gain, last steps %"] == pytest.approx((0.6 - 0.57) / 0.57 * 100, abs=0.01)
    assert "reverses the sign of the gain for BitextMining" in learning_curves.selection_text(flipped)
