"""Chapters 02 and 03: which models were trained, and their loss curves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


TRAINING_FIELDS = {"rows": "rows", "pairs": "positive pairs", "steps": "steps", "best_step": "best step",
                   "best_dev_accuracy": "best dev accuracy"}
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


def plot(curves: pd.DataFrame, role: str):
    """Training loss per step and, where logged, the dev bitext accuracy used for early stopping."""
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
        axes[0][1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
