"""From mteb results to tidy rows, with bootstrap intervals and seed/group summaries."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from mteb.abstasks.abstask import AbsTask

from mwalign import atomic
from mwalign.evaluation import bootstrap as boot
from mwalign.evaluation import languages as eval_languages

POINT_TOLERANCE = 1e-5  # mteb stores scores rounded to 5 decimals


def exact_scores_path(task_name: str, predictions_dir: Path) -> Path:
    """Our full-precision main scores of one model x task, beside its predictions (mteb's JSON keeps 6 decimals)."""
    return predictions_dir / f"{task_name}.main_scores.json"


def keep_exact_scores(task_result: Any, predictions_dir: Path) -> None:
    """Make ``task_result``'s main scores exact: record them when mteb just computed them, restore them when
    mteb read them back from its (rounded) JSON, so a resumed evaluation gives the same bytes as one run.

    The stage deletes mteb's JSON of a task whose record is missing before evaluating (it is then recomputed),
    so a record always comes from the computation whose rounded copy mteb holds.
    """
    path = exact_scores_path(task_result.task_name, predictions_dir)
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    new = False
    for split, entries in task_result.scores.items():
        for entry in entries:
            exact = recorded.get(split, {}).get(entry["hf_subset"])
            if exact is None:  # just computed by mteb (a fresh task, or a subset added to a cached one)
                recorded.setdefault(split, {})[entry["hf_subset"]] = float(entry["main_score"])
                new = True
            elif abs(exact - float(entry["main_score"])) <= POINT_TOLERANCE:
                entry["main_score"] = exact
    if new:
        atomic.write_json(path, recorded, indent=1, sort_keys=True)


def _load_predictions(task: AbsTask, predictions_dir: Path) -> dict[str, Any]:
    path = predictions_dir / task.prediction_file_name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _stored(task: AbsTask, predictions: dict[str, Any], subset: str, split: str) -> Any:
    """mteb's saved predictions for one subset; parallel bitext tasks save all pairs under "parallel"."""
    if getattr(task, "parallel_subsets", False):
        return predictions.get("parallel", {}).get(split, {}).get(subset)
    stored = predictions.get(subset, {}).get(split)
    return stored["sentence1-sentence2"] if stored and task.metadata.type == "BitextMining" else stored


def _point_and_interval(
    task: AbsTask, stored: Any, subset: str, split: str, resamples: int
) -> tuple[float, float, float] | None:
    """Recompute (point, low, high) from stored predictions; None where no resampler fits the main score."""
    kind, main = task.metadata.type, task.metadata.main_score
    if kind == "BitextMining":
        return boot.bitext_interval(stored, resamples)
    data = task.dataset[subset][split] if task.dataset else None
    if kind == "STS" and main == "cosine_spearman" and data is not None:
        return boot.sts_interval(stored["cosine_scores"], data["score"], resamples)
    if kind == "Classification" and main == "accuracy" and data is not None and len(stored[0]) == len(data):
        return boot.accuracy_interval(stored, data[task.label_column_name], resamples)
    return None


def _clustering_interval(entry: dict[str, Any], resamples: int) -> tuple[float, float, float] | None:
    """mteb already clusters 10 document samples; the interval resamples those runs' v-measures."""
    runs = (entry.get("v_measures") or {}).get("Level 0")
    return boot.mean_interval(runs, resamples) if runs else None


def _interval(task: AbsTask, predictions: dict[str, Any], entry: dict[str, Any], split: str, resamples: int) -> tuple[float, float]:
    """Bootstrap interval for one subset; the recomputed point must equal mteb's main score."""
    subset, score = entry["hf_subset"], float(entry["main_score"])
    stored = _stored(task, predictions, subset, split)
    if resamples <= 0:
        computed = None
    elif task.metadata.type == "Clustering":
        computed = _clustering_interval(entry, resamples)
    else:
        computed = _point_and_interval(task, stored, subset, split, resamples) if stored else None
    if computed is None:
        return (math.nan, math.nan)
    point, low, high = computed
    if abs(point - score) > POINT_TOLERANCE:
        raise RuntimeError(
            f"{task.metadata.name}/{subset}/{split}: recomputed {task.metadata.main_score} {point} != mteb's {score}; "
            "stale predictions, delete results/predictions"
        )
    return (low, high)


def tidy_rows(task: AbsTask, task_result: Any, predictions_dir: Path, *, seen: set[str], bootstrap: int) -> list[dict]:
    """One row per (split, subset) of the task's requested subsets: the main score with its interval."""
    predictions = _load_predictions(task, predictions_dir)
    wanted = set(task.hf_subsets)
    rows = []
    for split in task.eval_splits:
        for entry in task_result.scores.get(split, []):
            subset = entry["hf_subset"]
            if subset not in wanted:
                continue  # the ResultCache may hold more subsets from earlier runs
            codes = eval_languages.subset_languages(task, subset)
            score = float(entry["main_score"])
            low, high = _interval(task, predictions, entry, split, bootstrap)
            rows.append(
                {
                    "task": task.metadata.name,
                    "task_type": getattr(task, "reported_type", task.metadata.type),
                    "subset": subset,
                    "languages": ",".join(codes),
                    "group": eval_languages.group_of(codes, seen),
                    "split": split,
                    "metric": task.metadata.main_score,
                    "score": score,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return rows


def summarize_seeds(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample sd over seeds per (base, method, task, subset, split, metric)."""
    keys = ["base", "method", "task", "task_type", "subset", "languages", "group", "split", "metric"]
    grouped = scores.groupby(keys, dropna=False)["score"]
    return grouped.agg(mean="mean", sd="std", n_seeds="count").reset_index()


def summarize_groups(scores: pd.DataFrame) -> pd.DataFrame:
    """Per-group (seen/unseen) mean of the main score for each model and task."""
    keys = ["model", "base", "method", "seed", "task", "split", "metric", "group"]
    return scores.groupby(keys, dropna=False)["score"].agg(mean="mean", n_subsets="count").reset_index()
