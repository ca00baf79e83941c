"""Chapter 05: learning curves, and multi-way against bilingual under three readings of "the same cost".

The paper compares the two methods at an equal number of positive **pairs**: the multi-way corpus has
C(k, 2) pairs per row, so at k = 4 it has a sixth of the bilingual rows and trains a fraction of the steps.
Two other readings are as natural for a reader who pays in compute: the same optimiser **steps**, and the same
**sentences** encoded. The training stage keeps checkpoints of each bilingual run at the multi-way run's kept
step and at the sentences it had seen by then (``training.curve``); this module reads their scores and puts
the three comparisons side by side (column ``budget``), and draws the curves of the runs that kept more
checkpoints (x = steps and x = sentences seen, the untrained level as a line).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mwalign.archive import training_records
from mwalign.artifacts import json_or_none
from mwalign.reporting import readings
from mwalign.training.stage import CHECKPOINT_SEPARATOR, CONTINUED

BUDGETS = ("pairs", "steps", "sentences")
BUDGET_NOTES = {
    "pairs": "the same positive pairs (the paper's control): the headline models",
    "steps": "the same optimiser steps: bilingual at the multi-way run's kept step",
    "sentences": "the same sentences encoded: bilingual when it had seen as many sentences as multi-way",
}


def load_data(run_dir: Path) -> pd.DataFrame:
    """Scores of the headline and curve models with each model's run, step and sentences seen.

    Columns added to ``results/scores.parquet``: ``run`` (bilingual, multiway or multiway-continued),
    ``step`` and ``sentences`` (of the weights scored: a checkpoint's, or a headline model's kept step),
    ``matches`` (for a bilingual checkpoint: ``steps`` and/or ``sentences`` when it matches the multi-way run).
    """
    run_dir = Path(run_dir)
    scores = pd.read_parquet(run_dir / "results" / "scores.parquet")
    index = json.loads((run_dir / "models" / "index.json").read_text(encoding="utf-8"))
    rows = []
    for entry in index:
        method = entry.get("method", "")
        run = method.split(CHECKPOINT_SEPARATOR)[0]
        if run not in ("bilingual", "multiway", CONTINUED) or entry.get("role") != "unaligned":
            continue
        if CHECKPOINT_SEPARATOR in method:
            step, sentences, matches = entry["step"], entry["sentences_seen"], entry.get("matches", [])
        elif entry.get("sentences_seen") is not None:  # the index records the kept weights' step
            step, sentences, matches = entry.get("step"), entry["sentences_seen"], []
        else:  # an index from before it did: the model folder's training record
            step, sentences = _kept_step(run_dir / entry["path"])
            matches = []
        rows.append({"model": entry["label"], "role": entry["role"], "run": run, "step": step, "sentences": sentences,
                     "matches": tuple(matches), "checkpoint": CHECKPOINT_SEPARATOR in method})
    models = pd.DataFrame(rows, columns=["model", "role", "run", "step", "sentences", "matches", "checkpoint"])
    return scores.merge(models, on="model", how="inner")


def _kept_step(folder: Path) -> tuple[int | None, int | None]:
    """A trained model's kept (best) step and the sentences it had seen by then, from its training record."""
    record = json_or_none(folder / "mwalign_training.json") or {}
    step = record.get("best_step") or record.get("steps")
    log = folder / "train_log.jsonl"
    sentences = None
    if step is not None and log.is_file():
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.strip() and (item := json.loads(line)).get("step") == step:
                sentences = item.get("sentences_seen")
    return step, sentences


def cost_readings(curves: pd.DataFrame) -> pd.DataFrame:
    """Headline multi-way rows against bilingual rows under each budget (column ``budget``), methods named
    ``multiway`` and ``bilingual`` so the claims table reads them: ``pairs`` is the headline bilingual model,
    ``steps`` / ``sentences`` the bilingual checkpoint of the same seed matched on that cost."""
    if curves.empty:
        return curves.assign(budget=pd.Series(dtype=str))
    headline = curves[~curves["checkpoint"] & curves["run"].isin(["multiway", "bilingual"])]
    frames = [headline.assign(method=headline["run"], budget="pairs")]
    multiway = headline[headline["run"] == "multiway"]
    for budget in ("steps", "sentences"):
        matched = curves[curves["checkpoint"] & (curves["run"] == "bilingual")
                         & curves["matches"].map(lambda m, b=budget: b in m)]
        if matched.empty:
            continue
        seeds = set(matched["seed"])
        frames += [multiway[multiway["seed"].isin(seeds)].assign(method="multiway", budget=budget),
                   matched.assign(method="bilingual", budget=budget)]
    return pd.concat(frames, ignore_index=True)


def matched_costs(curves: pd.DataFrame) -> pd.DataFrame:
    """Per seed and budget: the steps and sentences behind each side of the comparison (what "equal" meant)."""
    compared = cost_readings(curves)
    if compared.empty:
        return pd.DataFrame()
    per_model = compared.drop_duplicates(["budget", "seed", "method"])
    table = per_model.pivot_table(index=["budget", "seed"], columns="method", values=["step", "sentences"],
                                  aggfunc="first")
    table.columns = [f"{method} {what}" for what, method in table.columns]
    order = [c for c in ("multiway step", "bilingual step", "multiway sentences", "bilingual sentences")
             if c in table.columns]
    budgets = [b for b in BUDGETS if b in table.index.get_level_values("budget")]
    table = table[order].reindex(budgets, level="budget").astype("Int64")
    table.index = table.index.set_levels(table.index.levels[1].astype(int), level="seed")  # a seed, not "0.0"
    return readings.attach(table, matched_reading(table))


def matched_reading(table: pd.DataFrame) -> str:
    """What :func:`matched_costs` shows: under each budget, bilingual's steps and sentences against multi-way's
    (median ratio over seeds)."""
    needed = {"multiway step", "bilingual step", "multiway sentences", "bilingual sentences"}
    if not needed <= set(table.columns):
        return "Steps and sentences were not recorded for both methods."
    parts = []
    for budget, rows in table.groupby(level="budget", sort=False):
        rows = rows.astype(float)
        steps = (rows["bilingual step"] / rows["multiway step"]).median()
        sentences = (rows["bilingual sentences"] / rows["multiway sentences"]).median()
        parts.append(f"at the same {budget}, bilingual has {steps:.2f}x multi-way's steps and {sentences:.2f}x its "
                     f"sentences ({len(rows)} seed{'s' if len(rows) > 1 else ''})")
    return (readings.join(parts, "").capitalize() + " Each reading holds its own cost equal (the pairs reading "
            "holds the positive pairs, which this table does not show); the ratios away from 1.00 are what it "
            "leaves unequal.")


def curve_points(curves: pd.DataFrame, untrained: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per run, seed and weights scored: the task type's mean score (×100), with its step and sentences seen.

    A run is a curve when it kept a checkpoint that matches nothing (a curve point, ``training.curve.seeds``);
    its headline model (kept step) joins it. ``untrained`` (scores of the base model) gives each task type's
    level before training (``run`` = ``untrained``)."""
    curve_point = curves["checkpoint"] & (curves["matches"].map(len) == 0)
    curve_runs = set(zip(curves.loc[curve_point, "run"], curves.loc[curve_point, "seed"]))
    on_curve = [(run, seed) in curve_runs for run, seed in zip(curves["run"], curves["seed"])]
    keys = ["run", "seed", "model", "step", "sentences", "task_type"]
    means = curves[on_curve].groupby(keys, dropna=False)["score"].mean().mul(100).reset_index()
    if untrained is not None and not untrained.empty:
        level = untrained.groupby("task_type")["score"].mean().mul(100).reset_index()
        means = pd.concat([means, level.assign(run="untrained")], ignore_index=True)
    return means


def plot_curves(points: pd.DataFrame):
    """One row of panels per task type: the score against optimiser steps and against sentences seen."""
    import matplotlib.pyplot as plt

    trained = points[points["run"] != "untrained"]
    task_types = sorted(trained["task_type"].unique())
    fig, axes = plt.subplots(len(task_types), 2, figsize=(10, 3.0 * len(task_types)), squeeze=False)
    colours = {"bilingual": "tab:orange", "multiway": "tab:blue", CONTINUED: "tab:cyan"}
    for row, task_type in enumerate(task_types):
        for col, x in enumerate(("step", "sentences")):
            ax = axes[row][col]
            for (run, seed), curve in trained[trained["task_type"] == task_type].groupby(["run", "seed"]):
                curve = curve.sort_values(x)
                ax.plot(curve[x], curve["score"], marker="o", ms=3, color=colours.get(run, "grey"),
                        label=f"{run} s{seed}")
            level = points[(points["run"] == "untrained") & (points["task_type"] == task_type)]["score"]
            if len(level):
                ax.axhline(float(level.iloc[0]), color="black", lw=0.8, ls="--", label="untrained")
            ax.set_xlabel("optimiser steps" if x == "step" else "sentences seen")
            ax.set_ylabel(f"{task_type} ×100")
            if row == 0 and col == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def curves_text(points: pd.DataFrame) -> str:
    """What the curves show, generated from their numbers: where each run peaks and how it ends against the
    untrained level, per task type."""
    trained = points[points["run"] != "untrained"]
    if trained.empty:
        return ("No run kept enough checkpoints for a curve (training.curve off, or every run ended before its "
                "checkpoints).")
    sentences = []
    for task_type in sorted(trained["task_type"].unique()):
        level = points[(points["run"] == "untrained") & (points["task_type"] == task_type)]["score"]
        parts = []
        for run, curve in trained[trained["task_type"] == task_type].groupby("run"):
            curve = curve.groupby("step", as_index=False)["score"].mean().sort_values("step")
            peak = curve.loc[curve["score"].idxmax()]
            last = curve.iloc[-1]
            trend = ("still rising at its last checkpoint" if peak["step"] == last["step"] else
                     f"peaks at step {int(peak['step'])} ({peak['score']:.1f}) and ends at {last['score']:.1f}")
            against = ""
            if len(level):
                delta = last["score"] - float(level.iloc[0])
                against = (f", {abs(delta):.1f} points {'above' if delta >= 0 else 'below'} the untrained "
                           f"{float(level.iloc[0]):.1f}")
            parts.append(f"{run} {trend}{against}")
        sentences.append(f"{task_type}: " + "; ".join(parts) + ".")
    return " ".join(sentences)


def _planned_steps(records: dict[str, dict], model: str) -> int | None:
    """The steps a headline run planned (its last step had patience not stopped it), from its training record."""
    record = records.get(model) or {}
    total = record.get("total_steps") or record.get("steps")
    return int(total) if total is not None else None


def selection_effect(curves: pd.DataFrame, run_dir: Path) -> pd.DataFrame:
    """Does choosing weights by the dev metric change the comparison? For every seed whose two headline runs
    both have the weights of their last planned step scored (the kept model when its best step was the last,
    else a curve checkpoint at that step): the pairs-reading gain per task type with the kept (dev-selected)
    weights and with the last ones."""
    columns = ["seed", "task type", "multi-way kept / last step", "bilingual kept / last step",
               "gain, dev-selected %", "gain, last steps %"]
    if curves.empty:
        return pd.DataFrame(columns=columns)
    records = training_records(run_dir)  # the model folders' records, or the committed artifacts' summary
    headline = curves[~curves["checkpoint"] & curves["run"].isin(["multiway", "bilingual"])]
    rows = []
    for seed, part in headline.groupby("seed"):
        weights = {}
        for run in ("multiway", "bilingual"):
            kept = part[part["run"] == run]
            total = _planned_steps(records, kept["model"].iloc[0]) if len(kept) else None
            if total is None:
                break
            step = int(kept["step"].iloc[0])
            last = kept if step == total else curves[curves["checkpoint"] & (curves["run"] == run)
                                                     & (curves["seed"] == seed) & (curves["step"] == total)]
            if last.empty:
                break
            weights[run] = (kept, last, step, total)
        if len(weights) < 2:
            continue
        for task_type in sorted(set(part["task_type"])):
            def mean(frame: pd.DataFrame) -> float:
                return frame.loc[frame["task_type"] == task_type, "score"].mean()

            (mw_kept, mw_last, mw_step, mw_total), (bi_kept, bi_last, bi_step, bi_total) = (
                weights["multiway"], weights["bilingual"])
            rows.append({"seed": int(seed), "task type": task_type,
                         "multi-way kept / last step": f"{mw_step} / {mw_total}",
                         "bilingual kept / last step": f"{bi_step} / {bi_total}",
                         "gain, dev-selected %": (mean(mw_kept) - mean(bi_kept)) / mean(bi_kept) * 100,
                         "gain, last steps %": (mean(mw_last) - mean(bi_last)) / mean(bi_last) * 100})
    return pd.DataFrame(rows, columns=columns).round(2)


def selection_text(table: pd.DataFrame) -> str:
    """Whether selecting by the dev metric moves a gain across zero, per task type, from :func:`selection_effect`."""
    if table.empty:
        return ("No seed has the last weights of both headline runs scored (the curve seed trains both to their "
                "end), so the effect of selecting by the dev metric is not measured here.")
    parts, flipped = [], []
    for task_type, rows in table.groupby("task type", sort=False):
        selected, last = rows["gain, dev-selected %"].mean(), rows["gain, last steps %"].mean()
        same_sign = (selected > 0) == (last > 0)
        if not same_sign:
            flipped.append(task_type)
        parts.append(f"{task_type} {selected:+.1f}% dev-selected against {last:+.1f}% at the last steps")
    seeds = ", ".join(str(int(s)) for s in sorted(set(table["seed"])))
    verdict = ("Selecting by the dev metric moves no gain across zero" if not flipped else
               f"Selecting by the dev metric reverses the sign of the gain for {', '.join(flipped)}")
    return f"{verdict} (seed {seeds}): " + "; ".join(parts) + "."
