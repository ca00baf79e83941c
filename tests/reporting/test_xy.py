"""The X-Y task's pair kinds, multi-way's lead per kind and the words that follow it, from fabricated scores."""

from __future__ import annotations

import pandas as pd

from mwalign.evaluation.tasks.ntrex import XY_NAME
from mwalign.reporting import xy

PAIRS = [("eng", "spa", "seen"), ("spa", "eng", "seen"), ("spa", "hrv", "seen"), ("hrv", "spa", "seen"),
         ("spa", "pol", "unseen"), ("pol", "rus", "unseen")]


def _scores(lead_with_english: float, lead_x_y: float) -> pd.DataFrame:
    rows = []
    for seed in (0, 1, 2):
        for a, b, group in PAIRS:
            lead = lead_with_english if "eng" in (a, b) else lead_x_y
            for method, score in (("bilingual", 0.5), ("multiway", 0.5 + lead + seed / 1000)):
                rows.append({"model": f"m-{method}-s{seed}", "role": "unaligned", "base": "m", "method": method,
                             "seed": seed, "task": XY_NAME, "task_type": "BitextMining X-Y",
                             "subset": f"{a}-{b}", "languages": f"{a},{b}", "group": group, "score": score})
    return pd.DataFrame(rows)


def test_pairs_fall_into_kinds_and_the_lead_is_per_kind_over_seeds():
    table = xy.xy_table(_scores(0.01, 0.05)).set_index("pair kind")
    assert list(table.index) == ["with English", "X-Y, both seen", "seen × unseen", "both unseen"]
    assert table["pairs"].tolist() == [2, 2, 1, 1]
    assert table.loc["X-Y, both seen", "lead"] == 5.1 and table.loc["with English", "lead"] == 1.1
    assert table["seeds"].eq(3).all() and table.loc["with English", "lead sd"] == 0.1


def test_the_words_say_whether_the_lead_is_larger_without_english():
    larger = xy.xy_text(xy.xy_table(_scores(0.01, 0.05)))
    not_larger = xy.xy_text(xy.xy_table(_scores(0.05, -0.02)))
    assert "the direction every-language anchors predict." in larger
    assert "leads by 5.1 F1 on X-Y pairs of two seen languages" in larger
    assert "does not show here" in not_larger and "trails by 1.9 F1 on X-Y pairs of two seen languages" in not_larger
    smaller_deficit = xy.xy_text(xy.xy_table(_scores(-0.05, -0.02)))
    assert "though it does not lead there" in smaller_deficit
    assert "ties on" in xy.xy_text(xy.xy_table(_scores(0.01, -0.001)))
    assert xy.plot_xy(_scores(0.01, 0.05)) is not None
    assert "did not score" in xy.xy_text(xy.xy_table(_scores(0.01, 0.05).iloc[0:0]))
