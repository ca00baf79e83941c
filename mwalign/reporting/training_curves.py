"""Chapters 02 and 03: which models were trained, and their loss curves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mwalign.artifacts import json_or_none
from mwalign.reporting import readings
from mwalign.training.stage import is_curve_method

TRAINING_FIELDS = {"rows": "rows", "pairs": "positive pairs", "epochs_run": "epochs run", "steps": "steps",
                   "best_step": "best step", "best_dev_metric": "best dev metric ×100", "stop_reason": "stop reason"}
DEV_CURVE_FIELDS = ("dev_se", "dev_vs_best", "dev_vs_best_se")  # the record's per-evaluation SEs (paired too)
INTEGER_COLUMNS = ("seed", "rows", "positive pairs", "steps", "best step")
NOT_TRAINED_NOTE = ("not applicable: the base model is not trained (no seed, rows or steps); a model whose run "
                    "ended before its first dev evaluation (training.eval_every) records no best step.")


def models_table(run_dir: Path, role: str = "unaligned") -> pd.DataFrame:
    """One row per model of a role: the index entry plus what its training record says (rows, pairs, steps, dev)."""
    run_dir = Path(run_dir)
    rows = []
    for entry in json.loads((run_dir / "models" / "index.json").read_text()):
        if entry["role"] != role or is_curve_method(entry["method"]):  # a checkpoint is a point of its run
            continue
        record_path = run_dir / entry["path"] / "mwalign_training.json"
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
        row = {k: entry[k] for k in ("label", "method", "seed", "dtype")}
        row.update({label: record.get(key) for key, label in TRAINING_FIELDS.items()})
        if row["best dev metric ×100"] is not None:  # a fraction near 1 would print as "1.0" for every run
            row["best dev metric ×100"] *= 100
        rows.append(row)
    table = pd.DataFrame(rows).set_index("label")
    table = table.astype({c: "Int64" for c in INTEGER_COLUMNS})  # the base model's gaps keep counts whole
    return readings.attach(table, models_reading(table))


def _spread(values: pd.Series, fmt: str = ",") -> str:
    """'72' when every run has the value, '9 to 423' when they differ."""
    low, high = values.min(), values.max()
    return f"{low:{fmt}}" if low == high else f"{low:{fmt}} to {high:{fmt}}"


def models_reading(table: pd.DataFrame) -> str:
    """What :func:`models_table` shows: per method, the rows, pairs and steps its runs had, and the step ratio
    that the equal pair budget leaves between bilingual and multi-way training."""
    trained = table[table["method"] != "base"].dropna(subset=["steps"])
    if trained.empty:
        return "No model of this role was trained in this run."
    parts = []
    for method, runs in trained.groupby("method", sort=False):
        parts.append(f"{method}: {len(runs)} run{'s' if len(runs) > 1 else ''} of {_spread(runs['rows'])} rows "
                     f"({_spread(runs['positive pairs'])} positive pairs) and {_spread(runs['steps'])} steps")
    text = "Per method, " + "; ".join(parts) + "."
    steps = trained.groupby("method")["steps"].median()
    if {"multiway", "bilingual"} <= set(steps.index) and steps["multiway"] > 0:
        ratio = steps["bilingual"] / steps["multiway"]
        text += (f" At the same pair budget the bilingual runs take {ratio:.1f}x the optimiser steps of the "
                 "multi-way ones" + (": the pairs reading compares unequal training, which the steps and sentences "
                                     "readings of the Results chapter control for." if ratio > 1.5 else "."))
    return text


def load_data(run_dir: Path) -> pd.DataFrame:
    """Per-step training log of every trained model, with its index entry's base, method and seed."""
    run_dir = Path(run_dir)
    frames = []
    for entry in json.loads((run_dir / "models" / "index.json").read_text()):
        log = run_dir / entry["path"] / "train_log.jsonl"
        if entry["method"] == "base" or is_curve_method(entry["method"]) or not log.is_file():
            continue
        steps = pd.read_json(log, lines=True)
        record = json_or_none(run_dir / entry["path"] / "mwalign_training.json") or {}
        dev = pd.DataFrame(record.get("dev_curve") or [])
        extra = [c for c in DEV_CURVE_FIELDS if c in dev and c not in steps]
        if len(dev) and "step" in dev and extra:  # the log has each evaluation's value, the record its SEs
            steps = steps.merge(dev[["step", *extra]], on="step", how="left")
        frames.append(steps.assign(label=entry["label"], role=entry["role"], base=entry["base"],
                                   method=entry["method"], seed=entry["seed"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def stops(run_dir: Path, role: str = "unaligned") -> pd.DataFrame:
    """Per trained model of a role: its best step with the dev metric there, and its stop step and reason."""
    table = models_table(run_dir, role)
    table = table[table["method"] != "base"]
    table = table.assign(**{"best dev metric ×100": table["best dev metric ×100"].astype(float)})
    return table[["method", "seed", "best step", "best dev metric ×100", "steps", "stop reason"]]


def dev_resolution(curves: pd.DataFrame, role: str = "unaligned") -> pd.DataFrame:
    """Per trained model: can its dev metric choose between checkpoints?

    The best evaluation against the runner-up and against the last one, in units of the dev metric's
    standard error over dev rows at the best step (``dev_se``): unpaired, as if the two checkpoints were
    scored on different samples. Both are scored on the same dev rows, so the question is paired: ``best −
    runner-up (paired SE)`` is the gap over the standard error of the per-row differences, from the
    training record's comparison of each evaluation with the best checkpoint before it (``dev_vs_best``,
    ``dev_vs_best_se``). A gap of 2 or more standard errors is more than the dev sample's noise.
    Evaluations: how many the run made.
    """
    data = curves[curves["role"] == role] if "role" in curves else curves
    if "dev_metric" not in data or data["dev_metric"].isna().all():
        return pd.DataFrame()
    rows = []
    for label, curve in data.dropna(subset=["dev_metric"]).groupby("label", sort=False):
        ranked = curve.sort_values(["dev_metric", "step"], ascending=[False, True])
        best = ranked.iloc[0]
        se = best.get("dev_se")
        se = float(se) if se is not None and pd.notna(se) and se > 0 else float("nan")
        runner_up = ranked.iloc[1] if len(ranked) > 1 else None
        last = curve.sort_values("step").iloc[-1]["dev_metric"]
        rows.append({"label": label, "method": best["method"], "seed": best["seed"], "evaluations": len(curve),
                     "best step": int(best["step"]), "best ×100": best["dev_metric"] * 100, "SE ×100": se * 100,
                     "best − runner-up (SE)": (best["dev_metric"] - runner_up["dev_metric"]) / se
                     if runner_up is not None else float("nan"),
                     "best − runner-up (paired SE)": _paired_gap(best, runner_up),
                     "best − last (SE)": (best["dev_metric"] - last) / se,
                     "last evaluation": int(curve["step"].max())})
    table = pd.DataFrame(rows).set_index("label").astype({"seed": "Int64"})
    if table["best − runner-up (paired SE)"].isna().all():  # a record from before paired comparisons
        table = table.drop(columns="best − runner-up (paired SE)")
    return table


def _paired_gap(best: pd.Series, runner_up: pd.Series | None) -> float:
    """best − runner-up over the SE of their per-row difference. An earlier runner-up is the best checkpoint
    before ``best`` (``best`` was compared with it); a later one was compared with ``best``."""
    if runner_up is None:
        return float("nan")
    row, sign = (best, 1.0) if runner_up["step"] < best["step"] else (runner_up, -1.0)
    gap, se = row.get("dev_vs_best"), row.get("dev_vs_best_se")
    if gap is None or se is None or pd.isna(gap) or pd.isna(se) or se <= 0:
        return float("nan")
    return sign * float(gap) / float(se)


def dev_resolution_text(table: pd.DataFrame, threshold: float = 2.0) -> str:
    """What :func:`dev_resolution` shows, in words generated from its numbers (paired where recorded)."""
    if table.empty:
        return "No run logged a dev metric, so no checkpoint was chosen by one."
    several = table["evaluations"] > 1
    n, n_several = len(table), int(several.sum())
    if n_several == 0:
        return (f"Each of the {n} runs made one dev evaluation, so the dev metric had nothing to choose between; "
                "raise training.evaluations_per_epoch (or lower training.eval_every) for it to select a checkpoint.")
    paired = "best − runner-up (paired SE)" in table and table.loc[several, "best − runner-up (paired SE)"].notna().any()
    column = "best − runner-up (paired SE)" if paired else "best − runner-up (SE)"
    gaps = table.loc[several, column].dropna()
    separated = gaps >= threshold
    what = ("standard errors of the paired difference (the two checkpoints scored on the same dev rows)"
            if paired else "standard errors of the dev metric")
    parts = [f"In {int(separated.sum())} of {len(gaps)} runs with more than one dev evaluation, the best "
             f"checkpoint beats the runner-up by at least {threshold:g} {what} (median {gaps.median():.1f} SE): "]
    if separated.all():
        parts.append("the dev metric separates checkpoints by more than its sampling noise in every run.")
    elif separated.any():
        parts.append("in the others the choice between the two best checkpoints is within the dev sample's noise.")
    else:
        parts.append("the choice between the two best checkpoints is within the dev sample's noise in every run, "
                     "so selecting by it is close to taking either.")
    if paired:
        unpaired = table.loc[several, "best − runner-up (SE)"].median()
        parts.append(f" Measured against each score's own standard error instead (unpaired), the median gap is "
                     f"{unpaired:.1f} SE: most of a score's spread over dev rows is how hard each row is, which "
                     "two checkpoints share.")
    kept_last = (table["best step"] == table["last evaluation"]).sum()
    parts.append(f" The kept checkpoint is the last one in {kept_last} of {n} runs.")
    return "".join(parts)


def temperature_table(run_dir: Path) -> pd.DataFrame:
    """The dev grid of temperatures per base model (models/temperature_grid.json): the dev metric (×100) per value
    and the pick (as text: a temperature is no score to round)."""
    path = Path(run_dir) / "models" / "temperature_grid.json"
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    rows = [{"base": base, **{f"dev ×100 at τ = {t:g}": acc * 100 for t, acc in zip(r["grid"], r["dev_metric"])},
             "chosen τ": f"{r['chosen']:g}", "grid steps": r["steps"]} for base, r in record.items()]
    if not rows:
        return pd.DataFrame()
    return readings.attach(pd.DataFrame(rows).set_index("base"), temperature_reading(record))


def temperature_reading(record: dict[str, dict]) -> str:
    """What :func:`temperature_table` shows: the pick, its margin, and whether it sits at the grid's edge."""
    parts = []
    for base, r in record.items():
        scores = dict(zip(r["grid"], r["dev_metric"]))
        chosen = r["chosen"]
        others = {t: v for t, v in scores.items() if t != chosen}
        margin = (f", {(scores[chosen] - max(others.values())) * 100:.1f} points above the next value"
                  if others else "")
        edge = ""
        if len(scores) > 1 and chosen in (min(scores), max(scores)):
            side = "smallest" if chosen == min(scores) else "largest"
            edge = (f"; it is the grid's {side} value, so a {'lower' if side == 'smallest' else 'higher'} "
                    "temperature was not tried and could score higher still")
        parts.append(f"{base}: τ = {chosen:g} scores {scores[chosen] * 100:.1f} on the dev metric after "
                     f"{r['steps']} steps{margin}{edge}")
    return readings.join(parts, "No temperature grid was run.")


def plot(curves: pd.DataFrame, role: str, stopped: pd.DataFrame | None = None):
    """Training loss per step and, where logged, the dev metric used for early stopping (± its standard error).

    With ``stopped`` (:func:`stops`), each dev curve carries a star at its best step (the weights kept)
    and a cross at its stop step.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = curves[curves["role"] == role]
    has_dev = "dev_metric" in data.columns and data["dev_metric"].notna().any()
    fig, axes = plt.subplots(1, 2 if has_dev else 1, figsize=(11 if has_dev else 7, 3.4), squeeze=False)
    sns.lineplot(data=data, x="step", y="loss", hue="method", units="label", estimator=None, ax=axes[0][0],
                 alpha=0.8, legend=not has_dev)
    axes[0][0].set_title("Training loss per optimiser step")
    if has_dev:
        dev = data.dropna(subset=["dev_metric"])
        sns.lineplot(data=dev, x="step", y="dev_metric", hue="method", units="label", estimator=None,
                     ax=axes[0][1], marker="o", alpha=0.8)
        if "dev_se" in dev and dev["dev_se"].notna().any():
            for _, curve in dev.groupby("label"):
                curve = curve.sort_values("step")
                axes[0][1].fill_between(curve["step"], curve["dev_metric"] - curve["dev_se"],
                                        curve["dev_metric"] + curve["dev_se"], color="grey", alpha=0.15, lw=0)
        axes[0][1].set_title("Dev metric (early stopping), ± 1 SE")
        if stopped is not None:
            _mark_stops(axes[0][1], dev, stopped)
        axes[0][1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return readings.attach_figure(fig, curves_reading(data))


def curves_reading(data: pd.DataFrame) -> str:
    """What :func:`plot` shows, per method (median over its runs): the loss from first to last step, and the dev
    metric from first evaluation to best."""
    if data.empty:
        return "No model of this role logged a training curve."
    parts = []
    for method, runs in data.groupby("method", sort=False):
        ends = runs.sort_values("step").groupby("label")["loss"].agg(["first", "last"]).median()
        clause = f"{method}: loss {ends['first']:.2f} → {ends['last']:.2f}"
        if "dev_metric" in runs and runs["dev_metric"].notna().any():
            dev = runs.dropna(subset=["dev_metric"]).sort_values("step").groupby("label")["dev_metric"]
            clause += f", dev metric {dev.first().median() * 100:.1f} → {dev.max().median() * 100:.1f} at best"
        parts.append(clause)
    return ("From first to last step, median over each method's runs: " + "; ".join(parts) + ". The losses of "
            "different methods are not on one scale: a row of more sentences gives each anchor more candidates.")


def _mark_stops(ax, dev: pd.DataFrame, stopped: pd.DataFrame) -> None:
    """Star: best step (the weights kept); cross: the step where training stopped."""
    for label, row in stopped.iterrows():
        curve = dev[dev["label"] == label].set_index("step")["dev_metric"]
        if curve.empty:
            continue
        if pd.notna(row["best step"]) and int(row["best step"]) in curve.index:  # the kept weights
            ax.scatter(int(row["best step"]), curve[int(row["best step"])], marker="*", s=90, color="black", zorder=4)
        last = curve.index.max()
        ax.scatter(last, curve[last], marker="x", s=40, color="tab:red", zorder=4)
    ax.scatter([], [], marker="*", color="black", label="best (kept)")
    ax.scatter([], [], marker="x", color="tab:red", label="stopped")


def stops_text(stopped: pd.DataFrame) -> str:
    """What :func:`stops` shows, in words: how the runs of each method ended and where their best step fell."""
    if stopped.empty:
        return "No model of this role was trained."
    parts = []
    for method, runs in stopped.groupby("method", sort=False):
        reasons = runs["stop reason"].value_counts()
        ended = ", ".join(f"{count} by {reason}" for reason, count in reasons.items())
        at_end = int((runs["best step"] == runs["steps"]).sum())
        parts.append(f"{method}: {len(runs)} run{'s' if len(runs) > 1 else ''}, ended {ended}; the best dev "
                     f"evaluation was the last step in {at_end} of them")
    text = "; ".join(parts) + "."
    if not (stopped["stop reason"] == "patience").any():
        text += (" No run ended by patience: each kept improving on the dev metric often enough to use every "
                 "epoch it was given, so a longer schedule could still change the comparison.")
    return text
