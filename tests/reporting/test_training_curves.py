"""Chapter 02's record of each run: where it stopped and why, and the temperature grid."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mwalign.config import load_config
from mwalign.reporting import deviations, training_curves


def _run(tmp_path):
    """A run with one trained model: a dev curve peaking at step 2, stopped by patience at step 4."""
    folder = tmp_path / "models" / "m-multiway-s0"
    folder.mkdir(parents=True)
    index = [{"label": "m-base", "role": "unaligned", "method": "base", "seed": None, "dtype": "fp32",
              "path": "models/m-base", "base": "m"},
             {"label": "m-multiway-s0", "role": "unaligned", "method": "multiway", "seed": 0, "dtype": "fp32",
              "path": "models/m-multiway-s0", "base": "m"}]
    (tmp_path / "models" / "index.json").write_text(json.dumps(index))
    record = {"rows": 8, "pairs": 48, "steps": 4, "best_step": 2, "best_dev_metric": 0.7, "epochs_run": 2.0,
              "stop_reason": "patience"}
    (folder / "mwalign_training.json").write_text(json.dumps(record))
    log = [{"step": s, "loss": 1.0 / s, **({"dev_metric": a, "dev_se": 0.01} if a is not None else {})}
           for s, a in [(1, None), (2, 0.7), (3, None), (4, 0.6)]]
    (folder / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    return tmp_path


def test_stops_table_names_best_step_stop_step_and_reason(tmp_path):
    # Given a run stopped by patience after its best evaluation
    run = _run(tmp_path)
    # When the chapter's stop table is read
    table = training_curves.stops(run)
    # Then it lists the trained model only, with best step 2, stop step 4 and the reason
    assert list(table.index) == ["m-multiway-s0"]
    row = table.loc["m-multiway-s0"]
    assert (row["best step"], row["steps"], row["stop reason"]) == (2, 4, "patience")
    assert row["best dev metric ×100"] == 70.0


def test_curve_figure_marks_best_and_stop_steps(tmp_path):
    # Given the run's curves and stops
    run = _run(tmp_path)
    # When plotted with the stops
    fig = training_curves.plot(training_curves.load_data(run), "unaligned", training_curves.stops(run))
    # Then the dev panel carries a star at (2, 0.7) and a cross at (4, 0.6)
    points = [tuple(round(float(v), 6) for v in c.get_offsets()[0]) for c in fig.axes[1].collections
              if len(c.get_offsets())]
    assert (2.0, 0.7) in points and (4.0, 0.6) in points, points


def test_temperature_table_shows_each_value_and_the_pick(tmp_path):
    # Given a grid record
    (tmp_path / "models").mkdir()
    record = {"m": {"grid": [0.02, 0.05], "dev_metric": [0.4, 0.5], "chosen": 0.05, "steps": 10}}
    (tmp_path / "models" / "temperature_grid.json").write_text(json.dumps(record))
    # When tabulated, Then one row per base with an accuracy per value and the chosen one
    table = training_curves.temperature_table(tmp_path)
    assert table.loc["m", "dev ×100 at τ = 0.05"] == 50.0 and table.loc["m", "chosen τ"] == "0.05"
    assert training_curves.temperature_table(tmp_path / "none").empty


def test_encoders_table_names_stand_ins_controls_and_base_alignment(tmp_path):
    # Given a profile with a control encoder and a base-alignment table for minilm-en
    cfg = load_config("smoke", {"training": {"controls": [{"model": "minilm-en", "seeds": [0],
                                                           "label": "no multilingual pretraining"}]}})
    (tmp_path / "results").mkdir()
    pd.DataFrame({"model": ["minilm-en", "minilm-en"], "prompt": ["", "query: "], "tatoeba_accuracy": [6.9, 3.0],
                  "sts17_mean": [5.5, 16.5]}).to_parquet(tmp_path / "results" / "base_alignment.parquet")
    # When the encoders table is built
    table = deviations.encoders_table(cfg, tmp_path)
    # Then each role names the paper's model and the stand-in with its recipe, and the control its measured level
    # with the prompt its evaluation uses (none for minilm-en)
    assert table.loc["unaligned", "here"] == "tiny-xlmr" and "XLM-R" in table.loc["unaligned", "paper"]
    control = table.loc["control: no multilingual pretraining"]
    assert control["here"] == "minilm-en" and control["untrained alignment"] == "Tatoeba 6.9; STS17 5.5"
    assert "English only" in control["how it was made"]


def _curves(values_by_label: dict[str, list[float]], se: float) -> pd.DataFrame:
    return pd.DataFrame([{"label": label, "role": "unaligned", "method": label.split("-")[0], "seed": 0,
                          "step": 10 * (i + 1), "loss": 1.0, "dev_metric": v, "dev_se": se}
                         for label, values in values_by_label.items() for i, v in enumerate(values)])


def test_dev_resolution_measures_gaps_in_standard_errors():
    table = training_curves.dev_resolution(_curves({"multiway-s0": [0.50, 0.60, 0.55]}, se=0.01))
    row = table.loc["multiway-s0"]
    assert row["best step"] == 20 and row["evaluations"] == 3
    assert row["best − runner-up (SE)"] == pytest.approx(5.0) and row["best − last (SE)"] == pytest.approx(5.0)


def test_dev_resolution_text_follows_the_numbers():
    # Given one run whose checkpoints differ by 5 SE and one whose differ by 0.5 SE
    clear = training_curves.dev_resolution_text(training_curves.dev_resolution(
        _curves({"multiway-s0": [0.50, 0.60, 0.55], "bilingual-s0": [0.4, 0.5, 0.6]}, se=0.01)))
    noisy = training_curves.dev_resolution_text(training_curves.dev_resolution(
        _curves({"multiway-s0": [0.600, 0.605, 0.603]}, se=0.01)))
    # Then the generated sentences differ and carry the table's numbers
    assert "separates checkpoints by more than its sampling noise in every run" in clear
    assert "2 of 2 runs" in clear and "last one in 1 of 2 runs" in clear
    assert "within the dev sample's noise in every run" in noisy and "median 0.2 SE" in noisy


def test_the_paired_gap_uses_each_evaluations_comparison_with_the_best_before_it():
    # Given a run whose last evaluation is best by 0.01 over the one before, with a paired SE of 0.002
    # (unpaired SE 0.05), and a run whose runner-up comes after its best
    curves = _curves({"multiway-s0": [0.50, 0.60, 0.61], "bilingual-s0": [0.50, 0.70, 0.69]}, se=0.05)
    curves["dev_vs_best"] = [None, 0.10, 0.01, None, 0.20, -0.01]
    curves["dev_vs_best_se"] = [None, 0.01, 0.002, None, 0.01, 0.004]
    table = training_curves.dev_resolution(curves)
    # Then the gap is measured in paired SEs, from the best's row or from the later runner-up's
    assert table.loc["multiway-s0", "best − runner-up (paired SE)"] == pytest.approx(5.0)
    assert table.loc["bilingual-s0", "best − runner-up (paired SE)"] == pytest.approx(2.5)
    assert table.loc["multiway-s0", "best − runner-up (SE)"] == pytest.approx(0.2)
    text = training_curves.dev_resolution_text(table)
    assert "2 of 2 runs" in text and "paired difference" in text and "(unpaired), the median gap is 0.2 SE" in text
    # and a record without paired comparisons falls back to the unpaired gaps, saying so
    old = training_curves.dev_resolution(curves.drop(columns=["dev_vs_best", "dev_vs_best_se"]))
    assert "best − runner-up (paired SE)" not in old
    assert "paired" not in training_curves.dev_resolution_text(old)


def test_stops_text_says_how_runs_ended():
    table = pd.DataFrame({"method": ["multiway", "bilingual"], "seed": [0, 0], "best step": [120, 300],
                          "steps": [120, 705], "stop reason": ["epochs", "patience"]})
    text = training_curves.stops_text(table)
    assert "multiway: 1 run, ended 1 by epochs; the best dev evaluation was the last step in 1" in text
    assert "No run ended by patience" not in text
    assert "No run ended by patience" in training_curves.stops_text(table.assign(**{"stop reason": "epochs"}))


def test_checkpoints_are_points_of_their_run_and_the_dev_se_comes_from_the_record(tmp_path):
    # Given the run above, its log without SEs (the record's dev curve has them) and a checkpoint of it
    run = _run(tmp_path)
    folder = run / "models" / "m-multiway-s0"
    log = [{"step": s, "loss": 1.0 / s, **({"dev_metric": a} if a is not None else {})}
           for s, a in [(1, None), (2, 0.7), (3, None), (4, 0.6)]]
    (folder / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    record = json.loads((folder / "mwalign_training.json").read_text())
    record["dev_curve"] = [{"step": 2, "dev_metric": 0.7, "dev_se": 0.02}, {"step": 4, "dev_metric": 0.6, "dev_se": 0.02}]
    (folder / "mwalign_training.json").write_text(json.dumps(record))
    index = json.loads((run / "models" / "index.json").read_text())
    (run / "models" / "m-multiway-s0@2").mkdir()
    (run / "models" / "m-multiway-s0@2" / "train_log.jsonl").write_text((folder / "train_log.jsonl").read_text())
    index.append({"label": "m-multiway-s0@2", "role": "unaligned", "method": "multiway@2", "seed": 0,
                  "dtype": "fp32", "path": "models/m-multiway-s0@2", "base": "m"})
    (run / "models" / "index.json").write_text(json.dumps(index))
    # Then the checkpoint is no run of its own, and the gaps are in the record's standard errors
    assert list(training_curves.stops(run).index) == ["m-multiway-s0"]
    table = training_curves.dev_resolution(training_curves.load_data(run))
    assert list(table.index) == ["m-multiway-s0"]
    assert table.loc["m-multiway-s0", "best − runner-up (SE)"] == pytest.approx(5.0)
    assert "The kept checkpoint is the last one in 0 of 1 runs" in training_curves.dev_resolution_text(table)
