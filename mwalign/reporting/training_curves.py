"""Chapters 02 and 03: which models were trained, and their loss curves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def models_table(run_dir: Path, role: str = "unaligned") -> pd.DataFrame:
    """The run's model index (models/index.json) for one role."""
    index = pd.DataFrame(json.loads((Path(run_dir) / "models" / "index.json").read_text()))
    columns = [c for c in ("label", "base", "method", "seed", "dtype", "steps", "train_seconds", "dev_score") if c in index]
    return index[index["role"] == role][columns].reset_index(drop=True)


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
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = curves[curves["role"] == role]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    sns.lineplot(data=data, x="step", y="loss", hue="method", units="label", estimator=None, ax=ax, alpha=0.8)
    ax.set_title("Training loss per optimiser step")
    fig.tight_layout()
    return fig
