"""Classification scoring: mteb's own class vs mwalign's (labels read once as arrays), side by side in one run.

Both score the same cached embeddings of SIB-200 (10 undersampled
logistic-regression experiments per split, mteb's protocol), so the time is
scoring alone. Prints seconds, the speed-up and whether every score is equal.

    .venv/bin/python bench/bench_classification_scoring.py [--model PATH] [--subsets spa_Latn,deu_Latn]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import mteb
import torch

from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.evaluation.harness import CachingEncoder

from bench_eval import MINILM, official_twin  # a sibling script: bench/ is on sys.path when run as a file


def score(task, encoder: CachingEncoder) -> tuple[float, dict]:
    start = time.perf_counter()
    scores = {(split, subset): result["scores_per_experiment"]
              for split in task.metadata.eval_splits
              for subset, result in task.evaluate(encoder, split, encode_kwargs={"batch_size": 64}).items()}  # fmt: skip
    return time.perf_counter() - start, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MINILM, help="sentence-transformers folder")
    parser.add_argument("--subsets", default="spa_Latn,deu_Latn", help="SIB-200 subsets, comma-separated")
    args = parser.parse_args()
    subsets = args.subsets.split(",")
    ours, official = official_twin("SIB200Classification", subsets)
    work = Path(tempfile.mkdtemp(prefix="bench_cls_"))
    try:
        encoder = CachingEncoder(args.model, label="bench", cache=EmbeddingCache(work / "e.sqlite"), batch_size=64)
        score(ours, encoder)  # warm the embedding cache: both timed runs below only score
        official_s, official_scores = score(official, encoder)
        ours_s, our_scores = score(ours, encoder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {"mteb": mteb.__version__, "threads": torch.get_num_threads(), "subsets": subsets,
              "splits": list(official.metadata.eval_splits), "official_s": round(official_s, 2),
              "mwalign_s": round(ours_s, 2), "scores_equal": our_scores == official_scores}  # fmt: skip
    print(json.dumps(report, indent=1))
    print(f"scoring, mteb's class / mwalign's: {official_s / ours_s:.1f}x faster, identical scores: {report['scores_equal']}")


if __name__ == "__main__":
    main()
