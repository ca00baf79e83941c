"""Chapter 01: how close each translation backend comes to NTREX-128's human references."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def load_data(run_dir: Path) -> pd.DataFrame:
    path = Path(run_dir) / "corpus" / "quality.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no translation-quality table; run the data stage (mwalign corpus)")
    return pd.read_parquet(path)


NOT_USED_NOTE = "not applicable: the profile does not translate that language with that backend."


def table(quality: pd.DataFrame) -> pd.DataFrame:
    """chrF and BLEU per language (rows) and backend (columns)."""
    wide = quality.pivot_table(index="language", columns="backend", values=["chrF", "BLEU"])
    return wide.round(1)


def plot(quality: pd.DataFrame):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(7, 3.2))
    sns.barplot(data=quality, x="language", y="chrF", hue="backend", ax=ax, palette="Set2")
    ax.set_title(f"chrF against NTREX-128 human references ({int(quality['n'].max())} sentences)")
    ax.set_xlabel("")
    ax.set_ylim(0, 100)
    fig.tight_layout()
    return fig


def conditions_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity study's corpora: chrF per condition (rows) and language, with the mean and the backends."""
    wide = sensitivity.pivot_table(index="condition", columns="language", values="chrF")
    wide["mean chrF"] = wide.mean(axis=1)
    backends = sensitivity.groupby("condition")["backend"].agg(lambda b: ", ".join(dict.fromkeys(b)))
    wide["backends"] = backends
    wide["roots"] = sensitivity.groupby("condition")["n"].max()
    return wide.sort_values("mean chrF").round(1)
