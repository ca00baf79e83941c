"""Seed and group summaries of the tidy scores table."""

from __future__ import annotations

import pandas as pd
import pytest

from mwalign.evaluation.scores import summarize_groups, summarize_seeds


def scores_table() -> pd.DataFrame:
    rows = []
    for seed, shift in [(0, 0.0), (1, 0.1), (2, 0.2)]:
        for subset, group, score in [("spa-eng", "seen", 0.5), ("deu-eng", "unseen", 0.3), ("fra-eng", "seen", 0.7)]:
            rows.append({"model": f"m-s{seed}", "base": "tiny", "method": "multiway", "seed": seed, "task": "Tatoeba",
                         "task_type": "BitextMining", "subset": subset, "languages": subset.replace("-", ","),
                         "group": group, "split": "test", "metric": "f1", "score": score + shift})
    return pd.DataFrame(rows)


def test_mean_and_sd_over_seeds():
    # Given 3 seeds whose scores are 0.0, 0.1 and 0.2 above a base value
    summary = summarize_seeds(scores_table()).set_index("subset")
    # Then each subset's mean is base + 0.1 with sd 0.1 (sample sd) over 3 seeds
    assert summary.loc["spa-eng", "mean"] == pytest.approx(0.6) and summary.loc["spa-eng", "sd"] == pytest.approx(0.1)
    assert (summary["n_seeds"] == 3).all(), "all three seeds counted"


def test_group_means_split_seen_and_unseen():
    groups = summarize_groups(scores_table())
    seed0 = groups[groups["seed"] == 0].set_index("group")
    assert seed0.loc["seen", "mean"] == pytest.approx(0.6) and seed0.loc["unseen", "mean"] == pytest.approx(0.3)
    assert seed0.loc["seen", "n_subsets"] == 2, "two seen subsets (spa, fra)"
