"""Method chapter: untrained alignment of the stand-in cuts next to the paper's models' published level.

The run's ``results/base_alignment.parquet`` (evaluation.base_alignment) gives Tatoeba accuracy and STS17
Spearman per cut x prompt; XLM-R and mBERT have no Tatoeba row here, only their STS17 levels as published
in the sentence-transformers documentation (Multilingual Models, training: mean pooling, before training),
:data:`mwalign.evaluation.base_alignment.PUBLISHED_STS17`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mwalign.evaluation.base_alignment import PUBLISHED_SOURCE, PUBLISHED_STS17, STS17_SUBSETS, closest_to_paper

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
    return pd.concat([measured, published], ignore_index=True).round(1)


def chosen_layers(frame: pd.DataFrame, prompt: str = "") -> int:
    """The cut whose untrained STS17 mean is closest to the paper's models (see ``closest_to_paper``)."""
    return closest_to_paper(frame, prompt)


def choice_sentence(frame: pd.DataFrame, trained: list[str], prompt: str = "") -> str:
    """One sentence for the chapter: the cut the rule picks, and whether the profile trains that one."""
    if not (frame["layers"].notna() & (frame["prompt"] == prompt)).any():
        return "This run measured no cut of mE5 (its base-alignment table holds other encoders only)."
    layers = chosen_layers(frame, prompt)
    picked = f"me5-small-l{layers}"
    cuts = [m for m in trained if m.startswith("me5-small-l")]
    if not cuts:
        verdict = "this profile trains no cut of mE5."
    elif picked in cuts:
        verdict = f"the profile trains `{picked}` as the unaligned encoder."
    else:
        verdict = f"the profile trains {', '.join(f'`{c}`' for c in cuts)}, not the rule's pick."
    return (f"Closest untrained STS17 mean to XLM-R/mBERT ({_prompt_label(prompt)} prompt): L = {layers}; "
            + verdict)
