"""Bootstrap intervals: the closed-form weighted F1 equals sklearn's, intervals bracket the point."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from mwalign.evaluation.bootstrap import bitext_contributions, bitext_interval, bootstrap_interval


def test_pair_shares_average_to_sklearn_f1():
    # Given mining predictions with collisions (several queries pick the same neighbour)
    rng = np.random.default_rng(2)
    pred = np.where(rng.random(500) < 0.5, np.arange(500), rng.integers(0, 40, 500))
    # Then the mean of per-pair shares is exactly mteb's (sklearn's) weighted F1
    expected = f1_score(np.arange(500), pred, average="weighted", zero_division=0)
    assert abs(bitext_contributions(pred).mean() - expected) < 1e-12, "shares must average to the point F1"


def test_interval_brackets_point_and_narrows_with_more_examples():
    rng = np.random.default_rng(1)

    def predictions(n):
        return [{"corpus_id": int(i if rng.random() < 0.7 else rng.integers(0, n))} for i in range(n)]

    point_small, low_small, high_small = bitext_interval(predictions(50), 200)
    point_big, low_big, high_big = bitext_interval(predictions(2000), 200)
    assert low_small <= point_small <= high_small and low_big <= point_big <= high_big, "CI must contain the point"
    assert high_big - low_big < high_small - low_small, "more examples must give a narrower interval"


def test_zero_resamples_gives_no_interval():
    low, high = bootstrap_interval(lambda idx: float(idx.mean()), 10, 0)
    assert np.isnan(low) and np.isnan(high), "bootstrap=0 disables intervals"
