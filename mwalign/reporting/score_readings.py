"""What the evaluation chapter's score tables and figures show, in words generated from their numbers.

Each function takes the numbers a table of :mod:`mwalign.reporting.results` is built from and returns its
reading (:mod:`mwalign.reporting.readings`): which method leads, by how much, and whether that is more than
the spread between seeds. Two means closer than twice the larger seed sd are called a tie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mwalign.reporting.readings import join

TIE_SDS = 2.0  # a gap under this many seed sds is a tie


def _gap_word(gap: float, sd: float) -> str:
    if pd.notna(sd) and abs(gap) <= TIE_SDS * sd:
        return "tie"
    return "ahead" if gap > 0 else "behind"


def task_type_reading(summary: pd.DataFrame) -> str:
    """From per (base, method, task type) ``mean`` and ``std`` (×100, over seeds): per base model, multi-way
    against bilingual on each task type, and how far training moved both from the untrained model."""
    means, sds = summary["mean"].unstack("task_type"), summary["std"].unstack("task_type")
    parts = []
    for base in dict.fromkeys(means.index.get_level_values("base")):
        rows = means.xs(base, level="base")
        if not {"multiway", "bilingual"} <= set(rows.index):
            continue
        gaps = (rows.loc["multiway"] - rows.loc["bilingual"]).dropna()
        spread = pd.concat([sds.xs(base, level="base").loc[m] for m in ("multiway", "bilingual")], axis=1).max(axis=1)
        said = ", ".join(f"{t} {g:+.1f} ({_gap_word(g, spread.get(t, np.nan))})" for t, g in gaps.items())
        clause = f"{base}: multi-way minus bilingual is {said}"
        if "base" in rows.index:
            lifted = [(rows.loc[m] - rows.loc["base"]).dropna() for m in ("multiway", "bilingual")]
            moved = pd.concat(lifted)
            clause += (f"; training moves both from the untrained model by {moved.min():+.1f} to "
                       f"{moved.max():+.1f} points")
        parts.append(clause)
    if not parts:
        return "No base model has both a multi-way and a bilingual run in this table."
    return (join(parts, "") + f" A gap within {TIE_SDS:g} seed sds (the larger of the two methods') is a tie; "
            "with one seed there is no sd and every gap is named.")


def per_language_reading(table: pd.DataFrame) -> str:
    """From :func:`results.per_language_table` (rows: group, subset; columns: base, method): per base model,
    on how many subsets multi-way beats bilingual, per group, and its largest lead and deficit."""
    parts = []
    for base in dict.fromkeys(table.columns.get_level_values("base")):
        if not {(base, "multiway"), (base, "bilingual")} <= set(table.columns):
            continue
        gaps = (table[(base, "multiway")] - table[(base, "bilingual")]).dropna()
        if gaps.empty:
            continue
        groups = ", ".join(f"{group} {int((g > 0).sum())} of {len(g)}" for group, g in gaps.groupby(level="group"))
        best, worst = gaps.idxmax(), gaps.idxmin()
        high = "largest lead" if gaps[best] > 0 else "smallest deficit"
        low = "largest deficit" if gaps[worst] < 0 else "smallest lead"
        parts.append(f"{base}: multi-way is above bilingual on {int((gaps > 0).sum())} of {len(gaps)} subsets "
                     f"({groups}); its {high} is {best[1]} ({gaps[best]:+.1f}), its {low} {worst[1]} "
                     f"({gaps[worst]:+.1f})")
    return join(parts, "No base model has both a multi-way and a bilingual run on this task.")


def separated_subsets(stats: pd.DataFrame) -> str:
    """From per (base, subset, method) ``mean`` and ``std`` over seeds (the per-language figure's bars): the
    subsets where multi-way's and bilingual's mean ± sd do not overlap."""
    parts = []
    for base, rows in stats.groupby(level="base", sort=False):
        rows = rows.droplevel("base").unstack("method")
        if not {"multiway", "bilingual"} <= set(rows["mean"].columns):
            continue
        mw, bi = rows["mean"]["multiway"], rows["mean"]["bilingual"]
        sd_mw, sd_bi = rows["std"]["multiway"].fillna(0), rows["std"]["bilingual"].fillna(0)
        apart = (mw - sd_mw > bi + sd_bi) | (bi - sd_bi > mw + sd_mw)
        named = ", ".join(f"{s} ({'multi-way' if mw[s] > bi[s] else 'bilingual'} higher)" for s in apart[apart].index)
        parts.append(f"{base}: the bars' seed ranges (mean ± sd) of the two methods are apart on "
                     f"{int(apart.sum())} of {len(apart)} subsets" + (f": {named}" if named else ""))
    return join(parts, "")


def seen_unseen_reading(groups: pd.DataFrame) -> str:
    """From :func:`results.group_means`: whether multi-way's lead over bilingual differs for unseen languages."""
    if not {"multiway", "bilingual"} <= set(groups.columns):
        return "Both methods are needed to compare seen with unseen languages."
    gap = (groups["multiway"] - groups["bilingual"]).dropna()
    parts = []
    for (base, task), part in gap.groupby(level=["base", "task"]):
        values = part.droplevel(["base", "task"])
        if {"seen", "unseen"} <= set(values.index):
            seen, unseen = values["seen"], values["unseen"]
            relation = ("about the same on both" if abs(unseen - seen) < 0.05 else
                        ("more" if unseen > seen else "less") + " in multi-way's favour on unseen languages")
            parts.append(f"{task} ({base}): multi-way minus bilingual is {seen:+.1f} on seen and {unseen:+.1f} on "
                         f"unseen languages, {relation}")
    return join(parts, "No task has both a seen and an unseen group in this run.")


def panel_counts(means: pd.DataFrame) -> str:
    """From per (base, group, task type) means of each method (the seen/unseen figure's bars): in how many
    panels multi-way's bar is the higher one."""
    if not {"multiway", "bilingual"} <= set(means.columns):
        return ""
    parts = []
    for base, rows in means.dropna(subset=["multiway", "bilingual"]).groupby(level="base", sort=False):
        higher = rows["multiway"] > rows["bilingual"]
        parts.append(f"{base}: multi-way's bar is the higher in {int(higher.sum())} of {len(rows)} (group, task "
                     "type) pairs")
    return join(parts, "")


def gains_reading(gains: pd.DataFrame) -> str:
    """From :func:`results.relative_gains`: per cost reading, which gains' intervals lie above zero, below it,
    or hold it (the verdict rule's first question, before the claim's size)."""
    if gains.empty:
        return "No model role has both methods scored."
    parts = []
    for budget, rows in gains.groupby("budget", sort=False):
        kinds: dict[str, list[str]] = {}
        for _, row in rows.iterrows():
            low, high = row["ci low"], row["ci high"]
            kind = ("one seed, no interval" if pd.isna(low) else "above zero" if low > 0 else
                    "below zero" if high < 0 else "holding zero")
            kinds.setdefault(kind, []).append(f"{row['task type']} ({row['base']}) {row['gain %']:+.1f}%")
        said = "; ".join(f"{kind}: {', '.join(items)}" for kind, items in kinds.items())
        parts.append(f"At the same {budget} — {said}.")
    return " ".join(parts)


def spread_reading(table: pd.DataFrame) -> str:
    """From a (base, method) x task type table of means: per base, each task type's best and worst method and the
    points between them."""
    parts = []
    for base in dict.fromkeys(table.index.get_level_values("base")):
        rows = table.xs(base, level="base")
        if len(rows) < 2:
            continue
        spans = [f"{t} from {rows[t].min():.1f} ({rows[t].idxmin()}) to {rows[t].max():.1f} ({rows[t].idxmax()})"
                 for t in rows.columns if rows[t].notna().sum() > 1]
        if spans:
            parts.append(f"{base}: " + ", ".join(spans))
    return join(parts, "One method per base model: nothing to compare.")
