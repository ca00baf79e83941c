"""Chapters 02 and 03: which models were trained, and their loss curves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


TRAINING_FIELDS = {"rows": "rows", "pairs": "positive pairs", "epochs_run": "epochs run", "steps": "steps",
                   "best_step": "best step", "best_dev_accuracy": "best dev accuracy", "stop_reason": "stop reason"}
INTEGER_COLUMNS = ("seed", "rows", "positive pairs", "steps", "best step")
NOT_TRAINED_NOTE = ("not applicable: the base model is not trained (no seed, rows or steps); a model whose run "
                    "ended before its first dev evaluation (training.eval_every) records no best step.")


def models_table(run_dir: Path, role: str = "unaligned") -> pd.DataFrame:
    """One row per model of a role: the index entry plus what its training record says (rows, pairs, steps, dev)."""
    run_dir = Path(run_dir)
    rows = []
    for entry in json.loads((run_dir / "models" / "index.json").read_text()):
        if entry["role"] != role:
            continue
        record_path = run_dir / entry["path"] / "mwalign_training.json"
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
        row = {k: entry[k] for k in ("label", "method", "seed", "dtype")}
        row.update({label: record.get(key) for key, label in TRAINING_FIELDS.items()})
        rows.append(row)
    table = pd.DataFrame(rows).set_index("label")
    return table.astype({c: "Int64" for c in INTEGER_COLUMNS})  # the base model's gaps keep counts whole


def load_data(run_dir: Path) -> pd.DataFrame:
    """Per-step training log of every trained model, with its index entry's base, method and seed."""
    run_dir = Path(run_dir)
    frames = []
    for entry in json.loads((run_dir / "models" / "index.json").read_text()):
        log = run_dir / entry["path"] / "train_log.jsonl"
        if entry["method"] == "base" or not log.is_file():
            continue
        steps = pd.read_json(log, lines=True)
        frames.append(steps.assign(label=entry["label"], role=entry["role"], base=entry["base"],
                                   method=entry["method"], seed=entry["seed"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def stops(run_dir: Path, role: str = "unaligned") -> pd.DataFrame:
    """Per trained model of a role: its best step with the dev accuracy there, and its stop step and reason."""
    table = models_table(run_dir, role)
    table = table[table["method"] != "base"]
    table = table.assign(**{"best dev accuracy ×100": table["best dev accuracy"].astype(float) * 100})
    return table[["method", "seed", "best step", "best dev accuracy ×100", "steps", "stop reason"]]


def temperature_table(run_dir: Path) -> pd.DataFrame:
    """The dev grid of temperatures per base model (models/temperature_grid.json): dev accuracy (×100) per value
    and the pick (as text: a temperature is no score to round)."""
    path = Path(run_dir) / "models" / "temperature_grid.json"
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    rows = [{"base": base, **{f"dev ×100 at τ = {t:g}": acc * 100 for t, acc in zip(r["grid"], r["dev_accuracy"])},
             "chosen τ": f"{r['chosen']:g}", "grid steps": r["steps"]} for base, r in record.items()]
    return pd.DataFrame(rows).set_index("base") if rows else pd.DataFrame()


def plot(curves: pd.DataFrame, role: str, stopped: pd.DataFrame | None = None):
    """Training loss per step and, where logged, the dev bitext accuracy used for early stopping.

    With ``stopped`` (:func:`stops`), each dev curve carries a star at its best step (the weights kept)
    and a cross at its stop step.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = curves[curves["role"] == role]
    has_dev = "dev_accuracy" in data.columns and data["dev_accuracy"].notna().any()
    fig, axes = plt.subplots(1, 2 if has_dev else 1, figsize=(11 if has_dev else 7, 3.4), squeeze=False)
    sns.lineplot(data=data, x="step", y="loss", hue="method", units="label", estimator=None, ax=axes[0][0],
                 alpha=0.8, legend=not has_dev)
    axes[0][0].set_title("Training loss per optimiser step")
    if has_dev:
        dev = data.dropna(subset=["dev_accuracy"])
        sns.lineplot(data=dev, x="step", y="dev_accuracy", hue="method", units="label", estimator=None,
                     ax=axes[0][1], marker="o", alpha=0.8)
        axes[0][1].set_title("Dev bitext-mining accuracy (early stopping)")
        if stopped is not None:
            _mark_stops(axes[0][1], dev, stopped)
        axes[0][1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def _mark_stops(ax, dev: pd.DataFrame, stopped: pd.DataFrame) -> None:
    """Star: best step (the weights kept); cross: the step where training stopped."""
    for label, row in stopped.iterrows():
        curve = dev[dev["label"] == label].set_index("step")["dev_accuracy"]
        if curve.empty:
            continue
        if pd.notna(row["best step"]) and int(row["best step"]) in curve.index:  # the kept weights
            ax.scatter(int(row["best step"]), curve[int(row["best step"])], marker="*", s=90, color="black", zorder=4)
        last = curve.index.max()
        ax.scatter(last, curve[last], marker="x", s=40, color="tab:red", zorder=4)
    ax.scatter([], [], marker="*", color="black", label="best (kept)")
    ax.scatter([], [], marker="x", color="tab:red", label="stopped")
