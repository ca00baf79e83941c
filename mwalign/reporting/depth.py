"""Chapter 05, beyond the paper: does multi-way training gain less for an encoder that is already aligned?

The abstract reports large gains for XLM-R and mBERT (unaligned) and only "improves" for mE5 (aligned). The
depth study (``training.depth``) trains both methods on stand-ins of several depths at one corpus fraction;
the headline model's point at that fraction is the scaling study's. Each model's untrained alignment is the
base-alignment table's (chapter 04: Tatoeba accuracy and STS17 Spearman before training, with the prompt the
evaluation gives that model).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mwalign.config import RunConfig
from mwalign.reporting.base_alignment import untrained_alignment
from mwalign.reporting.results import relative_gains
from mwalign.training.stage import scaling_method



def depth_bases(cfg: RunConfig) -> list[str]:
    """The headline model(s) and the depth study's models, in that order (empty without a depth study)."""
    depth = cfg.training.depth
    return [] if depth is None else [*cfg.training.models, *depth.models]


def depth_table(scores: pd.DataFrame, cfg: RunConfig, alignment: pd.DataFrame | None) -> pd.DataFrame:
    """Per base model and task type at the depth fraction: the multi-way gain over bilingual (%, t-interval over
    seeds) beside the model's untrained alignment, least aligned first."""
    bases = depth_bases(cfg)
    if not bases:
        return pd.DataFrame()
    fraction = cfg.training.depth.fraction
    names = {scaling_method(m, fraction): m for m in ("multiway", "bilingual")}
    rows = scores[scores["base"].isin(bases) & scores["method"].isin(names)]
    gains = relative_gains(rows.assign(method=rows["method"].map(names)))
    if gains.empty:
        return gains
    alignment = pd.DataFrame() if alignment is None else alignment  # not measured: the levels stay empty
    levels = pd.DataFrame([{"base": b, **untrained_alignment(alignment, b, cfg)} for b in bases])
    table = gains.merge(levels, on="base").sort_values(["task type", "untrained Tatoeba"])
    return table[["task type", "base", "untrained Tatoeba", "untrained STS17", "seeds", "bilingual", "multi-way",
                  "gain %", "ci low", "ci high"]].reset_index(drop=True)


def plot_depth(table: pd.DataFrame):
    """The gain (with its interval where seeds allow) against untrained Tatoeba accuracy, one panel per task type."""
    import matplotlib.pyplot as plt

    task_types = list(dict.fromkeys(table["task type"]))
    fig, axes = plt.subplots(1, len(task_types), figsize=(4.2 * len(task_types), 3.4), squeeze=False)
    for ax, task_type in zip(axes[0], task_types):
        part = table[table["task type"] == task_type]
        low = (part["gain %"] - part["ci low"]).fillna(0)
        high = (part["ci high"] - part["gain %"]).fillna(0)
        ax.errorbar(part["untrained Tatoeba"], part["gain %"], yerr=[low, high], fmt="o-", capsize=3)
        for _, row in part.iterrows():
            ax.annotate(row["base"], (row["untrained Tatoeba"], row["gain %"]), fontsize=7,
                        textcoords="offset points", xytext=(3, 4))
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("untrained Tatoeba accuracy ×100")
        ax.set_ylabel("multi-way gain over bilingual, %")
        ax.set_title(task_type)
    fig.tight_layout()
    return fig


def depth_text(table: pd.DataFrame) -> str:
    """What the depth table shows, in words from its numbers: per task type, the gain of the least and the most
    aligned encoder, and whether it falls as untrained alignment rises (the paper's implied pattern)."""
    if table.empty:
        return "The profile runs no depth study (training.depth), so the pattern is not tested here."
    parts = []
    for task_type, part in table.groupby("task type", sort=False):
        part = part.dropna(subset=["untrained Tatoeba"]).sort_values("untrained Tatoeba")
        if len(part) < 2:
            continue
        least, most = part.iloc[0], part.iloc[-1]
        order = np.corrcoef(part["untrained Tatoeba"], part["gain %"])[0, 1] if len(part) > 2 else np.sign(
            most["gain %"] - least["gain %"])
        pattern = ("falls as the untrained encoder is more aligned, as the paper implies" if order < 0 else
                   "does not fall as the untrained encoder is more aligned, against what the paper implies")
        parts.append(f"{task_type}: the gain is {least['gain %']:+.1f}% for {least['base']} (untrained Tatoeba "
                     f"{least['untrained Tatoeba']:.1f}) and {most['gain %']:+.1f}% for {most['base']} "
                     f"({most['untrained Tatoeba']:.1f}); it {pattern}.")
    if not parts:
        return "The depth study has fewer than two encoders with a measured untrained alignment."
    seeds = int(table["seeds"].min())
    caveat = (" One seed per encoder: no interval, so read the pattern as a direction." if seeds < 2 else
              f" Each point has {seeds} seeds; an interval that spans the others' points leaves the order open.")
    return " ".join(parts) + caveat
