"""Encoding in token-budget batches against fixed-size batches, side by side on the cpu profile's texts.

Both encode every distinct text of the profile's tasks (its seen and unseen languages) with one model, as the
evaluate stage does with ``encode_all_first``: today ``evaluation.batch_size`` texts per batch (sorted by
length), new ``evaluation.batch_tokens`` tokens per batch, padding included (many short texts to a batch,
few long ones). Rounds alternate, so load from other jobs hits both; only the ratio is meaningful on a shared
machine. The embeddings are compared (bf16 kernels of other batch shapes move the last bits).

    .venv/bin/python bench/bench_encoding_batches.py [--model me5-small-l4] [--tokens 6144] [--rounds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mwalign.config import load_config
from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.evaluation.harness import CachingEncoder, _token_lengths, token_batches
from mwalign.evaluation.stage import select_tasks, task_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="me5-small-l4")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--tokens", type=int, default=None, help="token budget (default: batch_size x max length)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=6000, help="texts encoded per round (a spread sample)")
    args = parser.parse_args()
    cfg = load_config(args.profile)
    ev = cfg.evaluation
    langs = ["eng", *cfg.corpus.pool, *ev.unseen]
    tasks = select_tasks(ev.tasks, langs, strict=False, per_task=True, splits=ev.splits)
    for task in tasks:
        task.load_data()
    texts = sorted(set(task_texts(tasks)))
    texts = texts[:: max(1, len(texts) // args.limit)][: args.limit]
    budget = args.tokens or ev.batch_size * ev.max_seq_length
    with tempfile.TemporaryDirectory() as folder:
        encoders = {
            name: CachingEncoder(args.model, label=name, cache=EmbeddingCache(Path(folder) / f"{name}.sqlite"),
                                 dtype=ev.dtype, max_seq_length=ev.max_seq_length, batch_size=ev.batch_size,
                                 batch_tokens=tokens, device="cpu")
            for name, tokens in (("today", None), ("new", budget))
        }
        model = encoders["today"].model
        encoders["new"]._model = model  # one copy of the weights
        lengths = _token_lengths(model, texts)
        batches = token_batches(lengths, budget)
        fixed = [sorted(lengths, reverse=True)[i:i + ev.batch_size] for i in range(0, len(texts), ev.batch_size)]
        padded_fixed = sum(len(b) * b[0] for b in fixed)
        padded_new = sum(len(b) * lengths[b[0]] for b in batches)
        seconds: dict[str, list[float]] = {name: [] for name in encoders}
        vectors = {}
        for _ in range(args.rounds):
            for name, encoder in encoders.items():
                start = time.perf_counter()
                vectors[name] = encoder._encode_uncached(texts)
                seconds[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in seconds.items()}
    diff = float(np.abs(vectors["today"] - vectors["new"]).max())
    print(f"# bench/bench_encoding_batches.py: {args.model}, profile {args.profile}, {len(texts)} texts "
          f"({sum(lengths)} tokens), {torch.get_num_threads()} threads, dtype {ev.dtype}, best of {args.rounds}")
    print(f"  today  batch {ev.batch_size} texts: {len(texts) / best['today']:7.1f} texts/s, "
          f"{len(fixed)} batches, padding {1 - sum(lengths) / padded_fixed:.0%}")
    print(f"  new    batch {budget} tokens: {len(texts) / best['new']:7.1f} texts/s, {len(batches)} batches, "
          f"padding {1 - sum(lengths) / padded_new:.0%}")
    print(f"  new / today: {best['today'] / best['new']:.2f}x; embeddings max |diff| {diff:.2e}")


if __name__ == "__main__":
    main()
