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

from mwalign.config import RunConfig
from mwalign.evaluation.scores import summarize_seeds
from mwalign.reporting import readings, score_readings
from mwalign.reporting.tables import NOT_APPLICABLE, readable
from mwalign.training.stage import SCALING_INFIX, SENSITIVITY_PREFIX, is_curve_method  # side studies, not ablations

MAIN_METHODS = ["base", "bilingual", "multiway"]
# Relative gains of multi-way over bilingual En-X training, from the paper's abstract (arXiv 2602.21543).
PAPER_CLAIMS = {"BitextMining": 21.3, "STS": 5.3, "Classification": 28.4}
# The abstract's mE5 claim has a direction but no number: "improves bitext mining markedly".
ME5_CLAIMS = {"BitextMining": None}
# Beyond the abstract: the method's own prediction, no number. Every language as an anchor trains non-English
# pairs, so multi-way should lead on bitext mining between two non-English languages (the X-Y task); the
# rule's "improves" outcome applies.
BEYOND_PAPER = {"BitextMining X-Y": None}
ROLE_CLAIMS = {"unaligned": {**PAPER_CLAIMS, **BEYOND_PAPER}, "me5": ME5_CLAIMS}
ROLE_NAMES = {"unaligned": "unaligned encoder (paper: XLM-R, mBERT)", "me5": "mE5 (already aligned)"}
ROLE_SHORT = {"unaligned": "the unaligned encoder", "me5": "mE5"}
# The headline's role labels, short enough for the table to fit a book's text column, and what each stands for
# (the note under the table).
ROLE_LABELS = {"unaligned": "unaligned", "me5": "mE5"}
ROLE_NOTES = {"unaligned": "an encoder pretrained without sentence alignment (the paper's XLM-R and mBERT base)",
              "me5": "an already aligned encoder (the paper's mE5)"}
# What "the same cost" means in a comparison (column ``budget``); pairs is the paper's control.
BUDGET_LABELS = {"pairs": "pairs (paper)", "steps": "steps", "sentences": "sentences"}
# The rule, in the words the chapters print.
VERDICT_RULE = (
    "From the 95% interval of the gain over seeds: **reversed** when it lies below zero; **no effect** when it "
    "contains zero; **smaller than claimed** when it lies above zero and below the claim; **consistent with the "
    "claim** when it lies above zero and contains the claim; **larger than claimed** when it lies above the claim. "
    "For a claim without a number (mE5's \"improves\"): **improves** when it lies above zero. A single seed "
    "gives no interval and no verdict."
)


def not_scored_note(cfg: RunConfig) -> str:
    """Why a per-model score table has empty cells, from the profile: roles scored on fewer tasks, ablations."""
    limited = [f"{ROLE_SHORT[role]} on {', '.join(tasks)} only"
               for role, tasks in sorted(cfg.evaluation.role_tasks.items())]
    reasons = [f"not evaluated: the profile scores {'; '.join(limited)} (evaluation.role_tasks)"] if limited else []
    reasons.append("ablations and translator conditions are trained for the unaligned encoder only")
    return "; ".join(reasons) + "."


def load_data(run_dir: Path, cfg: RunConfig | None = None) -> pd.DataFrame:
    """The tidy scores table joined with each model's role (unaligned encoder or mE5), column ``budget`` =
    ``pairs``; learning-curve models (:mod:`mwalign.reporting.learning_curves`) and, given ``cfg``, the depth
    study's encoders (:mod:`mwalign.reporting.depth`) are left to their own sections."""
    scores = load_all(run_dir)
    scores = scores[~scores["method"].map(is_curve_method)]
    if cfg is not None and cfg.training.depth is not None:
        scores = scores[~((scores["role"] == "unaligned") & scores["base"].isin(cfg.training.depth.models))]
    return scores.assign(budget="pairs").reset_index(drop=True)


def with_cost_readings(scores: pd.DataFrame, readings: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (the pairs reading) with the steps and sentences readings of
    :func:`mwalign.reporting.learning_curves.cost_readings` added, for the claims table."""
    extra = readings[readings["budget"] != "pairs"] if "budget" in readings else readings.iloc[0:0]
    return pd.concat([scores, extra[[c for c in scores.columns if c in extra.columns]]], ignore_index=True)


def load_all(run_dir: Path) -> pd.DataFrame:
    """Every score of the run with its model's role."""
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
    return readings.attach(table.reindex(order, level="method"), score_readings.task_type_reading(summary))


def per_language_table(scores: pd.DataFrame, task: str) -> pd.DataFrame:
    """Rows: subsets (languages) by group; columns: (base model, method); cells: mean score over seeds (×100)."""
    means = summarize_seeds(scores[(scores["task"] == task) & ~scores["method"].map(_is_scaling)])
    table = means.pivot_table(index=["group", "subset"], columns=["base", "method"], values="mean")
    order = _method_order(table.columns.get_level_values("method"))
    columns = [c for base in sorted(set(table.columns.get_level_values("base"))) for m in order
               if (c := (base, m)) in table.columns]
    table = (table[columns] * 100).round(1)
    return readings.attach(table, score_readings.per_language_reading(table))


def relative_gains(scores: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Multi-way vs bilingual per base model, task type and cost reading, as the paper reports them (relative %).

    Scores are averaged over a task type's subsets for each seed, the gain is taken per seed, and the
    interval is a t-interval over seeds (none for one seed). A ``budget`` column in ``scores`` (pairs, steps,
    sentences: what the compared models spent alike) gives one row per reading; without it, all is ``pairs``.
    """
    scores = _with_budget(scores)
    rows = []
    for budget in [b for b in BUDGET_LABELS if b in set(scores["budget"])]:
        rows += [{**row, "budget": budget} for row in _gains(scores[scores["budget"] == budget], "bilingual",
                                                             confidence)]
    columns = ["role", "base", "task type", "budget", "seeds", "bilingual", "multi-way", "gain %", "ci low",
               "ci high"]
    table = pd.DataFrame(rows, columns=columns).round(2)
    return readings.attach(table, score_readings.gains_reading(table))


def released_gains(scores: pd.DataFrame, role: str = "me5", confidence: float = 0.95) -> pd.DataFrame:
    """Multi-way fine-tuning against the model as released (method ``base``), per seed: for mE5, whose claim
    is that multi-way fine-tuning improves it, not only that it beats bilingual fine-tuning."""
    part = _with_budget(scores)
    part = part[(part["role"] == role) & (part["budget"] == "pairs")]
    trained, released = part[part["method"] == "multiway"], part[part["method"] == "base"]
    columns = ["role", "base", "task type", "seeds", "released", "multi-way", "gain %", "ci low", "ci high"]
    if trained.empty or released.empty:
        return pd.DataFrame(columns=columns)
    copies = pd.concat([released.assign(seed=seed) for seed in trained["seed"].unique()], ignore_index=True)
    rows = _gains(pd.concat([trained, copies.assign(method="released")]), "released", confidence)
    return pd.DataFrame(rows, columns=columns).round(2)


def _with_budget(scores: pd.DataFrame) -> pd.DataFrame:
    if "budget" not in scores:
        return scores.assign(budget="pairs")
    return scores.assign(budget=scores["budget"].fillna("pairs"))


def _gains(scores: pd.DataFrame, against: str, confidence: float) -> list[dict]:
    """Per (role, base, task type): the per-seed relative gain of multi-way over ``against`` and its interval."""
    per_seed = (_subset_means(scores[scores["method"].isin([against, "multiway"])])
                .pivot_table(index=["role", "base", "task_type", "seed"], columns="method", values="score"))
    if not {against, "multiway"} <= set(per_seed.columns):
        return []
    per_seed = per_seed.dropna()
    per_seed["gain"] = (per_seed["multiway"] - per_seed[against]) / per_seed[against] * 100
    rows = []
    for (role, base, task_type), group in per_seed.groupby(level=["role", "base", "task_type"]):
        gains = group["gain"].to_numpy()
        low, high = _t_interval(gains, confidence)
        rows.append({
            "role": role, "base": base, "task type": task_type, "seeds": len(gains),
            against: group[against].mean() * 100, "multi-way": group["multiway"].mean() * 100,
            "gain %": gains.mean(), "ci low": low, "ci high": high,
        })  # fmt: skip
    return rows


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    if len(values) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def verdict(claim: float | None, gain: float, low: float, high: float) -> str:
    """The outcome of :data:`VERDICT_RULE` for an interval [low, high] against zero and against ``claim``."""
    if np.isnan(gain):
        return "not evaluated"
    if np.isnan(low):
        return "one seed, no interval"
    if high < 0:
        return "reversed"
    if low <= 0:
        return "no effect"
    if claim is None:
        return "improves"
    if high < claim:
        return "smaller than claimed"
    if low > claim:
        return "larger than claimed"
    return "consistent with the claim"


def paper_words(role: str, task_type: str) -> str:
    """The paper's claim in the claims table: its number, mE5's "improves markedly", or that it claims nothing."""
    claim = ROLE_CLAIMS[role].get(task_type)
    if claim is not None:
        return f"+{claim:.1f}"
    return "not claimed (expected to gain)" if task_type in BEYOND_PAPER else "improves markedly"


def control_labels(cfg: RunConfig) -> dict[str, str]:
    """Base model -> what it controls for (``training.controls``): shown in the claims table, never a verdict."""
    return {control.model: control.label for control in cfg.training.controls}


def claims_table(scores: pd.DataFrame, role: str | None = "unaligned",
                 controls: dict[str, str] | None = None) -> pd.DataFrame:
    """The paper's claims next to this run's measured gains with their intervals and a verdict.

    ``role=None`` lists every role's claims (unaligned encoder, then mE5). A base model in ``controls``
    (:func:`control_labels`) gets its row, labelled, after the others, with no verdict.
    """
    controls = controls or {}
    gains = relative_gains(scores)  # exact methods only: the scaling study's smaller models stay out
    released = released_gains(scores).assign(budget="pairs", against="released model")
    gains = pd.concat([gains.assign(against="bilingual"), released], ignore_index=True)
    gains = gains.assign(_control=gains["base"].isin(controls), _budget=gains["budget"].map(list(BUDGET_LABELS).index))
    gains = gains.sort_values(["_control", "_budget"], kind="stable")
    rows = []
    for claim_role, claims in ROLE_CLAIMS.items():
        if role is not None and claim_role != role:
            continue
        for task_type, claim in claims.items():
            matched = gains[(gains["role"] == claim_role) & (gains["task type"] == task_type)]
            paper = paper_words(claim_role, task_type)
            for _, row in matched.iterrows():
                control = controls.get(row["base"])
                rows.append({
                    "role": claim_role, "task type": task_type,
                    "model": f"{row['base']} (control: {control})" if control else row["base"],
                    "same": BUDGET_LABELS[row["budget"]], "against": row["against"], "paper gain %": paper,
                    "measured gain %": round(row["gain %"], 1), "95% CI": _format_ci(row["ci low"], row["ci high"]),
                    "seeds": row["seeds"], "verdict": "control, no verdict" if control else
                    verdict(claim, row["gain %"], row["ci low"], row["ci high"]),
                })  # fmt: skip
            if matched[~matched["_control"]].empty:
                rows.append({"role": claim_role, "task type": task_type, "model": NOT_APPLICABLE,
                             "paper gain %": paper, "verdict": "not evaluated"})
    table = pd.DataFrame(rows)
    return table.astype({"seeds": "Int64"}) if "seeds" in table else table  # a 'not evaluated' row keeps counts whole


HEADLINE_COLUMNS = ["role", "task type", "model", "against", "paper gain %", "measured gain % [95% CI]", "verdict"]
AGAINST_LABELS = {"pairs": "bilingual, same pairs (paper)", "steps": "bilingual, same steps",
                  "sentences": "bilingual, same sentences"}


def headline_markdown(scores: pd.DataFrame, controls: dict[str, str] | None = None) -> str:
    """The claims table as GitHub Markdown (the front page's and the README's headline), and its note.

    Short labels keep it within a book's text column: the role is one word and a control's model is marked
    ``(control)``; the note under the table says what each role stands for in the paper and what each control
    lacks. The measured gain and its interval share a column.
    """
    controls = controls or {}
    claims = claims_table(scores, role=None, controls=controls)
    claims = claims.reindex(columns=[*claims.columns, *(c for c in ("measured gain %", "95% CI", "seeds", "same",
                                                                    "against") if c not in claims)])
    table = readable(claims)  # every claim 'not evaluated' has no measured columns: they are added, empty
    budgets = {label: budget for budget, label in BUDGET_LABELS.items()}
    table["against"] = [NOT_APPLICABLE if pd.isna(against) else
                        against if against != "bilingual" else AGAINST_LABELS[budgets[same]]
                        for against, same in zip(claims["against"], claims["same"])]
    table["role"] = claims["role"].map(ROLE_LABELS)
    labelled = {f"{base} (control: {label})": (base, label) for base, label in controls.items()}
    shown_controls = dict(labelled[m] for m in claims["model"] if m in labelled)
    table["model"] = [f"{labelled[m][0]} (control)" if m in labelled else m for m in claims["model"]]
    one_seed = claims["measured gain %"].notna() & (table["95% CI"] == NOT_APPLICABLE)
    table["measured gain % [95% CI]"] = [gain if interval == NOT_APPLICABLE else f"{gain} {interval}"
                                         for gain, interval in zip(table["measured gain %"], table["95% CI"])]
    lines = ["| " + " | ".join(HEADLINE_COLUMNS) + " |", "|" + "---|" * len(HEADLINE_COLUMNS)]
    lines += ["| " + " | ".join(str(row[c]) for c in HEADLINE_COLUMNS) + " |" for _, row in table.iterrows()]
    notes = [f"*{ROLE_LABELS[role]}*: {ROLE_NOTES[role]}" for role in ROLE_CLAIMS if (claims["role"] == role).any()]
    notes += [f"*{base} (control)*: {label}, shown without a verdict" for base, label in shown_controls.items()]
    seeds = sorted({int(n) for n in claims["seeds"].dropna()})
    notes.append("gains are relative, multi-way over the model in *against*, in %, with 95% intervals over "
                 + (f"{seeds[-1]} seeds" if len(seeds) == 1 else f"{seeds[0]} to {seeds[-1]} seeds")
                 if seeds else "gains are relative, multi-way over the model in *against*, in %")
    notes.append("*same pairs* is the paper's control (as many positive pairs); *same steps* and *same sentences* "
                 "compare the multi-way model with the bilingual run's checkpoint after as many optimiser steps or "
                 "sentences encoded" if (claims["same"].isin(["steps", "sentences"])).any() else
                 "both methods train on as many positive pairs, the paper's control")
    if one_seed.any():
        notes.append("a gain without an interval is from one seed")
    return "\n".join(lines) + "\n\n" + "; ".join(notes) + "."


def plot_claims(scores: pd.DataFrame):
    """Measured relative gains with 95% intervals (dots, bars) against the paper's claims (crosses)."""
    import matplotlib.pyplot as plt

    gains = relative_gains(scores)
    gains = gains[gains["role"].isin(ROLE_CLAIMS)]
    labels = [f"{ROLE_NAMES[r].split(' (')[0]}: {b}\n{t}" for r, b, t in
              zip(gains["role"], gains["base"], gains["task type"])]
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(gains) + 1.2))
    y = np.arange(len(gains))[::-1]
    low = (gains["gain %"] - gains["ci low"]).fillna(0)
    high = (gains["ci high"] - gains["gain %"]).fillna(0)
    ax.errorbar(gains["gain %"], y, xerr=[low, high], fmt="o", color="tab:blue", capsize=3, label="measured (95% CI)")
    claims = [ROLE_CLAIMS[r].get(t) for r, t in zip(gains["role"], gains["task type"])]
    claimed = [(c, yy) for c, yy in zip(claims, y) if c is not None]
    if claimed:
        ax.scatter(*zip(*claimed), marker="x", color="tab:red", s=60, zorder=3, label="paper (abstract)")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("relative gain of multi-way over bilingual training (%)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def _format_ci(low: float, high: float) -> str:
    return NOT_APPLICABLE if np.isnan(low) else f"[{low:.1f}, {high:.1f}]"


def ablation_methods(methods) -> list[str]:
    """The ablations among ``methods`` (in order of appearance): not a main method, a translator or a scaling size."""
    return [m for m in dict.fromkeys(methods)
            if m not in MAIN_METHODS and not str(m).startswith(SENSITIVITY_PREFIX) and not _is_scaling(m)]


def ablation_table(scores: pd.DataFrame) -> pd.DataFrame:
    """All-language anchors (multi-way) against each ablation and bilingual, per task type: the mean over the
    seeds each model ran on of its task-type score (×100)."""
    per_type = _subset_means(scores).pivot_table(index=["base", "method"], columns="task_type", values="score")
    ablated = ablation_methods(per_type.index.get_level_values("method"))
    if not ablated:
        return pd.DataFrame()
    order = ["multiway", *ablated, "bilingual"]
    table = (per_type.reindex(order, level="method") * 100).round(1)
    return readings.attach(table, score_readings.spread_reading(table))


def group_means(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean score per (base, method, task, group) over subsets and seeds (×100)."""
    scores = scores[~scores["method"].map(_is_scaling)]
    table = scores.groupby(["base", "task", "group", "method"])["score"].mean().mul(100).round(1).unstack("method")
    table = table[_method_order(table.columns)]
    return readings.attach(table, score_readings.seen_unseen_reading(table))


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
    per_seed = data.groupby(["base", "subset", "method", "seed"], observed=True, dropna=False)["score"].mean() * 100
    stats = per_seed.groupby(level=["base", "subset", "method"], observed=True).agg(["mean", "std"])
    return readings.attach_figure(fig, score_readings.separated_subsets(stats))


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
    bars = data.groupby(["base", "group", "task_type", "method"], observed=True)["score"].mean().unstack("method")
    return readings.attach_figure(grid.figure, score_readings.panel_counts(bars))


def seed_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Per role, base, task type and method: each seed's score (×100), the spread and the sd over seeds."""
    per_seed = _subset_means(scores[scores["method"].isin(["bilingual", "multiway"])])
    table = per_seed.pivot_table(index=["role", "base", "task_type", "method"], columns="seed", values="score") * 100
    table.columns = [f"seed {int(c)}" for c in table.columns]
    # pandas' row std is NaN, not a numpy warning, for a row trained with one seed
    return table.assign(range=table.max(axis=1) - table.min(axis=1), sd=table.std(axis=1, ddof=1)).round(2)


def plot_seed_variance(scores: pd.DataFrame):
    """Each seed's task-type score for multi-way and bilingual training: is the gap larger than the spread?"""
    import seaborn as sns

    per_seed = _subset_means(scores[scores["method"].isin(["bilingual", "multiway"])]).copy()
    per_seed["score"] *= 100
    per_seed["model"] = per_seed["role"].map(lambda r: ROLE_NAMES.get(r, r).split(" (")[0]) + ": " + per_seed["base"]
    grid = sns.catplot(data=per_seed, x="method", y="score", hue="seed", col="task_type", row="model",
                       kind="strip", height=2.6, aspect=1.0, palette="dark", sharey=False, s=60, jitter=0.08,
                       order=["bilingual", "multiway"])
    grid.set_titles("{row_name}\n{col_name}", size=9)
    grid.set_axis_labels("", "score ×100")
    grid.figure.suptitle("Seed to seed: main score per task type", y=1.02)
    return grid.figure


def load_sensitivity(run_dir: Path) -> pd.DataFrame:
    """The sensitivity study's quality table (condition, language, backend, n, chrF, BLEU), empty if not run."""
    path = Path(run_dir) / "corpus" / "sensitivity" / "quality.parquet"
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()


def sensitivity_table(scores: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """Per translator condition: its corpus's mean chrF and the trained model's task-type scores (×100).

    The last column is the seed sd of the main multi-way model, the noise yardstick for the differences.
    """
    trained = scores[scores["method"].str.startswith(SENSITIVITY_PREFIX)]
    if trained.empty or quality.empty:
        return pd.DataFrame()
    per_type = _subset_means(trained).pivot_table(index="method", columns="task_type", values="score") * 100
    per_type.index = per_type.index.str.removeprefix(SENSITIVITY_PREFIX)
    chrf = quality.groupby("condition")["chrF"].mean().rename("mean chrF")
    table = pd.concat([chrf, per_type], axis=1, join="inner").sort_values("mean chrF")
    noise = seed_table(scores).xs("multiway", level="method")["sd"]
    first_base = trained["base"].iloc[0]
    for task_type in per_type.columns:
        key = ("unaligned", first_base, task_type)
        table[f"{task_type} seed sd"] = noise.get(key, np.nan)
    table.index.name = "condition"
    return table.round(1)


def plot_sensitivity(table: pd.DataFrame):
    """Score against the training corpus's chrF, one panel per task type; bars: ±1 seed sd of multi-way."""
    import matplotlib.pyplot as plt

    task_types = [c for c in table.columns if c != "mean chrF" and not c.endswith("seed sd")]
    fig, axes = plt.subplots(1, len(task_types), figsize=(3.4 * len(task_types), 3.0), squeeze=False)
    for ax, task_type in zip(axes[0], task_types):
        ax.errorbar(table["mean chrF"], table[task_type], yerr=table[f"{task_type} seed sd"].fillna(0), fmt="o",
                    capsize=3)
        for condition, row in table.iterrows():
            ax.annotate(condition, (row["mean chrF"], row[task_type]), textcoords="offset points", xytext=(4, 4),
                        fontsize=8)
        ax.set_title(task_type)
        ax.set_xlabel("training corpus chrF")
    axes[0][0].set_ylabel("score ×100")
    fig.suptitle("Translation quality of the training corpus vs the aligned model", y=1.02)
    fig.tight_layout()
    return fig


def _is_scaling(method) -> bool:
    """A scaling-study model below full size: method ``multiway-f0.333`` or ``bilingual-f0.333``."""
    head, sep, tail = str(method).rpartition(SCALING_INFIX)
    return bool(sep) and head in ("multiway", "bilingual") and tail.replace(".", "", 1).isdigit()


def scaling_gains(scores: pd.DataFrame, cfg: RunConfig, confidence: float = 0.95) -> pd.DataFrame:
    """The scaling study: the relative gain per base model, task type and corpus fraction (t-interval over
    ``training.scaling.seeds``); fraction 1.0 is the headline models of those seeds. Empty when the study is off."""
    scaling = cfg.training.scaling
    if scaling is None:
        return pd.DataFrame()
    frames = []
    for fraction in scaling.fractions:
        suffix = "" if fraction == 1.0 else f"{SCALING_INFIX}{fraction:g}"
        part = scores[scores["method"].isin([f"multiway{suffix}", f"bilingual{suffix}"])
                      & scores["seed"].isin(scaling.seeds)]
        part = part.assign(method=part["method"].str.removesuffix(suffix))
        gains = relative_gains(part, confidence)
        if not gains.empty:
            frames.append(gains.assign(fraction=fraction))
    columns = ["role", "base", "task type", "fraction", "seeds", "bilingual", "multi-way", "gain %", "ci low",
               "ci high"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def plot_scaling(gains: pd.DataFrame):
    """Gain of multi-way over bilingual (mean, 95% t-interval over seeds) against corpus size, one line per
    task type and a panel per base model."""
    import matplotlib.pyplot as plt

    bases = list(dict.fromkeys(gains["base"]))
    fig, axes = plt.subplots(1, len(bases), figsize=(5.5 * len(bases), 3.4), squeeze=False, sharey=True)
    for ax, base in zip(axes[0], bases):
        for task_type, line in gains[gains["base"] == base].groupby("task type"):
            line = line.sort_values("fraction")
            err = [(line["gain %"] - line["ci low"]).fillna(0), (line["ci high"] - line["gain %"]).fillna(0)]
            ax.errorbar(line["fraction"], line["gain %"], yerr=err, marker="o", capsize=3, label=task_type)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(sorted(gains["fraction"].unique()), [f"{f:g}" for f in sorted(gains["fraction"].unique())])
        ax.set_title(base)
        ax.set_xlabel("share of the training corpus")
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("relative gain of multi-way (%)")
    fig.tight_layout()
    return fig
