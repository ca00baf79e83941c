"""Our mirror-backed tasks score exactly like mteb's official task classes fed the same data."""

from __future__ import annotations

import mteb
import pytest
from mteb.tasks.bitext_mining.multilingual.tatoeba_bitext_mining import TatoebaBitextMining
from mteb.tasks.classification.multilingual.sib200_classification import SIB200Classification as OfficialSIB
from mteb.tasks.sts.multilingual.sts17_crosslingual_sts import STS17Crosslingual
from sentence_transformers import SentenceTransformer

from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.evaluation.harness import CachingEncoder
from mwalign.evaluation.tasks import get_task

CASES = [
    ("Tatoeba", TatoebaBitextMining, "spa-eng"),
    ("STS17", STS17Crosslingual, "es-en"),
    pytest.param("SIB200Classification", OfficialSIB, "spa_Latn", marks=pytest.mark.slow),  # ~70 s: 30 classifiers
]


@pytest.mark.parametrize(("name", "official_cls", "subset"), CASES, ids=["Tatoeba", "STS17", "SIB200Classification"])
def test_same_scores_as_official_task_class(real_mirror, tiny_model, tmp_path, name, official_cls, subset):
    # Given our task on one real subset, and the official class fed the same data (its load_data replaced)
    ours = get_task(name)
    ours.hf_subsets = [subset]
    ours.load_data()
    official = official_cls()
    official.hf_subsets = [subset]
    official.dataset, official.data_loaded = ours.dataset, True
    # When the official task runs through mteb's plain SentenceTransformer wrapper and ours through the harness (fp32)
    plain = mteb.evaluate(SentenceTransformer(str(tiny_model), device="cpu"), official, cache=None,
                          show_progress_bar=False, co2_tracker=False)
    encoder = CachingEncoder(tiny_model, label="tiny", cache=EmbeddingCache(tmp_path / "e.sqlite"), dtype="fp32",
                             max_seq_length=64)
    harnessed = mteb.evaluate(encoder, ours, cache=None, show_progress_bar=False, co2_tracker=False)
    # Then every split's main score is identical
    for split in ours.eval_splits:
        expected = plain.task_results[0].scores[split][0]["main_score"]
        got = harnessed.task_results[0].scores[split][0]["main_score"]
        assert got == pytest.approx(expected, abs=1e-5), f"{name}/{subset}/{split}: same data + model, same score"
