"""Ablations at the headline's rigour: each against multi-way and against the main method with its steps, over
every seed, with an interval of the per-seed difference, and a reading that follows the numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from mwalign.reporting import ablations, readings, results

STEPS = {"multiway": 72, "english-anchors": 72, "bilingual": 423, "k2-multiway": 423}


def _scores(means: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for method, per_seed in means.items():
        for seed, mean in enumerate(per_seed):
            rows.append({"model": f"m-{method}-s{seed}", "role": "unaligned", "base": "m", "method": method,
                         "seed": float(seed), "task": "STS17", "task_type": "STS", "subset": "en-en", "score": mean})
    return pd.DataFrame(rows)


def _records(means: dict[str, list[float]]) -> dict[str, dict]:
    return {f"m-{method}-s{seed}": {"steps": STEPS[method]} for method, per_seed in means.items()
            for seed in range(len(per_seed))}


def test_each_ablation_is_compared_with_multiway_and_with_the_method_of_its_steps():
    # Given three seeds of each model: k2-multiway 1 point above bilingual in every seed, english-anchors equal
    # to multi-way up to noise
    means = {"multiway": [0.60, 0.62, 0.61], "english-anchors": [0.601, 0.618, 0.611],
             "bilingual": [0.55, 0.56, 0.57], "k2-multiway": [0.56, 0.57, 0.58]}
    gains = ablations.ablation_gains(_scores(means), _records(means))
    # Then english-anchors faces multi-way only (same pairs and steps), k2-multiway both (bilingual: its steps)
    compared = {(r.ablation, r.against): r.same for r in gains.itertuples()}
    assert compared == {("english-anchors", "multiway"): "pairs, steps", ("k2-multiway", "multiway"): "pairs",
                        ("k2-multiway", "bilingual"): "pairs, steps"}, compared
    k2 = gains[(gains["ablation"] == "k2-multiway") & (gains["against"] == "bilingual")].iloc[0]
    assert k2["difference"] == pytest.approx(1.0) and k2["seeds"] == 3 and k2["ci low"] == pytest.approx(1.0)
    # And the reading names the difference beyond its interval, and none for english-anchors
    text = readings.reading_of(gains)
    assert "k2-multiway against bilingual (m; the same pairs, steps; 3 seeds): it differs beyond its interval " \
           "on STS +1.0" in text, text
    assert "english-anchors against multiway (m; the same pairs, steps; 3 seeds): no task type differs" in text


def test_the_reading_changes_when_the_difference_falls_inside_its_interval():
    means = {"multiway": [0.60, 0.62, 0.61], "english-anchors": [0.60, 0.62, 0.61],
             "bilingual": [0.55, 0.56, 0.57], "k2-multiway": [0.58, 0.54, 0.57]}
    text = readings.reading_of(ablations.ablation_gains(_scores(means), _records(means)))
    assert "k2-multiway against bilingual (m; the same pairs, steps; 3 seeds): no task type differs" in text, text
    # And the means table's own reading names each task type's lowest and highest model
    spread = readings.reading_of(results.ablation_table(_scores(means)))
    assert spread == "m: STS from 56.0 (bilingual) to 61.0 (multiway).", spread
