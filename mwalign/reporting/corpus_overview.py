"""Chapter 01 tables and figures: what the corpus holds, what the filters dropped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mwalign import languages
from mwalign.reporting import readings


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
    return readings.attach(table, counts_reading(table, data))


def _name(table: pd.DataFrame, code: str) -> str:
    return str(table.loc[code, "language"])


def _range(table: pd.DataFrame, column: str, codes: list[str]) -> str:
    """'316 (Portuguese) to 423 (Macedonian)': the column's extremes over ``codes``, named."""
    values = table.loc[codes, column]
    low, high = values.idxmin(), values.idxmax()
    return f"{values[low]:,} ({_name(table, low)}) to {values[high]:,} ({_name(table, high)})"


def counts_reading(table: pd.DataFrame, data: CorpusData) -> str:
    """What :func:`counts_table` shows: how unevenly the filters and the draws spread the pool languages."""
    pool = [c for c in table.index if c != "eng"]
    if not pool:
        return "The pool is empty: no language is translated."
    parts = [f"English supplies {table.loc['eng', 'kept translations']:,} roots; the pool languages keep "
             f"{_range(table, 'kept translations', pool)} translations"]
    drops = {code: sum(reasons.values()) for code, reasons in
             data.manifest.get("counts", {}).get("filter_drops", {}).items() if code in pool}
    if drops and max(drops.values()) > 0:
        worst = max(drops, key=drops.get)
        reasons = data.manifest["counts"]["filter_drops"][worst]
        main = max(reasons, key=reasons.get).replace("_", " ")
        parts.append(f"the filters drop most from {_name(table, worst)} ({drops[worst]:,}, mostly for {main})")
    n_multi, n_bi = len(data.multiway), len(data.bilingual)
    if n_multi:
        size = data.multiway["languages"].map(len).mean()
        parts.append(f"a multi-way row holds {size:.0f} languages on average, and each pool language is in "
                     f"{_range(table, 'multi-way rows', pool)} of the {n_multi:,} multi-way rows")
    if n_bi:
        follows = (len(pool) > 2 and table.loc[pool, "kept translations"]
                   .corr(table.loc[pool, "bilingual rows"], method="spearman") > 0.5)
        parts.append(f"each pool language is the X of {_range(table, 'bilingual rows', pool)} of the {n_bi:,} "
                     f"bilingual rows (an even split would give {n_bi / len(pool):,.0f} each)"
                     + (", more where more translations were kept" if follows else ""))
        top = table.loc[pool, "bilingual rows"].nlargest(2)
        if len(top) == 2 and len(pool) > 2:
            parts.append(f"the two most frequent, {_name(table, top.index[0])} and {_name(table, top.index[1])}, "
                         f"are the X of {top.sum() / n_bi:.0%} of them")
    return readings.join(parts, "")


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

    table = pd.DataFrame({"multi-way": summarise(data.multiway), "bilingual En-X": summarise(data.bilingual)}).T
    return readings.attach(table, budget_reading(table))


def budget_reading(table: pd.DataFrame) -> str:
    """What :func:`budget_table` shows: what else differs when the positive pairs are held equal."""
    multi, bi = table.loc["multi-way"], table.loc["bilingual En-X"]
    if not multi["rows"] or not bi["rows"]:
        return "One of the corpora is empty, so the budget compares nothing."
    ratio = lambda column: bi[column] / multi[column]  # noqa: E731
    pairs = ("the same number of positive pairs" if abs(ratio("positive pairs") - 1) < 0.01 else
             f"{ratio('positive pairs'):.2f}x the positive pairs")
    return (f"The bilingual corpus holds {pairs} as the multi-way one ({bi['positive pairs']:,} against "
            f"{multi['positive pairs']:,}), but {ratio('rows'):.1f}x its rows, {ratio('sentences'):.1f}x its "
            f"sentences and {ratio('English roots'):.1f}x its distinct English roots. At a fixed batch of rows, "
            f"bilingual training also takes {ratio('rows'):.1f}x the optimiser steps per epoch: this is why the "
            "Results chapter compares the methods at equal steps and at equal sentences as well as at equal pairs.")


NO_TRANSLATION_NOTE = "no kept translation of that root into that language."


def sample_rows(data: CorpusData, n: int = 4) -> pd.DataFrame:
    """The first ``n`` roots with every kept translation (one column per language)."""
    table = data.translations.head(n).set_index("root_id").T
    gaps = table.isna().sum()
    complete = int((gaps == 0).sum())
    text = (f"{complete} of the {table.shape[1]} roots shown have a kept translation in every language"
            + (f"; {'the other lacks' if table.shape[1] - complete == 1 else 'the others lack'} "
               f"{', '.join(str(g) for g in gaps[gaps > 0])} languages (—: dropped by the filters, so the root "
               "joins rows of fewer languages)." if complete < table.shape[1] else "."))
    return readings.attach(table, text)


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
    return readings.attach_figure(fig, lengths_reading(table))


def lengths_reading(table: pd.DataFrame) -> str:
    """What :func:`plot_lengths` shows: median lengths and how far translations stray from English."""
    medians = table.groupby("language")["characters"].median()
    if "eng" not in medians or len(medians) < 2:
        return "Too few languages to compare lengths."
    others = medians.drop("eng") / medians["eng"]
    long, short = others.idxmax(), others.idxmin()
    name = lambda code: languages.get(code).name  # noqa: E731
    return (f"Median length: English {medians['eng']:.0f} characters; translations from {medians[short]:.0f} "
            f"({name(short)}, {others[short]:.2f}x English) to {medians[long]:.0f} ({name(long)}, "
            f"{others[long]:.2f}x). The length filters (corpus.min_chars, corpus.max_chars, "
            "corpus.max_length_ratio) keep the translations close to their English roots in length.")
