"""Is a loaded task's data the official data? Compared against what mteb records about the official rows.

mteb ships, for every task, descriptive statistics of its official dataset
(``task.metadata.descriptive_stats``: per split and subset the number of
samples, text lengths, unique texts and label counts). :func:`differences`
computes the same statistics, with mteb's own code, on the data a task has
loaded (our mirror) and lists every field that differs. A result may carry
an official task name only when this list is empty for each subset it scores.

Rows must match exactly: the number of samples and the label (or score)
statistics. Text statistics must match too, except where a task declares
how its mirror text differs from mteb's hub copy (the upstream release vs
the hub's re-upload): ``official_extra_chars`` (the hub keeps a trailing
newline on every text) and ``official_text_tolerance`` (relative, for text
totals and averages, five times that for the shortest and longest text;
for counts of distinct texts, a fraction of the samples). Each
task's module docstring says why.
"""

from __future__ import annotations

import math
from typing import Any

from mteb.abstasks.abstask import AbsTask

_SUBSETS = "hf_subset_descriptive_stats"
_FLOAT_TOLERANCE = 1e-6  # relative; mteb writes averages as floats


def official_stats(task: AbsTask, split: str, subset: str) -> dict[str, Any] | None:
    """mteb's recorded statistics of the official rows of one split and subset (None: mteb records none)."""
    stats = (task.metadata.descriptive_stats or {}).get(split)
    if stats is None:
        return None
    return stats.get(_SUBSETS, {}).get(subset) if task.metadata.is_multilingual else stats


def loaded_stats(task: AbsTask, split: str, subset: str) -> dict[str, Any]:
    """The same statistics computed, by mteb's code, on the data the task has loaded."""
    hf_subset = subset if task.metadata.is_multilingual else None
    return dict(task._calculate_descriptive_statistics_from_split(split, hf_subset=hf_subset))


_EXACT = ("num_samples", "label_statistics", "image_statistics", "image1_statistics", "image2_statistics")
_DISTINCT = ("unique_texts", "unique_pairs", "samples_in_train")  # counts of distinct (or shared) texts
_LENGTHS = ("number_of_characters", "total_text_length", "average_text_length")
_EXTREMES = ("min_text_length", "max_text_length")  # one edited text moves these: 5 times the tolerance


def _same(expected: Any, got: Any, key: str, tolerance: float, n: int) -> bool:
    if not isinstance(expected, (int, float)) or not isinstance(got, (int, float)):
        return expected == got
    if key in _LENGTHS:
        return math.isclose(expected, got, rel_tol=max(tolerance, _FLOAT_TOLERANCE))
    if key in _EXTREMES:
        return math.isclose(expected, got, rel_tol=5 * tolerance)
    if key in _DISTINCT:
        return abs(expected - got) <= tolerance * n
    return math.isclose(expected, got, rel_tol=_FLOAT_TOLERANCE, abs_tol=_FLOAT_TOLERANCE)


def _compare(expected: Any, got: Any, where: str, key: str, tolerance: float, n: int) -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        inner = 0.0 if key in _EXACT else tolerance
        return [d for k in expected for d in _compare(expected[k], got.get(k), f"{where}.{k}", k, inner, n)]
    return [] if _same(expected, got, key, tolerance, n) else [f"{where}: official {expected!r}, ours {got!r}"]


def _with_extra_chars(stats: dict[str, Any], extra: int) -> dict[str, Any]:
    """Statistics as if every text had ``extra`` more characters (the hub's trailing newline)."""
    out = {}
    for key, value in stats.items():
        if isinstance(value, dict) and "total_text_length" in value:
            n = value["total_text_length"] / value["average_text_length"] if value["average_text_length"] else 0
            value = {**value, "total_text_length": value["total_text_length"] + round(extra * n),
                     "min_text_length": value["min_text_length"] + extra,
                     "average_text_length": value["average_text_length"] + extra,
                     "max_text_length": value["max_text_length"] + extra}  # fmt: skip
        out[key] = value
    texts = [v for v in out.values() if isinstance(v, dict) and "total_text_length" in v]
    if "number_of_characters" in out:
        out["number_of_characters"] = sum(v["total_text_length"] for v in texts)
    return out


def differences(task: AbsTask, split: str, subset: str, *, official: AbsTask | None = None) -> list[str]:
    """Every statistic of ``split``/``subset`` where the loaded data differs from mteb's official record.

    Label ids are compared as mteb writes them (string keys). A subset or split
    mteb has no record of is itself a difference. The task's declared text
    differences (module docstring) are allowed; nothing else is. ``official``:
    the task whose record applies (default ``task``; for a renamed task, the
    official task it was derived from).
    """
    expected = official_stats(official or task, split, subset)
    where = f"{task.metadata.name}/{subset}/{split}"
    if expected is None:
        return [f"{where}: mteb records no statistics for this subset and split"]
    got = loaded_stats(task, split, subset)
    labels = (got.get("label_statistics") or {}).get("labels")
    if isinstance(labels, dict):
        got["label_statistics"] = {**got["label_statistics"], "labels": {str(k): v for k, v in labels.items()}}
    got = _with_extra_chars(got, getattr(task, "official_extra_chars", 0))
    tolerance = getattr(task, "official_text_tolerance", 0.0)
    if isinstance(tolerance, dict):  # per subset: the others must match exactly
        tolerance = tolerance.get(subset, 0.0)
    return _compare(expected, got, where, "", tolerance, int(expected.get("num_samples", 0)))
