"""Beyond the paper: how training changes the embedding space.

Two views on human-translated, multi-way parallel NTREX-128 sentences (never
used for training): a language x language retrieval-accuracy matrix, and a
language-identity probe (how well a linear classifier tells the language of
a sentence from its embedding; alignment should make that harder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mwalign import atomic, languages, models
from mwalign.corpus.backends.reference import ntrex_file, ntrex_lines
from mwalign.devices import autocast, autocast_dtype
from mwalign.reporting import readings

FIRST_LINE = 1000  # a block of NTREX lines away from the ones chapter 01 translates


@dataclass
class Geometry:
    languages: list[str]
    retrieval: dict[str, pd.DataFrame]  # model label -> language x language retrieval accuracy (0-1)
    probe: dict[str, float]  # model label -> language-probe accuracy (0-1)
    labels: dict[str, str]  # model label -> method
    seeds: dict[str, int | None] = field(default_factory=dict)  # model label -> seed (None: the base model)


CACHE = Path("results") / "geometry.json"  # the measured views, so the chapter re-executes without the models


def study_languages(pool: list[str], unseen: list[str]) -> list[str]:
    """English, then the pool and unseen languages that NTREX-128 has."""
    wanted = ["eng", *pool, *unseen]
    return [code for code in dict.fromkeys(wanted) if languages.get(code).ntrex and ntrex_file(code).is_file()]


def load_data(run_dir: Path, langs: list[str], *, role: str = "unaligned", n_sentences: int = 200,
              dtype: str = "bf16") -> Geometry:
    """Embed the NTREX block with the role's base model and its bilingual and multi-way models of every seed,
    and measure both views.

    The views are kept in ``results/geometry.json`` with what determined them (languages, lines, dtype, each
    model's weight fingerprint) and read back while that holds; where the model folders are absent (a run folder
    restored from committed artifacts) the recorded views are used as they are.
    """
    run_dir = Path(run_dir)
    index = json.loads((run_dir / "models" / "index.json").read_text())
    order = ("base", "bilingual", "multiway")
    chosen = sorted((e for e in index if e["role"] == role and e["method"] in order),
                    key=lambda e: (order.index(e["method"]), -1 if e["seed"] is None else e["seed"]))
    present = all((run_dir / e["path"]).is_dir() for e in chosen)
    key = {"languages": langs, "first_line": FIRST_LINE, "n_sentences": n_sentences, "dtype": dtype,
           "models": {e["label"]: models.fingerprint(run_dir / e["path"]) if present else None for e in chosen}}
    cached = _read_cache(run_dir / CACHE)
    if cached and _key_holds(cached["key"], key):
        return _from_json(cached, order=list(key["models"]))
    texts = {lang: list(ntrex_lines(lang)[FIRST_LINE:FIRST_LINE + n_sentences]) for lang in langs}
    retrieval, probe = {}, {}
    for entry in chosen:
        model = models.load(run_dir / entry["path"])
        with autocast(model.device, autocast_dtype(model.device, dtype)):
            vectors = {lang: model.encode(lines, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
                       for lang, lines in texts.items()}
        retrieval[entry["label"]] = retrieval_matrix(vectors, langs)
        probe[entry["label"]] = language_probe(vectors)
    geometry = Geometry(langs, retrieval, probe, {e["label"]: e["method"] for e in chosen},
                        {e["label"]: e["seed"] for e in chosen})
    atomic.write_json(run_dir / CACHE, _to_json(geometry, key), indent=1, sort_keys=True)
    return geometry


def _read_cache(path: Path) -> dict | None:
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or damaged: measured again
    return cached if isinstance(cached, dict) and {"key", "retrieval", "probe", "labels"} <= set(cached) else None


def _key_holds(recorded: dict, wanted: dict) -> bool:
    """Same settings and models; fingerprints are compared where the model folders are there to fingerprint. The
    file keeps its models sorted by label, so the models compare as a set (the order is the index's, restored
    on reading)."""
    same = {k: v for k, v in recorded.items() if k != "models"} == {k: v for k, v in wanted.items() if k != "models"}
    if not same or set(recorded["models"]) != set(wanted["models"]):
        return False
    return all(new is None or recorded["models"][label] == new for label, new in wanted["models"].items())


def _to_json(geometry: Geometry, key: dict) -> dict:
    return {"key": key, "labels": geometry.labels, "seeds": geometry.seeds, "probe": geometry.probe,
            "retrieval": {label: matrix.to_numpy().tolist() for label, matrix in geometry.retrieval.items()}}


def _from_json(cached: dict, order: list[str] | None = None) -> Geometry:
    """The views as written, models in ``order`` (the run's index order, as when measured; default: the file's)."""
    langs = cached["key"]["languages"]
    order = order or list(cached["retrieval"])
    retrieval = {label: pd.DataFrame(cached["retrieval"][label], index=pd.Index(langs, name="source"),
                                     columns=pd.Index(langs, name="target")) for label in order}
    seeds = cached.get("seeds", {})
    return Geometry(langs, retrieval, {k: float(cached["probe"][k]) for k in order},
                    {k: cached["labels"][k] for k in order}, {k: seeds[k] for k in order if k in seeds})


def retrieval_matrix(vectors: dict[str, np.ndarray], langs: list[str]) -> pd.DataFrame:
    """Share of sentences in the row language whose nearest neighbour in the column language is their translation."""
    matrix = pd.DataFrame(index=pd.Index(langs, name="source"), columns=pd.Index(langs, name="target"), dtype=float)
    for src in langs:
        for tgt in langs:
            nearest = (vectors[src].astype(np.float32) @ vectors[tgt].astype(np.float32).T).argmax(axis=1)
            matrix.loc[src, tgt] = float((nearest == np.arange(len(nearest))).mean())
    return matrix


def language_probe(vectors: dict[str, np.ndarray], folds: int = 5) -> float:
    """Cross-validated accuracy of a logistic-regression language classifier (chance = 1 / languages).

    Folds split by sentence, so a sentence's translations are never split across train and test.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    langs = list(vectors)
    features = np.concatenate([vectors[lang] for lang in langs]).astype(np.float32)
    target = np.repeat(np.arange(len(langs)), [len(vectors[lang]) for lang in langs])
    groups = np.concatenate([np.arange(len(vectors[lang])) for lang in langs])
    classifier = LogisticRegression(max_iter=2000)
    return float(cross_val_score(classifier, features, target, groups=groups, cv=GroupKFold(folds)).mean())


def summary_table(geometry: Geometry) -> pd.DataFrame:
    """Per model: mean off-diagonal retrieval accuracy, and language-probe accuracy against chance."""
    rows = []
    for label, frame in geometry.retrieval.items():
        matrix = frame.to_numpy(dtype=float)
        off_diagonal = matrix[~np.eye(len(matrix), dtype=bool)].mean()
        rows.append({"model": label, "method": geometry.labels[label],
                     "mean cross-lingual retrieval": round(off_diagonal * 100, 1),
                     "language probe accuracy": round(geometry.probe[label] * 100, 1),
                     "probe chance": round(100 / len(geometry.languages), 1)})
    table = pd.DataFrame(rows)
    return readings.attach(table, _summary_reading(table))


def _summary_reading(table: pd.DataFrame) -> str:
    """What :func:`summary_table` shows: each method's mean retrieval and probe accuracy (over its models)."""
    if table.empty:
        return "No model was studied."
    means = table.groupby("method", sort=False)[["mean cross-lingual retrieval", "language probe accuracy"]].mean()
    said = "; ".join(f"{m}: retrieval {r['mean cross-lingual retrieval']:.1f}, probe {r['language probe accuracy']:.1f}"
                     for m, r in means.iterrows())
    chance = table["probe chance"].iloc[0]
    probe = means["language probe accuracy"]
    return (f"Mean over each method's models, {said}. The probe is at {probe.min():.1f} or more against a chance "
            f"of {chance:.1f}: " + ("every model's sentences still carry their language, trained or not."
                                    if probe.min() > 2 * chance else
                                    "some model's sentences no longer carry their language well."))


def _mean_cells(matrix: np.ndarray, langs: list[str], keep) -> float:
    cells = [matrix[i, j] for i, a in enumerate(langs) for j, b in enumerate(langs) if a != b and keep(a, b)]
    return float(np.mean(cells)) if cells else float("nan")


def seed_table(geometry: Geometry) -> pd.DataFrame:
    """Per method: mean ± sd over seeds of retrieval between X and English, between two non-English languages
    (X-Y), over all pairs, and of the language probe (×100)."""
    langs, rows = geometry.languages, []
    for label, frame in geometry.retrieval.items():
        matrix = frame.to_numpy(dtype=float) * 100
        rows.append({"method": geometry.labels[label], "seed": geometry.seeds.get(label),
                     "X-eng retrieval": _mean_cells(matrix, langs, lambda a, b: "eng" in (a, b)),
                     "X-Y retrieval": _mean_cells(matrix, langs, lambda a, b: "eng" not in (a, b)),
                     "all-pairs retrieval": _mean_cells(matrix, langs, lambda a, b: True),
                     "language probe": geometry.probe[label] * 100})
    per_seed = pd.DataFrame(rows)
    columns = ["X-eng retrieval", "X-Y retrieval", "all-pairs retrieval", "language probe"]
    grouped = per_seed.groupby("method", sort=False)
    table = pd.DataFrame({column: [_mean_sd(group[column]) for _, group in grouped] for column in columns},
                         index=pd.Index([method for method, _ in grouped], name="method"))
    table.insert(0, "seeds", [int(group["seed"].notna().sum()) or "—" for _, group in grouped])
    return table


def _mean_sd(values: pd.Series) -> str:
    return f"{values.mean():.1f}" + (f" ± {values.std():.1f}" if len(values) > 1 else "")


def seed_text(geometry: Geometry) -> str:
    """What :func:`seed_table` shows, in words from the numbers: which method retrieves X-Y pairs better and
    which leaves language identity easier to read off, against the spread over seeds."""
    langs, per = geometry.languages, {}
    for label, frame in geometry.retrieval.items():
        matrix = frame.to_numpy(dtype=float) * 100
        per.setdefault(geometry.labels[label], []).append(
            (_mean_cells(matrix, langs, lambda a, b: "eng" not in (a, b)), geometry.probe[label] * 100))
    if not {"bilingual", "multiway"} <= set(per):
        return "The geometry study needs both a bilingual and a multi-way model."
    parts = []
    for index, (what, higher_means) in enumerate((("X-Y retrieval", "aligns non-English pairs better"),
                                                  ("the language probe", "leaves the language easier to identify"))):
        bi, mw = (np.array([v[index] for v in per[m]]) for m in ("bilingual", "multiway"))
        gap = mw.mean() - bi.mean()
        spread = max(bi.std(ddof=1) if len(bi) > 1 else 0.0, mw.std(ddof=1) if len(mw) > 1 else 0.0)
        size = ("within the seeds' spread" if abs(gap) <= 2 * spread else "beyond twice the seeds' spread") \
            if spread > 0 else "from one seed each"
        leader = "multi-way" if gap > 0 else "bilingual"
        parts.append(f"on {what}, {leader} is higher by {abs(gap):.1f} points ({size}): it {higher_means}")
    return "Over the seeds, " + "; ".join(parts) + "."


def plot(geometry: Geometry):
    import matplotlib.pyplot as plt
    import seaborn as sns

    labels = [label for label in geometry.retrieval if geometry.seeds.get(label) in (None, min(
        (s for s in geometry.seeds.values() if s is not None), default=None))]  # the base and the first seed
    fig, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.8), squeeze=False)
    for ax, label in zip(axes[0], labels):
        matrix = geometry.retrieval[label].astype(float) * 100
        sns.heatmap(matrix, ax=ax, vmin=0, vmax=100, cmap="viridis", annot=True, fmt=".0f", cbar=False,
                    annot_kws={"size": 7})
        ax.set_title(geometry.labels[label])
    fig.suptitle("Retrieval accuracy (%) between languages, NTREX-128")
    fig.tight_layout()
    weakest = []
    for label in labels:
        matrix = geometry.retrieval[label].astype(float)
        off = matrix.where(~np.eye(len(matrix), dtype=bool)).stack()
        (source, target), value = off.idxmin(), off.min()
        weakest.append(f"{label}: {source} → {target} ({value * 100:.0f})")
    return readings.attach_figure(fig, "The weakest direction of each heatmap (row language's sentences "
                                       "retrieving the column's): " + readings.join(weakest, ""))
