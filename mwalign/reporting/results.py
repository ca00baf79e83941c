"""Chapters 04 and 05: the scores table in the paper's shapes.

Everything here reads ``results/scores.parquet`` and ``models/index.json`` of a
run; nothing is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

METHOD_ORDER = ["base", "bilingual", "multiway"]
METHOD_LABELS = {"base": "not fine-tuned", "bilingual": "bilingual En-X", "multiway": "multi-way"}


def load_data(run_dir: Path) -> pd.DataFrame:
    """The tidy scores table joined with each model's role (unaligned encoder or mE5)."""
    run_dir = Path(run_dir)
    scores_path = run_dir / "results" / "scores.parquet"
    if not scores_path.is_file():
        raise FileNotFoundError(f"{scores_path}: no scores; run the evaluation stage first (mwalign evaluate)")
    scores = pd.read_parquet(scores_path)
    index = pd.DataFrame(json.loads((run_dir / "models" / "index.json").read_text()))
    roles = index.set_index("label")["role"]
    scores["role"] = scores["model"].map(roles).fillna("external")
    return scores


def seed_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Main score per (role, base, method, task, subset): mean and sd over seeds."""
    keys = ["role", "base", "method", "task", "task_type", "subset", "group"]
    grouped = scores.groupby(keys, dropna=False)["score"]
    return grouped.agg(mean="mean", sd="std", seeds="count").reset_index()


def per_language_table(scores: pd.DataFrame, task: str) -> pd.DataFrame:
    """Rows: subsets (languages); columns: (base model, method); cells: mean score over seeds."""
    means = seed_means(scores[scores["task"] == task])
    table = means.pivot_table(index=["group", "subset"], columns=["base", "method"], values="mean")
    ordered = [c for m in METHOD_ORDER for c in table.columns if c[1] == m]
    return (table[ordered] * 100).round(1)


def relative_gains(scores: pd.DataFrame) -> pd.DataFrame:
    """Per base model and task type: multi-way vs bilingual, as the paper reports them (relative %).

    Scores are first averaged over a task type's subsets for each seed, so a
    seed's gain compares like with like; the table gives mean and sd over seeds.
    """
    per_seed = (
        scores[scores["method"].isin(["bilingual", "multiway"])]
        .groupby(["role", "base", "task_type", "method", "seed"])["score"].mean()
        .unstack("method")
        .dropna()
    )
    per_seed["gain %"] = (per_seed["multiway"] - per_seed["bilingual"]) / per_seed["bilingual"] * 100
    summary = per_seed.groupby(["role", "base", "task_type"]).agg(
        bilingual=("bilingual", "mean"), multiway=("multiway", "mean"),
        gain_mean=("gain %", "mean"), gain_sd=("gain %", "std"), seeds=("gain %", "count"),
    )
    summary[["bilingual", "multiway"]] *= 100
    return summary.round(2).reset_index()


def group_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean score per (base, method, task, group) over subsets and seeds."""
    return (
        scores.groupby(["base", "method", "task", "group"])["score"].mean().mul(100).round(1).reset_index()
    )


def plot_per_language(scores: pd.DataFrame, task: str):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = scores[scores["task"] == task].copy()
    data["method"] = pd.Categorical(data["method"], [m for m in METHOD_ORDER if m in set(data["method"])])
    bases = sorted(data["base"].unique())
    fig, axes = plt.subplots(1, len(bases), figsize=(max(6, 4.5 * len(bases)), 3.4), squeeze=False, sharey=True)
    for ax, base in zip(axes[0], bases):
        subset = data[data["base"] == base]
        sns.barplot(data=subset, x="subset", y="score", hue="method", ax=ax, errorbar="sd", palette="Set2")
        ax.set_title(f"{task}: {base}")
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig


def plot_seen_unseen(scores: pd.DataFrame):
    import seaborn as sns

    data = scores.copy()
    data["method"] = pd.Categorical(data["method"], [m for m in METHOD_ORDER if m in set(data["method"])])
    grid = sns.catplot(
        data=data, x="group", y="score", hue="method", col="base", kind="bar", errorbar="sd",
        height=3.2, aspect=1.1, palette="Set2", order=["seen", "unseen"],
    )
    grid.set_axis_labels("", "main score")
    grid.figure.suptitle("Seen vs unseen languages", y=1.03)
    return grid.figure
