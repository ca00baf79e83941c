"""Chapter 01: how close each translation backend comes to NTREX-128's human references."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mwalign import languages
from mwalign.reporting import readings

NOISY_BELOW = 30.0  # chrF under which a translation is more noise than paraphrase (a reading's threshold)


def load_data(run_dir: Path) -> pd.DataFrame:
    path = Path(run_dir) / "corpus" / "quality.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no translation-quality table; run the data stage (mwalign corpus)")
    return pd.read_parquet(path)


NOT_USED_NOTE = "not applicable: the profile does not translate that language with that backend."


def table(quality: pd.DataFrame) -> pd.DataFrame:
    """chrF and BLEU per language (rows) and backend (columns)."""
    wide = quality.pivot_table(index="language", columns="backend", values=["chrF", "BLEU"])
    return readings.attach(wide.round(1), quality_reading(quality))


def _name(code: str) -> str:
    return languages.get(code).name


def quality_reading(quality: pd.DataFrame) -> str:
    """What :func:`table` shows: each backend's range, where backends share a language, and the noisy ones."""
    if quality.empty:
        return "No backend was scored."
    parts = []
    for backend, rows in quality.groupby("backend", sort=False):
        rows = rows.set_index("language")["chrF"]
        low, high = rows.idxmin(), rows.idxmax()
        parts.append(f"{backend}: chrF {rows[low]:.1f} ({_name(low)})" + (
            f" to {rows[high]:.1f} ({_name(high)}), mean {rows.mean():.1f}" if len(rows) > 1 else ""))
    shared = quality.pivot_table(index="language", columns="backend", values="chrF").dropna()
    if shared.shape[1] == 2 and len(shared):
        first, second = shared.columns
        for code, row in shared.iterrows():
            parts.append(f"on {_name(code)}, {second} is {row[second] - row[first]:+.1f} chrF against {first}")
    noisy = quality[quality["chrF"] < NOISY_BELOW]
    if len(noisy):
        parts.append(f"below chrF {NOISY_BELOW:g}: " + ", ".join(
            f"{_name(r.language)} ({r.backend})" for r in noisy.itertuples())
            + ": the languages whose training rows are translated worst")
    return readings.join(parts, "")


def plot(quality: pd.DataFrame):
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(7, 3.2))
    sns.barplot(data=quality, x="language", y="chrF", hue="backend", ax=ax, palette="Set2")
    ax.set_title(f"chrF against NTREX-128 human references ({int(quality['n'].max())} sentences)")
    ax.set_xlabel("")
    ax.set_ylim(0, 100)
    fig.tight_layout()
    low, high = quality.loc[quality["chrF"].idxmin()], quality.loc[quality["chrF"].idxmax()]
    return readings.attach_figure(fig, (
        f"The bars span {high['chrF'] - low['chrF']:.1f} chrF points, from {_name(low['language'])} "
        f"({low['backend']}, {low['chrF']:.1f}) to {_name(high['language'])} ({high['backend']}, "
        f"{high['chrF']:.1f}): the corpus's languages are translated unevenly well, and the sensitivity study "
        "below asks whether that matters for alignment."))


def conditions_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity study's corpora: chrF per condition (rows) and language, with the mean and the backends."""
    wide = sensitivity.pivot_table(index="condition", columns="language", values="chrF")
    wide["mean chrF"] = wide.mean(axis=1)
    backends = sensitivity.groupby("condition")["backend"].agg(lambda b: ", ".join(dict.fromkeys(b)))
    wide["backends"] = backends
    wide["roots"] = sensitivity.groupby("condition")["n"].max()
    wide = wide.sort_values("mean chrF").round(1)
    return readings.attach(wide, conditions_reading(wide, list(sensitivity["language"].unique())))


def conditions_reading(wide: pd.DataFrame, langs: list[str]) -> str:
    """What :func:`conditions_table` shows: how far apart the conditions are, and in which languages."""
    if len(wide) < 2:
        return "One condition only: the study has nothing to contrast."
    means = ", ".join(f"{c} {m:.1f}" for c, m in wide["mean chrF"].items())
    machine = wide[wide["backends"] != "reference"]
    differ = [code for code in langs if machine[code].max() - machine[code].min() >= 0.1] if len(machine) > 1 else []
    if len(machine) > 1:
        where = ("the machine-translated conditions differ only in " if differ else
                 "the machine-translated conditions have the same chrF in every language")
        where += ", ".join(f"{_name(c)} ({machine[c].min():.1f} to {machine[c].max():.1f})" for c in differ)
        where += (": elsewhere their rows are the same text, so their contrast rests on "
                  f"{'that language' if len(differ) == 1 else 'those languages'}" if differ else "")
    else:
        where = ""
    return readings.join([f"Mean chrF per condition: {means}", where], "")
