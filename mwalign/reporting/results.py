"""Chapters 04 and 05: the scores table in the paper's shapes.

Everything here reads ``results/scores.parquet`` and ``models/index.json`` of a
run; nothing is typed by hand except the paper's own claims (``PAPER_CLAIMS``),
quoted from its abstract.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from mwalign.evaluation.scores import summarize_seeds

MAIN_METHODS = ["base", "bilingual", "multiway"]
# Relative gains of multi-way over bilingual En-X training, from the paper's abstract (arXiv 2602.21543).
PAPER_CLAIMS = {"BitextMining": 21.3, "STS": 5.3, "Classification": 28.4}


def load_data(run_dir: Path) -> pd.DataFrame:
    """The tidy scores table joined with each model's role (unaligned encoder or mE5)."""
    run_dir = Path(run_dir)
    scores_path = run_dir / "results" / "scores.parquet"
    if not scores_path.is_file():
        raise FileNotFoundError(f"{scores_path}: no scores; run the evaluation stage first (mwalign evaluate)")
    scores = pd.read_parquet(scores_path)
    index = pd.DataFrame(json.loads((run_dir / "models" / "index.json").read_text()))
    scores["role"] = scores["model"].map(index.set_index("label")["role"]).fillna("external")
    return scores


def _method_order(methods) -> list[str]:
    present = list(dict.fromkeys(methods))
    return [m for m in MAIN_METHODS if m in present] + sorted(m for m in present if m not in MAIN_METHODS)


def _subset_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Main score averaged over each task type's subsets, per model and seed."""
    keys = ["role", "base", "method", "seed", "task_type"]
    return scores.groupby(keys, dropna=False)["score"].mean().reset_index()


def task_type_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Per base model and method: mean ± sd over seeds of each task type's average score (×100)."""
    per_seed = _subset_means(scores)
    summary = per_seed.groupby(["base", "method", "task_type"], dropna=False)["score"].agg(["mean", "std"]) * 100
    cells = summary["mean"].map("{:.1f}".format) + summary["std"].map(lambda sd: "" if np.isnan(sd) else f" ± {sd:.1f}")
    table = cells.unstack("task_type")
    order = _method_order(table.index.get_level_values("method"))
    return table.reindex(order, level="method")


def per_language_table(scores: pd.DataFrame, task: str) -> pd.DataFrame:
    """Rows: subsets (languages) by group; columns: (base model, method); cells: mean score over seeds (×100)."""
    means = summarize_seeds(scores[scores["task"] == task])
    table = means.pivot_table(index=["group", "subset"], columns=["base", "method"], values="mean")
    order = _method_order(table.columns.get_level_values("method"))
    columns = [c for base in sorted(set(table.columns.get_level_values("base"))) for m in order
               if (c := (base, m)) in table.columns]
    return (table[columns] * 100).round(1)


def relative_gains(scores: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Multi-way vs bilingual per base model and task type, as the paper reports them (relative %).

    Scores are averaged over a task type's subsets for each seed, the gain is
    taken per seed, and the interval is a t-interval over seeds (none for one seed).
    """
    per_seed = (
        _subset_means(scores[scores["method"].isin(["bilingual", "multiway"])])
        .pivot_table(index=["role", "base", "task_type", "seed"], columns="method", values="score")
        .dropna()
    )
    per_seed["gain"] = (per_seed["multiway"] - per_seed["bilingual"]) / per_seed["bilingual"] * 100
    rows = []
    for (role, base, task_type), group in per_seed.groupby(level=["role", "base", "task_type"]):
        gains = group["gain"].to_numpy()
        low, high = _t_interval(gains, confidence)
        rows.append({
            "role": role, "base": base, "task type": task_type, "seeds": len(gains),
            "bilingual": group["bilingual"].mean() * 100, "multi-way": group["multiway"].mean() * 100,
            "gain %": gains.mean(), "ci low": low, "ci high": high,
        })  # fmt: skip
    return pd.DataFrame(rows).round(2)


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    if len(values) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def verdict(claim: float, gain: float, low: float, high: float) -> str:
    """reproduced: the interval is above 0 and reaches the claim; direction only: positive but
    short of the claim or not clear of 0; not reproduced: no gain."""
    if np.isnan(gain) or gain <= 0:
        return "not reproduced"
    if np.isnan(low):
        return "direction only (one seed, no interval)"
    if low > 0 and high >= claim:
        return "reproduced"
    return "direction only"


def claims_table(scores: pd.DataFrame, role: str = "unaligned") -> pd.DataFrame:
    """The paper's claimed gains next to this run's measured gains with their intervals and a verdict."""
    gains = relative_gains(scores)
    gains = gains[gains["role"] == role]
    rows = []
    for task_type, claim in PAPER_CLAIMS.items():
        for _, row in gains[gains["task type"] == task_type].iterrows():
            rows.append({
                "task type": task_type, "model": row["base"], "paper gain %": claim,
                "measured gain %": row["gain %"], "95% CI": _format_ci(row["ci low"], row["ci high"]),
                "seeds": row["seeds"], "verdict": verdict(claim, row["gain %"], row["ci low"], row["ci high"]),
            })  # fmt: skip
        if gains[gains["task type"] == task_type].empty:
            rows.append({"task type": task_type, "model": "-", "paper gain %": claim, "verdict": "not evaluated"})
    return pd.DataFrame(rows)


def _format_ci(low: float, high: float) -> str:
    return "-" if np.isnan(low) else f"[{low:.1f}, {high:.1f}]"


def ablation_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Seed-0 models: all-language anchors (multi-way) against each ablation, per task type (×100)."""
    first_seed = scores[scores["seed"] == scores["seed"].min()]
    per_type = _subset_means(first_seed).pivot_table(index=["base", "method"], columns="task_type", values="score")
    ablated = [m for m in per_type.index.get_level_values("method") if m not in MAIN_METHODS]
    if not ablated:
        return pd.DataFrame()
    order = ["multiway", *dict.fromkeys(ablated), "bilingual"]
    return (per_type.reindex(order, level="method") * 100).round(1)


def group_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean score per (base, method, task, group) over subsets and seeds (×100)."""
    table = scores.groupby(["base", "task", "group", "method"])["score"].mean().mul(100).round(1).unstack("method")
    return table[_method_order(table.columns)]


def plot_per_language(scores: pd.DataFrame, task: str):
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = scores[(scores["task"] == task) & scores["method"].isin(MAIN_METHODS)].copy()
    data["method"] = pd.Categorical(data["method"], _method_order(data["method"]))
    bases = sorted(data["base"].unique())
    fig, axes = plt.subplots(1, len(bases), figsize=(max(6, 5 * len(bases)), 3.4), squeeze=False, sharey=True)
    for ax, base in zip(axes[0], bases):
        sns.barplot(data=data[data["base"] == base], x="subset", y="score", hue="method", ax=ax,
                    errorbar="sd", palette="Set2")
        ax.set_title(f"{task}: {base}")
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def plot_seen_unseen(scores: pd.DataFrame):
    import seaborn as sns

    data = scores[scores["method"].isin(MAIN_METHODS)].copy()
    data["method"] = pd.Categorical(data["method"], _method_order(data["method"]))
    grid = sns.catplot(
        data=data, x="task_type", y="score", hue="method", col="base", row="group", kind="bar",
        errorbar="sd", height=2.8, aspect=1.4, palette="Set2", row_order=["seen", "unseen"],
    )
    grid.set_axis_labels("", "main score")
    grid.set_titles("{row_name} languages, {col_name}")
    grid.figure.suptitle("Seen vs unseen languages, per task type", y=1.02)
    return grid.figure
