"""Chapter 05's ablations at the headline's rigour: each ablation against the main method it differs from by one
thing, over every seed it ran on, with a t-interval of the per-seed difference.

Every ablation trains at the bilingual corpus's pair budget, so "the same pairs" holds for all; whether the
steps are the same too follows from the rows (``english-anchors`` has multi-way's rows, so its steps;
``k2-multiway``'s two-language rows are as many as bilingual's, so its steps). Each ablation is compared with
multi-way (all-language anchors, the paper's method) and, where that is another one, with the main method that
took as many optimiser steps: ``k2-multiway`` against bilingual differs only in which pairs it trains (two
pool languages, English included, against English with one), so their difference is the pair kind's effect.
Steps come from the training records (:func:`mwalign.archive.training_records`).
"""

from __future__ import annotations

import pandas as pd

from mwalign.reporting import readings
from mwalign.reporting.results import MAIN_METHODS, _subset_means, _t_interval, ablation_methods

COLUMNS = ["base", "ablation", "against", "same", "task type", "seeds", "ablation ×100", "against ×100",
           "difference", "ci low", "ci high"]


def ablation_gains(scores: pd.DataFrame, records: dict[str, dict], confidence: float = 0.95) -> pd.DataFrame:
    """Per base, ablation, compared method and task type: the mean difference in points (×100) over the seeds
    both ran, with its interval; ``same`` says what the two spent alike."""
    per_seed = _subset_means(scores).merge(scores[["role", "base", "method", "seed", "model"]].drop_duplicates(),
                                           on=["role", "base", "method", "seed"])
    steps = per_seed["model"].map(lambda label: (records.get(label) or {}).get("steps"))
    per_seed = per_seed.assign(steps=steps)
    rows = []
    for ablation in ablation_methods(per_seed["method"]):
        for base, part in per_seed[per_seed["method"].isin([ablation, *MAIN_METHODS])].groupby("base", sort=False):
            if ablation not in set(part["method"]):
                continue
            for against in _compared(part, ablation):
                rows += _differences(part, base, ablation, against, confidence)
    table = pd.DataFrame(rows, columns=COLUMNS)
    return readings.attach(table.round(2), ablations_reading(table))


def _steps_of(part: pd.DataFrame, method: str) -> set:
    return set(part.loc[part["method"] == method, "steps"].dropna())


def _compared(part: pd.DataFrame, ablation: str) -> list[str]:
    """Multi-way, and bilingual too when it took the ablation's steps."""
    steps = _steps_of(part, ablation)
    return ([m for m in ("multiway",) if m in set(part["method"])]
            + (["bilingual"] if steps and _steps_of(part, "bilingual") == steps else []))


def _differences(part: pd.DataFrame, base: str, ablation: str, against: str, confidence: float) -> list[dict]:
    wide = part[part["method"].isin([ablation, against])].pivot_table(
        index=["task_type", "seed"], columns="method", values="score").dropna()
    same = "pairs, steps" if _steps_of(part, ablation) == _steps_of(part, against) else "pairs"
    rows = []
    for task_type, group in wide.groupby(level="task_type", sort=False):
        diff = (group[ablation] - group[against]).to_numpy() * 100
        low, high = _t_interval(diff, confidence)
        rows.append({"base": base, "ablation": ablation, "against": against, "same": same, "task type": task_type,
                     "seeds": len(diff), "ablation ×100": group[ablation].mean() * 100,
                     "against ×100": group[against].mean() * 100, "difference": diff.mean(),
                     "ci low": low, "ci high": high})
    return rows


def _side(low: float, high: float) -> str:
    if pd.isna(low):
        return "one seed"
    return "above" if low > 0 else "below" if high < 0 else "holds zero"


def ablations_reading(gains: pd.DataFrame) -> str:
    """What :func:`ablation_gains` shows: per comparison, which task types the ablation moves beyond its interval."""
    if gains.empty:
        return "This profile trains no ablations."
    parts = []
    for (base, ablation, against, same), rows in gains.groupby(["base", "ablation", "against", "same"], sort=False):
        sides = [_side(low, high) for low, high in zip(rows["ci low"], rows["ci high"])]
        moved = [(t, d) for t, d, side in zip(rows["task type"], rows["difference"], sides)
                 if side in ("above", "below")]
        small = all(abs(d) < 1 for _, d in moved)
        verdict = (f"it differs beyond its interval on {', '.join(f'{t} {d:+.1f}' for t, d in moved)}"
                   + (", each by less than a point" if small else "") if moved else
                   "no task type differs beyond its interval" if "one seed" not in sides else
                   "one seed: no interval")
        parts.append(f"{ablation} against {against} ({base}; the same {same}; {int(rows['seeds'].max())} seeds): "
                     f"{verdict}")
    return readings.join(parts, "")
