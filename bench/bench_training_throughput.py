"""Training throughput: multi-way loss on 4-language rows vs MultipleNegativesRankingLoss on all pairs.

Baseline: sentence-transformers' ``MultipleNegativesRankingLoss`` on the same rows expanded to all
C(4, 2) = 6 (anchor, positive) pairs per row, one batch per B rows (12 sentences encoded per root).
Candidate: ``MultiWayContrastiveLoss`` on the rows themselves (4 sentences encoded per root, 12 ordered
pairs scored). Same model, data, dtype, optimizer and threads; the two run alternately so CPU
contention from other jobs hits both. Metric: English roots per second (forward + backward + step).
Target: ratio >= 2.5.

    .venv/bin/python bench/bench_training_throughput.py [--model minilm-en] [--batch 32] [--steps 4]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time

import sentence_transformers
import torch
import transformers
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from mwalign import models
from mwalign.config import data_dir
from mwalign.training.data import make_batch, rows_from_frame
from mwalign.devices import autocast
from mwalign.training.encoding import effective_dtype, forward_embeddings
from mwalign.training.losses import MultiWayContrastiveLoss

LANGS = {"eng": "newstest2019-src.eng.txt", "spa": "newstest2019-ref.spa.txt",
         "fra": "newstest2019-ref.fra.txt", "deu": "newstest2019-ref.deu.txt"}


def ntrex_rows(n: int):
    import pandas as pd

    folder = data_dir() / "ntrex128" / "NTREX-128"
    lines = {c: (folder / f).read_text(encoding="utf-8").splitlines()[:n] for c, f in LANGS.items()}
    return rows_from_frame(pd.DataFrame({
        "root_id": [str(i) for i in range(n)], "languages": [list(LANGS)] * n,
        "sentences": [[lines[c][i].strip() for c in LANGS] for i in range(n)]}), "NTREX-128")


def multiway_step(model, loss, optimizer, rows, indices, dtype) -> None:
    batch = make_batch(rows, indices)
    value = loss.loss_from_embeddings(forward_embeddings(model, batch.texts, dtype), batch.labels)
    value.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def pairs_step(model, loss, optimizer, rows, indices, dtype) -> None:
    pairs = [(rows.sentences[i][a], rows.sentences[i][b])
             for i in indices for a, b in itertools.combinations(range(len(rows.sentences[i])), 2)]
    features = [model.preprocess([p[0] for p in pairs]), model.preprocess([p[1] for p in pairs])]
    with autocast(model.device, dtype):
        value = loss(features, None)
    value.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-en")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    args = parser.parse_args()
    dtype = effective_dtype(args.dtype)
    rows = ntrex_rows(args.batch * (args.steps + 1))
    model = models.load(args.model, max_seq_length=args.max_seq_length)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    candidates = {"mnrl-pairs": (pairs_step, MultipleNegativesRankingLoss(model, scale=20.0)),
                  "multiway": (multiway_step, MultiWayContrastiveLoss(model, temperature=0.05))}
    seconds = {name: 0.0 for name in candidates}
    for step in range(args.steps + 1):  # step 0 warms up both and is not timed
        indices = list(range(step * args.batch, (step + 1) * args.batch))
        for name, (fn, loss) in candidates.items():
            start = time.perf_counter()
            fn(model, loss, optimizer, rows, indices, dtype)
            if step:
                seconds[name] += time.perf_counter() - start
    roots = args.batch * args.steps
    rate = {name: roots / s for name, s in seconds.items()}
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, dtype {dtype}; "
          f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"sentence-transformers {sentence_transformers.__version__}")
    print(f"model {args.model}, batch {args.batch} rows x 4 languages, {args.steps} timed steps, "
          f"max_seq_length {args.max_seq_length}")
    for name, value in rate.items():
        print(f"  {name:11s} {value:7.2f} roots/s")
    ratio = rate["multiway"] / rate["mnrl-pairs"]
    print(f"throughput {ratio:.2f}x (target >= 2.5x): {'PASS' if ratio >= 2.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
