"""The X-Y bitext task in chapter 05: does multi-way lead more on pairs without English?

Every language as an anchor trains pairs such as spa-hrv that bilingual En-X training never sees, so the
method predicts its largest lead on bitext mining between two non-English languages
(``NTREXBitextMining.mwalign-xy``). The subsets fall into four kinds: a pair with English, two seen
languages, a seen with an unseen language, and two unseen ones. Scores are the task's main score (F1) of the
headline methods at the paper's reading (the same pairs), per seed, averaged over each kind's subsets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mwalign.evaluation.tasks.ntrex import XY_NAME

KINDS = ["with English", "X-Y, both seen", "seen × unseen", "both unseen"]
PHRASES = dict(zip(KINDS, ["pairs with English", "X-Y pairs of two seen languages",
                           "pairs of a seen and an unseen language", "pairs of two unseen languages"]))
METHODS = ["bilingual", "multiway"]


def _kind(languages: str, seen: set[str]) -> str:
    codes = languages.split(",")
    if "eng" in codes:
        return KINDS[0]
    known = sum(code in seen for code in codes)
    return KINDS[1] if known == len(codes) else KINDS[2] if known else KINDS[3]


def _headline_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """The X-Y task's scores of the unaligned encoder's two headline methods, each subset with its pair kind (a
    language is seen when it occurs in a subset of the seen group)."""
    part = scores[(scores["task"] == XY_NAME) & scores["method"].isin(METHODS) & (scores["role"] == "unaligned")]
    seen = {code for langs in part.loc[part["group"] == "seen", "languages"] for code in langs.split(",")}
    return part.assign(kind=part["languages"].map(lambda langs: _kind(langs, seen)))


def per_seed(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean F1 (×100) per (base, kind, method, seed) on the X-Y task; empty when the run did not score it."""
    part = _headline_rows(scores)
    if part.empty:
        return pd.DataFrame(columns=["base", "kind", "method", "seed", "score"])
    means = part.groupby(["base", "kind", "method", "seed"])["score"].mean().mul(100)
    return means.reset_index()


def xy_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Per base model and pair kind: both methods' mean F1 over seeds, multi-way's lead and its sd over seeds."""
    seeds = per_seed(scores)
    columns = ["base", "pair kind", "pairs", "bilingual", "multi-way", "lead", "lead sd", "seeds"]
    if seeds.empty:
        return pd.DataFrame(columns=columns)
    wide = seeds.pivot_table(index=["base", "kind", "seed"], columns="method", values="score").dropna()
    if not set(METHODS) <= set(wide.columns):
        return pd.DataFrame(columns=columns)
    wide["lead"] = wide["multiway"] - wide["bilingual"]
    counts = _headline_rows(scores).drop_duplicates(["base", "subset"]).groupby(["base", "kind"]).size().to_dict()
    rows = []
    for (base, kind), group in wide.groupby(level=["base", "kind"]):
        rows.append({"base": base, "pair kind": kind, "pairs": counts.get((base, kind), 0),
                     "bilingual": group["bilingual"].mean(), "multi-way": group["multiway"].mean(),
                     "lead": group["lead"].mean(), "lead sd": group["lead"].std(ddof=1) if len(group) > 1 else np.nan,
                     "seeds": len(group)})
    table = pd.DataFrame(rows, columns=columns)
    table["_order"] = table["pair kind"].map(KINDS.index)
    return table.sort_values(["base", "_order"]).drop(columns="_order").reset_index(drop=True).round(2)


def xy_text(table: pd.DataFrame) -> str:
    """Where multi-way leads, against the spread over seeds, and whether its lead is larger without English."""
    if table.empty:
        return "The run did not score the X-Y bitext task (evaluation.tasks) for both methods."
    parts = []
    for base, rows in table.groupby("base", sort=False):
        rows = rows.set_index("pair kind")
        said = []
        for kind, row in rows.iterrows():
            sd = row["lead sd"]
            clear = ("" if np.isnan(sd) else
                     ", beyond twice its seed sd" if abs(row["lead"]) > 2 * sd else ", within twice its seed sd")
            how = ("ties" if round(row["lead"], 1) == 0 else
                   f"{'leads' if row['lead'] > 0 else 'trails'} by {abs(row['lead']):.1f} F1")
            said.append(f"{how} on {PHRASES[kind]} ({row['pairs']} directions{clear})")
        sentence = f"{base}: multi-way " + "; ".join(said) + "."
        if {KINDS[0], KINDS[1]} <= set(rows.index):
            with_english, without = rows.loc[KINDS[0], "lead"], rows.loc[KINDS[1], "lead"]
            if round(without - with_english, 1) > 0:
                sentence += (" Multi-way does better against bilingual between two non-English seen languages than "
                             f"on pairs with English ({without:+.1f} against {with_english:+.1f}), the direction "
                             "every-language anchors predict" + ("." if without > 0 else
                                                                 ", though it does not lead there."))
            else:
                sentence += (" Multi-way does no better against bilingual between two non-English seen languages "
                             f"than on pairs with English ({without:+.1f} against {with_english:+.1f}): the "
                             "advantage the method predicts for X-Y pairs does not show here.")
        parts.append(sentence)
    return " ".join(parts)


def plot_xy(scores: pd.DataFrame):
    """Multi-way minus bilingual F1 (×100, mean over seeds) for every ordered pair of the headline base model."""
    import matplotlib.pyplot as plt

    part = _headline_rows(scores)
    if part.empty:
        return None
    base = sorted(part["base"].unique())[0]
    part = part[part["base"] == base]
    means = part.groupby(["languages", "method"])["score"].mean().unstack("method")
    lead = (means["multiway"] - means["bilingual"]).mul(100)
    pairs = pd.DataFrame([langs.split(",") for langs in lead.index], columns=["source", "target"], index=lead.index)
    grid = pd.concat([pairs, lead.rename("lead")], axis=1).pivot(index="source", columns="target", values="lead")
    order = ["eng", *sorted(code for code in set(grid.index) | set(grid.columns) if code != "eng")]
    grid = grid.reindex(index=[c for c in order if c in grid.index], columns=[c for c in order if c in grid.columns])
    limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    fig, ax = plt.subplots(figsize=(0.55 * len(grid.columns) + 2.2, 0.5 * len(grid.index) + 1.4))
    image = ax.imshow(grid.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit)
    ax.set_xticks(range(len(grid.columns)), grid.columns, fontsize=8)
    ax.set_yticks(range(len(grid.index)), grid.index, fontsize=8)
    ax.set_xlabel("target (retrieved among the target side's lines)")
    ax.set_ylabel("source")
    ax.set_title(f"{base}: multi-way minus bilingual F1 (×100)", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig
