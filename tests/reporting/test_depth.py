"""The depth study's table, figure and words from fabricated scores and base-alignment rows."""

from __future__ import annotations

import pandas as pd
import pytest

from mwalign.config import load_config
from mwalign.reporting import depth

# headline me5-small-l4; depth me5-small-l2, me5-small-l6 and the 12-layer me5-small at 0.333
CFG = load_config("cpu", ["training.depth.models=[me5-small-l2, me5-small-l6, me5-small]"])


def _scores(gains: dict[str, float], seeds=(0, 1, 2)) -> pd.DataFrame:
    """Bilingual 0.50 per seed; multi-way 0.50 * (1 + gain%/100) with a small seed wobble."""
    rows = []
    for base, gain in gains.items():
        for seed in seeds:
            for method, score in (("bilingual", 0.5), ("multiway", 0.5 * (1 + gain / 100) + seed / 1000)):
                rows.append({"model": f"{base}-{method}-s{seed}", "role": "unaligned", "base": base,
                             "method": f"{method}-f0.333", "seed": seed, "task": "Tatoeba",
                             "task_type": "BitextMining", "subset": "spa-eng", "score": score})
    return pd.DataFrame(rows)


def _alignment() -> pd.DataFrame:
    """Each model with both prompts; the evaluation scores the cuts without one and the full me5-small with
    'query: ' (the profile's evaluation.prompts), so those rows carry the levels and the others a decoy."""
    levels = {("me5-small-l2", ""): 36.8, ("me5-small-l4", ""): 62.1, ("me5-small-l6", ""): 79.4,
              ("me5-small-l12", "query: "): 92.5}
    rows = [{"model": m, "prompt": p, "tatoeba_accuracy": t, "sts17_mean": 30.0} for (m, p), t in levels.items()]
    rows += [{"model": m, "prompt": "query: " if p == "" else "", "tatoeba_accuracy": 1.0, "sts17_mean": 1.0}
             for (m, p) in levels]
    return pd.DataFrame(rows)


def test_depth_table_orders_encoders_by_untrained_alignment_with_the_prompt_they_are_scored_with():
    table = depth.depth_table(_scores({"me5-small-l2": 10, "me5-small-l4": 6, "me5-small-l6": 3, "me5-small": 1}),
                              CFG, _alignment())
    assert table["base"].tolist() == ["me5-small-l2", "me5-small-l4", "me5-small-l6", "me5-small"]
    assert table["untrained Tatoeba"].tolist() == [36.8, 62.1, 79.4, 92.5], "me5-small is the l12 row"
    assert table.loc[0, "gain %"] == pytest.approx(10.2, abs=0.2) and table["seeds"].eq(3).all()
    assert depth.plot_depth(table) is not None


def test_depth_text_says_whether_the_gain_falls_with_alignment():
    falling = depth.depth_text(depth.depth_table(
        _scores({"me5-small-l2": 10, "me5-small-l4": 6, "me5-small-l6": 3, "me5-small": 1}), CFG, _alignment()))
    rising = depth.depth_text(depth.depth_table(
        _scores({"me5-small-l2": 1, "me5-small-l4": 3, "me5-small-l6": 6, "me5-small": 10}), CFG, _alignment()))
    assert "falls as the untrained encoder is more aligned, as the paper implies" in falling
    assert "does not fall" in rising and rising != falling
    assert "+10.2% for me5-small-l2 (untrained Tatoeba 36.8)" in falling
    assert "no depth study" in depth.depth_text(pd.DataFrame())
