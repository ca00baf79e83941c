"""The encoders of a run against the paper's: which stand-in fills each role, how it was made, how aligned it is.

Generated from the profile and the model recipes (:data:`mwalign.models.recipes.LOCAL_MODELS`), so the
table changes when ``training.models``, ``training.controls`` or ``me5.model`` do. The measured base
alignment comes from the base-alignment table (``BASE_ALIGNMENT`` in the run folder) when a run wrote one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mwalign.config import RunConfig
from mwalign.models.recipes import LOCAL_MODELS
from mwalign.reporting import readings
from mwalign.reporting.base_alignment import untrained_alignment
from mwalign.reporting.tables import NOT_APPLICABLE

PAPER_MODELS = {"unaligned": "XLM-R base, mBERT base", "control": "(none)", "me5": "multilingual-e5 (size not stated)"}
# Where the untrained encoders' alignment table is looked for, in order (run folder relative).
BASE_ALIGNMENT = ("results/base_alignment.parquet", "models/base_alignment.parquet")


def load_base_alignment(run_dir: Path) -> pd.DataFrame:
    """The untrained encoders' alignment table (a ``model`` column and score columns); empty if none."""
    for relative in BASE_ALIGNMENT:
        path = Path(run_dir) / relative
        if path.is_file():
            return pd.read_parquet(path)
    return pd.DataFrame()


def encoders_table(cfg: RunConfig, run_dir: Path) -> pd.DataFrame:
    """One row per encoder of the run: role, the paper's model, the one used here, how it was made, seeds and
    (when measured) its untrained alignment."""
    alignment = load_base_alignment(run_dir)
    t = cfg.training
    rows = [_row(cfg, "unaligned", base, t.seeds, alignment) for base in t.models]
    rows += [_row(cfg, "control", c.model, c.seeds, alignment, c.label) for c in t.controls]
    if cfg.me5.enabled:
        rows.append(_row(cfg, "me5", cfg.me5.model, cfg.me5_seeds, alignment))
    return readings.attach(pd.DataFrame(rows).set_index("role"), _encoders_reading(cfg, alignment))


def _encoders_reading(cfg: RunConfig, alignment: pd.DataFrame) -> str:
    """How much more aligned, before training, the mE5 role starts than each unaligned stand-in."""
    if alignment.empty or "model" not in alignment.columns:
        return "The run measured no untrained alignment, so the roles' starting points are not compared."
    if not cfg.me5.enabled:
        return "The profile fine-tunes no mE5, so no already aligned encoder is compared."
    aligned = untrained_alignment(alignment, cfg.me5.model, cfg)
    parts, ahead_everywhere = [], True
    for base in cfg.training.models:
        start = untrained_alignment(alignment, base, cfg)
        ahead = {k.removeprefix("untrained "): aligned[k] - v for k, v in start.items() if pd.notna(aligned[k] - v)}
        if ahead:
            ahead_everywhere &= all(d > 0 for d in ahead.values())
            parts.append(f"{cfg.me5.model} minus {base}, both untrained: "
                         + ", ".join(f"{k} {d:+.1f}" for k, d in ahead.items()))
    if not parts:
        return "The untrained alignment of these encoders was not measured."
    return "; ".join(parts) + (
        ": the already aligned role starts where the unaligned one is trained to get, the contrast the paper "
        "draws between mE5 and XLM-R/mBERT." if ahead_everywhere else
        ": the mE5 role is not ahead on every measure, so the stand-ins do not mirror the paper's contrast.")


def _row(cfg: RunConfig, role: str, name: str, seeds: list[int], alignment: pd.DataFrame,
         label: str | None = None) -> dict:
    spec = LOCAL_MODELS.get(name)
    made = spec.description if spec else "hub model, used as released"
    return {"role": role if label is None else f"control: {label}", "paper": PAPER_MODELS[role], "here": name,
            "how it was made": made, "seeds": len(seeds), "untrained alignment": _alignment(alignment, name, cfg)}


def _alignment(alignment: pd.DataFrame, name: str, cfg: RunConfig) -> str:
    """The model's untrained Tatoeba accuracy and STS17 mean (the base-alignment table's, with the prompt the
    evaluation gives it)."""
    if alignment.empty or "model" not in alignment.columns:
        return NOT_APPLICABLE
    levels = untrained_alignment(alignment, name, cfg)
    shown = [f"{label.removeprefix('untrained ')} {value:.1f}" for label, value in levels.items() if pd.notna(value)]
    return "; ".join(shown) or NOT_APPLICABLE
