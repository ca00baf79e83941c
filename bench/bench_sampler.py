"""Training data path at paper scale: the batch planner and batch assembly on a synthetic ~76k-root corpus.

Side by side in one run: the first sampler (it rescanned every pending row for each batch, and the
training loop asked it for the epoch's batches at every step) against today's (an epoch planned once,
linear in the rows). Prints the data overhead per step (target < 1 ms), the speed-up and the memory of
the corpus frame and of the training table. The rows are the paper's shape: 76k English roots with six
translations each, the multi-way table (one row per root) and the bilingual En-X table at the same
pair budget (rows of two, each root repeated).

    .venv/bin/python bench/bench_sampler.py [--roots 76000] [--batch-size 32] [--steps 200]
"""

from __future__ import annotations

import argparse
import platform
import random
import time
import tracemalloc

import pandas as pd
import torch

from mwalign.training.data import RootBatchSampler, make_batch, rows_from_frame

POOL = ["spa", "por", "fra", "ita", "cat", "epo"]


def synthetic_frame(n_roots: int, *, bilingual: bool, seed: int = 0) -> pd.DataFrame:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(5000)]
    roots, langs, sents = [], [], []
    for r in range(n_roots):
        text = " ".join(rng.choices(words, k=rng.randint(6, 30)))
        versions = [(code, f"{code}: {text}") for code in ["eng", *POOL]]
        if bilingual:  # En-X rows: the pair budget of one 4-way row (6 pairs) as 6 two-language rows
            for code, sentence in rng.sample(versions[1:], k=len(POOL)):
                roots.append(f"r{r}"), langs.append(["eng", code]), sents.append([text, sentence])
        else:
            picked = ["eng", *rng.sample(POOL, k=3)]
            roots.append(f"r{r}"), langs.append(picked), sents.append([dict(versions)[c] for c in picked])
    return pd.DataFrame({"root_id": roots, "languages": langs, "sentences": sents})


def rescanning_batches(root_ids: list[str], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The first sampler, verbatim (O(N^2 / B) per call)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    pending = torch.randperm(len(root_ids), generator=generator).tolist()
    batches: list[list[int]] = []
    while pending:
        batch, roots, deferred = [], set(), []
        for index in pending:
            if len(batch) < batch_size and root_ids[index] not in roots:
                batch.append(index)
                roots.add(root_ids[index])
            else:
                deferred.append(index)
        batches.append(batch)
        pending = deferred
    if len(batches[-1]) < 2:
        batches.pop()
    return batches


def offsets_per_call(table) -> list[int]:
    """The first ``make_batch`` recomputed every row's offset for every batch."""
    starts, total = [], 0
    for row in table.sentences:
        starts.append(total)
        total += len(row)
    return starts


def measure(name: str, frame: pd.DataFrame, batch_size: int, steps: int) -> None:
    tracemalloc.start()
    table = rows_from_frame(frame, name)
    table_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    # today's path: one plan per epoch, then one make_batch per step
    start = time.perf_counter()
    sampler = RootBatchSampler(table.root_ids, batch_size, seed=0)
    batches = sampler.batches(0)
    plan_s = time.perf_counter() - start
    start = time.perf_counter()
    for step in range(steps):
        make_batch(table, sampler.batches(0)[step % len(batches)])
    new_step = (time.perf_counter() - start) / steps + plan_s / len(batches)
    # the first path: the loop called batches() at every step, and make_batch rebuilt the offsets
    start = time.perf_counter()
    old_batches = rescanning_batches(table.root_ids, batch_size, 0, 0)
    old_plan_s = time.perf_counter() - start
    start = time.perf_counter()
    for step in range(min(steps, 20)):
        offsets_per_call(table)
        make_batch(table, old_batches[step % len(old_batches)])
    old_step = old_plan_s + (time.perf_counter() - start) / min(steps, 20)
    same = old_batches == batches
    print(f"{name}: {len(table)} rows, {len(batches)} batches/epoch; corpus frame {frame_bytes / 2**20:.0f} MiB, "
          f"training table {table_bytes / 2**20:.0f} MiB")
    print(f"{name}: epoch plan: rescanning {old_plan_s:.2f} s, linear {plan_s:.3f} s ({old_plan_s / plan_s:.0f}x); "
          f"same batches: {same}")
    print(f"{name}: data overhead per step: first {old_step * 1e3:.1f} ms, today {new_step * 1e3:.3f} ms "
          f"({old_step / new_step:.0f}x; target < 1 ms: {'met' if new_step < 1e-3 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roots", type=int, default=76_000, help="English roots of the synthetic corpus")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=200, help="steps timed for batch assembly")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    measure("multiway", synthetic_frame(args.roots, bilingual=False), args.batch_size, args.steps)
    measure("bilingual", synthetic_frame(args.roots // 3, bilingual=True), args.batch_size, args.steps)


if __name__ == "__main__":
    main()
