"""Method chapter: untrained alignment of the stand-in cuts next to the paper's models' published level.

The run's ``results/base_alignment.parquet`` (evaluation.base_alignment) gives Tatoeba accuracy and STS17
Spearman per cut x prompt; XLM-R and mBERT have no Tatoeba row here, only their STS17 levels as published
in the sentence-transformers documentation (Multilingual Models, training: mean pooling, before training),
:data:`mwalign.evaluation.base_alignment.PUBLISHED_STS17`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mwalign.config import RunConfig
from mwalign.evaluation.base_alignment import PUBLISHED_SOURCE, PUBLISHED_STS17, STS17_SUBSETS, closest_to_paper
from mwalign.evaluation.harness import choose_prompt
from mwalign.reporting import readings

FULL_DEPTH = {"me5-small": "me5-small-l12"}  # the uncut model's row in the table
_PAIR_LABELS = {"es-en": "STS17 es-en", "en-tr": "STS17 tr-en", "en-ar": "STS17 ar-en"}


def load_data(run_dir: Path) -> pd.DataFrame:
    path = Path(run_dir) / "results" / "base_alignment.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no base-alignment table; set evaluation.base_alignment and run evaluate")
    return pd.read_parquet(path)


def _prompt_label(prompt: str) -> str:
    return "none" if prompt == "" else repr(prompt)


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Measured rows (model x prompt), then the published XLM-R / mBERT rows (Tatoeba not published: blank)."""
    pairs = [s for s in STS17_SUBSETS if frame[f"sts17_{s}"].notna().any()]
    measured = pd.DataFrame({
        "model": frame["model"], "prompt": frame["prompt"].map(_prompt_label), "source": "measured (this run)",
        "Tatoeba acc.": frame["tatoeba_accuracy"],
        **{_PAIR_LABELS[s]: frame[f"sts17_{s}"] for s in pairs},
        "STS17 mean": frame["sts17_mean"],
    })  # fmt: skip
    published = pd.DataFrame([
        {"model": name, "prompt": "none", "source": PUBLISHED_SOURCE, "Tatoeba acc.": float("nan"),
         **{_PAIR_LABELS[s]: levels[s] for s in pairs},
         "STS17 mean": sum(levels[s] for s in pairs) / len(pairs)}
        for name, levels in PUBLISHED_STS17.items()
    ])  # fmt: skip
    return readings.attach(pd.concat([measured, published], ignore_index=True).round(1), depth_reading(frame))


def depth_reading(frame: pd.DataFrame) -> str:
    """What :func:`table` shows: how the cuts' untrained alignment moves with depth, and what the prompt does."""
    cuts = frame[frame["layers"].notna()]
    plain = cuts[cuts["prompt"] == ""].sort_values("layers")
    parts = []
    for column, name in (("tatoeba_accuracy", "Tatoeba accuracy"), ("sts17_mean", "the STS17 mean")):
        values = plain.set_index("layers")[column].dropna()
        if len(values) < 2:
            continue
        low = values.idxmin()
        dip = (f", through a low of {values[low]:.1f} at L = {low}: not monotone in depth"
               if low not in (values.index[0], values.index[-1]) else "")
        parts.append(f"{name} goes from {values.iloc[0]:.1f} at L = {values.index[0]} to {values.iloc[-1]:.1f} "
                     f"at L = {values.index[-1]}{dip}")
    gaps = (cuts[cuts["prompt"] != ""].set_index("layers")["sts17_mean"]
            - plain.set_index("layers")["sts17_mean"]).dropna()
    if len(gaps):
        parts.append(f"the `query: ` prompt changes the STS17 mean by {gaps.mean():+.1f} on average over the cuts")
    lead = "Untrained, without a prompt, " if parts else ""
    return lead + readings.join(parts, "No two cuts of mE5 were measured.")


def chosen_layers(frame: pd.DataFrame, prompt: str = "", max_layers: int | None = None) -> int:
    """The cut whose untrained STS17 mean is closest to the paper's models (see ``closest_to_paper``)."""
    return closest_to_paper(frame, prompt, max_layers)


def choice_sentence(frame: pd.DataFrame, trained: list[str], prompt: str = "", max_layers: int | None = None,
                    studied: list[str] = ()) -> str:
    """One sentence for the chapter: the cut the rule picks (within the budget's cap), and whether the profile
    trains that one."""
    if not (frame["layers"].notna() & (frame["prompt"] == prompt)).any():
        return "This run measured no cut of mE5 (its base-alignment table holds other encoders only)."
    layers = chosen_layers(frame, prompt, max_layers)
    uncapped = chosen_layers(frame, prompt)
    picked = f"me5-small-l{layers}"
    cuts = [m for m in trained if m.startswith("me5-small-l")]
    if not cuts:
        verdict = "this profile trains no cut of mE5."
    elif picked in cuts:
        verdict = f"the profile trains `{picked}` as the unaligned encoder."
    else:
        verdict = f"the profile trains {', '.join(f'`{c}`' for c in cuts)}, not the rule's pick."
    cap = ""
    if max_layers is not None:
        cap = (f" among cuts of at most {max_layers} layers (evaluation.base_alignment.max_layers, the training "
               "budget)" + (f"; without the cap the rule would pick L = {uncapped}" if uncapped != layers else "")
               + (", which the depth study trains" if uncapped != layers and f"me5-small-l{uncapped}" in studied
                  else ""))
    return (f"Closest untrained STS17 mean to XLM-R/mBERT ({_prompt_label(prompt)} prompt){cap}: L = {layers}; "
            + verdict)


def untrained_alignment(alignment: pd.DataFrame, base: str, cfg: RunConfig) -> dict[str, float]:
    """A base model's untrained Tatoeba accuracy and STS17 mean (×100), with the prompt its evaluation uses."""
    name = FULL_DEPTH.get(base, base)
    prompt = choose_prompt([base], cfg.evaluation.prompts)  # as the evaluation picks it, by the base name
    rows = alignment[(alignment["model"] == name) & (alignment["prompt"] == prompt)] if len(alignment) else alignment
    if rows.empty:
        return {"untrained Tatoeba": float("nan"), "untrained STS17": float("nan")}
    row = rows.iloc[0]
    return {"untrained Tatoeba": float(row["tatoeba_accuracy"]), "untrained STS17": float(row["sts17_mean"])}
