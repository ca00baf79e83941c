"""Chapter 01 tables and figures: what the corpus holds, what the filters dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mwalign import languages


@dataclass
class CorpusData:
    manifest: dict
    translations: pd.DataFrame
    multiway: pd.DataFrame
    bilingual: pd.DataFrame
    dev: pd.DataFrame


def load_data(run_dir: Path) -> CorpusData:
    folder = Path(run_dir) / "corpus"
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no corpus manifest; run the data stage first (mwalign corpus)")
    read = lambda name: pd.read_parquet(folder / f"{name}.parquet")  # noqa: E731
    return CorpusData(
        manifest=json.loads(manifest_path.read_text()),
        translations=read("translations"),
        multiway=read("multiway"),
        bilingual=read("bilingual"),
        dev=read("dev"),
    )


def _language_counts(rows: pd.DataFrame) -> pd.Series:
    return rows["languages"].explode().value_counts()


def counts_table(data: CorpusData) -> pd.DataFrame:
    """Per language: translated sentences kept, and how often it appears in each training corpus."""
    langs = ["eng", *data.manifest["pool"]]
    kept = data.translations[langs].notna().sum()
    multiway, bilingual = _language_counts(data.multiway), _language_counts(data.bilingual)
    table = pd.DataFrame(
        {
            "language": [languages.get(code).name for code in langs],
            "kept translations": [int(kept[c]) for c in langs],
            "multi-way rows": [int(multiway.get(c, 0)) for c in langs],
            "bilingual rows": [int(bilingual.get(c, 0)) for c in langs],
            "dev rows": [int(_language_counts(data.dev).get(c, 0)) for c in langs],
        },
        index=pd.Index(langs, name="code"),
    )
    return table


def budget_table(data: CorpusData) -> pd.DataFrame:
    """Rows, distinct English roots and positive pairs in each corpus: the fair-comparison control."""

    def summarise(rows: pd.DataFrame) -> dict:
        sizes = rows["languages"].map(len)
        return {
            "rows": len(rows),
            "English roots": rows["root_id"].nunique(),
            "sentences": int(sizes.sum()),
            "positive pairs": int((sizes * (sizes - 1) // 2).sum()),
        }

    return pd.DataFrame({"multi-way": summarise(data.multiway), "bilingual En-X": summarise(data.bilingual)}).T


NO_TRANSLATION_NOTE = "no kept translation of that root into that language."


def sample_rows(data: CorpusData, n: int = 4) -> pd.DataFrame:
    """The first ``n`` roots with every kept translation (one column per language)."""
    return data.translations.head(n).set_index("root_id").T


def lengths(data: CorpusData) -> pd.DataFrame:
    """Long table of sentence lengths in characters, per language."""
    langs = ["eng", *data.manifest["pool"]]
    long = data.translations.melt(id_vars="root_id", value_vars=langs, var_name="language", value_name="text")
    long = long.dropna(subset=["text"])
    long["characters"] = long["text"].str.len()
    return long[["language", "characters"]]


def plot_lengths(data: CorpusData):
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = lengths(data)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    sns.boxplot(data=table, x="language", y="characters", ax=ax, color="#8fb3d9", fliersize=1.5)
    ax.set_title("Sentence length per language (characters)")
    ax.set_xlabel("")
    fig.tight_layout()
    return fig
