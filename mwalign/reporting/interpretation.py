"""What each section's numbers mean, in words generated from them (chapter 05 and the front page).

Every function takes a table the chapter already shows and returns a short Markdown paragraph: the sign of a
gain, its interval against zero and against the claim, its size against the spread over seeds, and under
which cost reading it holds. No number is typed here; wording follows the numbers.
"""

from __future__ import annotations

import pandas as pd

from mwalign.reporting.results import BEYOND_PAPER, BUDGET_LABELS, PAPER_CLAIMS
from mwalign.reporting.score_readings import seen_unseen_reading as seen_unseen_text  # chapter 05's name for it

_GOOD = {"consistent with the claim", "larger than claimed", "improves"}


def _gain(row: pd.Series) -> str:
    interval = "" if pd.isna(row.get("ci low")) else f" [{row['ci low']:.1f}, {row['ci high']:.1f}]"
    return f"{row['gain %']:+.1f}%{interval}"


def claims_text(claims: pd.DataFrame) -> str:
    """Per task type: the verdict under each cost reading, and whether the readings agree."""
    measured = claims[claims["verdict"].notna() & ~claims["verdict"].isin(["not evaluated", "control, no verdict"])]
    if measured.empty:
        return "No claim could be tested: the run scored none of the paper's task types for both methods."
    parts = []
    for (role, task_type), rows in measured.groupby(["role", "task type"], sort=False):
        readings = [f"{row['verdict']} at the same {row['same'].split(' ')[0]} ({row['measured gain %']:+.1f}%"
                    + (f", {row['95% CI']}" if row["95% CI"] not in (None, "—") else "") + ")"
                    + ("" if row.get("against", "bilingual") == "bilingual" else " against the released model")
                    for _, row in rows.iterrows()]
        verdicts = set(rows["verdict"])
        agreement = ("the readings agree" if len(verdicts) == 1 else
                     "the verdict depends on what is held equal")
        parts.append(f"{task_type} ({role}): " + "; ".join(readings) + f" — {agreement}.")
    missing = claims[claims["verdict"] == "not evaluated"]["task type"].tolist()
    tail = f" Not evaluated here: {', '.join(missing)}." if missing else ""
    return ("The paper's reading is the same number of positive pairs. " + " ".join(parts) + tail)


def seed_text(seeds: pd.DataFrame, gains: pd.DataFrame) -> str:
    """From :func:`results.seed_table` and the pairs reading of :func:`results.relative_gains`: is the gap
    between the methods larger than the spread between seeds?"""
    if seeds.empty or gains.empty:
        return "One seed per method: the spread between seeds is not measured."
    parts = []
    pairs = gains[gains["budget"] == "pairs"] if "budget" in gains.columns else gains
    for _, row in pairs.iterrows():
        key = (row["role"], row["base"], row["task type"])
        try:
            spread = max(seeds.loc[(*key, "multiway"), "sd"], seeds.loc[(*key, "bilingual"), "sd"])
        except KeyError:
            continue
        if pd.isna(spread):
            continue
        gap = row["multi-way"] - row["bilingual"]
        size = "larger than" if abs(gap) > 2 * spread else "within"
        parts.append(f"{row['task type']} ({row['base']}): the methods differ by {gap:+.2f} points, {size} twice "
                     f"the larger seed sd ({spread:.2f})")
    return ("; ".join(parts) + ".") if parts else "No comparison has more than one seed."


def _size_signs(rows: pd.DataFrame) -> list[str]:
    """Per corpus size (smallest first): '+' or '−' where the gain's interval excludes zero, '0' where it holds
    zero; the gain's own sign where the size has no interval (one seed)."""
    rows = rows.sort_values("fraction")
    low = rows["ci low"] if "ci low" in rows else pd.Series(float("nan"), index=rows.index)
    high = rows["ci high"] if "ci high" in rows else pd.Series(float("nan"), index=rows.index)
    return [("+" if lo > 0 else "−" if hi < 0 else "0") if pd.notna(lo) and pd.notna(hi) else ("+" if g > 0 else "−")
            for g, lo, hi in zip(rows["gain %"], low, high)]


def _size_change(signs: list[str]) -> str:
    """'sign' when the gain is significant both ways across sizes, 'verdict' when only whether it differs from
    zero changes, '' when every size agrees."""
    if len(set(signs) - {"0"}) > 1:
        return "sign"
    return "verdict" if len(set(signs)) > 1 else ""


def scaling_text(scaling: pd.DataFrame) -> str:
    """From :func:`results.scaling_gains`: does the verdict depend on corpus size, and which method moves?"""
    if scaling.empty:
        return "The profile runs no scaling study, so the question is not asked."
    parts, changed, steady = [], [], []
    for (base, task_type), rows in scaling.groupby(["base", "task type"], sort=False):
        rows = rows.sort_values("fraction")
        change = _size_change(_size_signs(rows))
        (changed if change else steady).append(f"{task_type} ({base})")
        moved_bi = rows["bilingual"].iloc[-1] - rows["bilingual"].iloc[0]
        moved_mw = rows["multi-way"].iloc[-1] - rows["multi-way"].iloc[0]
        mover = "bilingual" if abs(moved_bi) > abs(moved_mw) else "multi-way"
        gains = ", ".join(f"{f:g}: {_gain(r)}" for f, (_, r) in zip(rows["fraction"], rows.iterrows()))
        said = {"sign": "the sign changes with corpus size",
                "verdict": "the verdict depends on corpus size (the interval reaches zero at some sizes)",
                "": "the sign holds at every size"}[change]
        parts.append(f"{task_type} ({base}): {gains}; {said}, and {mover} moves more from the smallest to the "
                     f"full corpus (bilingual {moved_bi:+.1f}, multi-way {moved_mw:+.1f} points)")
    lead = (f"Yes for {', '.join(changed)}" + (f"; no for {', '.join(steady)}. " if steady else ". ")
            if changed else "No: every task type keeps its verdict at every corpus size tried. ")
    return lead + "; ".join(parts) + "."


def sensitivity_text(table: pd.DataFrame) -> str:
    """From :func:`results.sensitivity_table`: do better translations train a better model, beyond the noise?"""
    if table.empty:
        return "The translation-sensitivity study is off in this profile."
    task_types = [c for c in table.columns if c != "mean chrF" and not c.endswith("seed sd")]
    best, worst = table["mean chrF"].idxmax(), table["mean chrF"].idxmin()
    parts = []
    for task_type in task_types:
        diff = table.loc[best, task_type] - table.loc[worst, task_type]
        noise = table[f"{task_type} seed sd"].max()
        size = ("within" if pd.notna(noise) and abs(diff) <= 2 * noise else "beyond")
        parts.append(f"{task_type} {diff:+.1f} ({size} twice the seed sd)")
    return (f"From the worst-translated corpus ({worst}, chrF {table.loc[worst, 'mean chrF']:.1f}) to the best "
            f"({best}, chrF {table.loc[best, 'mean chrF']:.1f}): " + ", ".join(parts) + ".")


def findings(claims: pd.DataFrame, scaling: pd.DataFrame, ablations: pd.DataFrame | None = None) -> str:
    """The closing section: each claim, under which cost reading it holds, what the ablations say of the
    method's two ingredients (:func:`mwalign.reporting.ablations.ablation_gains`), and what would change the
    answer."""
    lines = []
    for task_type, claim in {**PAPER_CLAIMS, **BEYOND_PAPER}.items():
        rows = claims[(claims["task type"] == task_type) & (claims["role"] == "unaligned")
                      & ~claims["verdict"].isin(["not evaluated", "control, no verdict"])]
        said = f"+{claim:.1f}% claimed" if claim is not None else "not claimed by the paper; the method predicts a gain"
        if rows.empty:
            lines.append(f"- **{task_type}** ({said}): not evaluated in this run.")
            continue
        holds = [BUDGET_LABELS_BY_LABEL.get(s, s) for s, v in zip(rows["same"], rows["verdict"]) if v in _GOOD]
        positive = [BUDGET_LABELS_BY_LABEL.get(s, s) for s, v in zip(rows["same"], rows["verdict"])
                    if v in _GOOD | {"smaller than claimed"}]
        verdicts = "; ".join(f"{v} at the same {BUDGET_LABELS_BY_LABEL.get(s, s)}" for s, v in
                             zip(rows["same"], rows["verdict"]))
        holds_text = (f"{'the claimed size holds' if claim is not None else 'it improves'} at the same "
                      f"{', '.join(holds)}" if holds else
                      f"a gain smaller than claimed at the same {', '.join(positive)}" if positive else
                      "no reading shows a gain")
        size = ""
        part = scaling[scaling["task type"] == task_type] if not scaling.empty else scaling
        if len(part) and "base" in part:  # the headline model's sizes, not the depth study's encoders
            part = part[part["base"].isin(set(rows["model"]))]
        if len(part):
            size = {"sign": " Its sign changes with corpus size (scaling study), so a larger or smaller corpus "
                            "could reverse it.",
                    "verdict": " Whether it differs from zero changes with corpus size (scaling study); its sign "
                               "does not.",
                    "": " Its sign is the same at every corpus size tried."}[_size_change(_size_signs(part))]
        lines.append(f"- **{task_type}** ({said}): {verdicts}; {holds_text}.{size}")
    lines += _ablation_findings(ablations)
    lines.append("- What would change these answers: intervals that still hold zero need more seeds (each also "
                 "redraws the corpus); a reading whose verdict differs from the paper's says the gain is bought "
                 "with more steps or sentences, not only with multi-way rows.")
    return "\n".join(lines)


BUDGET_LABELS_BY_LABEL = {label: budget for budget, label in BUDGET_LABELS.items()}

# The two ingredients of the method the ablations isolate: (ablation, compared method, what it tests).
INGREDIENTS = (("english-anchors", "multiway", "Every language an anchor", "English-only anchors"),
               ("k2-multiway", "bilingual", "Pairs without English", "En-X pairs"))


def _ablation_findings(ablations: pd.DataFrame | None) -> list[str]:
    """One line per ingredient the run's ablations isolate (at the same pairs and steps, over seeds)."""
    lines = []
    for ablation, against, claim, other in INGREDIENTS:
        rows = (ablations[(ablations["ablation"] == ablation) & (ablations["against"] == against)
                          & (ablations["same"] == "pairs, steps")] if ablations is not None and len(ablations)
                else pd.DataFrame())
        if rows.empty:
            continue
        # the method's side: multi-way minus english-anchors; k2-multiway (its X-Y pairs) minus bilingual
        sign = -1.0 if against == "multiway" else 1.0
        diffs = [(r["task type"], sign * r["difference"], r["ci low"] > 0 or r["ci high"] < 0)
                 for _, r in rows.iterrows()]
        said = ", ".join(f"{t} {d:+.1f}{'' if real else ' (within its interval)'}" for t, d, real in diffs)
        biggest = max(abs(d) for _, d, real in diffs)
        verdict = ("it is worth less than a point on every task type" if biggest < 1 else
                   "it matters on " + ", ".join(t for t, d, real in diffs if real and abs(d) >= 1))
        lines.append(f"- **{claim}** (against {other}, the same pairs and steps, {int(rows['seeds'].max())} "
                     f"seeds): {said}; {verdict}.")
    return lines
