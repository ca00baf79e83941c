"""Peak memory and FLOP/s of a batch-32 me5-small training step: plain step vs GradCache.

Each variant runs in its own process (peak RSS is per process): load me5-small (word embeddings frozen,
as ``me5.freeze_word_embeddings``), build the optimizer, run one multi-way step on 32 rows x 4 languages
(128 sentences, ``query: `` prompt) and report the process's peak RSS. Baseline: the plain step; candidate:
GradCache with ``--mini-batch``-sentence chunks (``me5.grad_cache_mini_batch``, the default). ``--attention``
is ``training.attention``. FLOPs of the step come from ``torch.utils.flop_counter`` and are set against the bf16
matmul peak measured in the same run (2048^3 matmuls). Target: peak <= 3 GiB, which GradCache meets; the cpu
profile trades it for speed (plain steps with eager attention, 24 GiB here).

    .venv/bin/python bench/bench_training_memory.py [--batch 32] [--max-seq-length 96] [--mini-batch 16]
        [--attention sdpa|eager]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from roofline import matmul_peak  # a sibling module: bench/ is on sys.path when run as a file

GIB = 1024**3


def run_variant(args: argparse.Namespace) -> dict:
    """One training step in this process; returns peak RSS, seconds and FLOPs."""
    sys.path.insert(0, "bench")
    from bench_training_throughput import ntrex_rows

    from mwalign import models
    from mwalign.training.data import make_batch
    from mwalign.training.encoding import effective_dtype, forward_embeddings
    from mwalign.training.grad_cache import grad_cache_backward
    from mwalign.training.losses import MultiWayContrastiveLoss

    dtype = effective_dtype(args.dtype)
    model = models.load("me5-small", max_seq_length=args.max_seq_length)
    model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    model[0].auto_model.set_attn_implementation(args.attention)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    loss = MultiWayContrastiveLoss(model)
    batch = make_batch(ntrex_rows(args.batch), list(range(args.batch)), prompt="query: ")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with FlopCounterMode(display=False) as counter:
        start = time.perf_counter()
        if args.variant == "grad-cache":
            grad_cache_backward(model, loss, batch.texts, batch.labels, mini_batch_size=args.mini_batch, dtype=dtype)
        else:
            loss.loss_from_embeddings(forward_embeddings(model, batch.texts, dtype), batch.labels).backward()
        optimizer.step()
        seconds = time.perf_counter() - start
    return {"peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "rss_before_step": rss_before,
            "seconds": seconds, "flops": counter.get_total_flops(), "dtype": dtype, "sentences": len(batch.texts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=96)
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--mini-batch", type=int, default=16, help="GradCache sentences per chunk")
    parser.add_argument("--attention", default="sdpa", choices=["sdpa", "eager"], help="training.attention")
    parser.add_argument("--variant", choices=["plain", "grad-cache"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args)))
        return
    results = {}
    for variant in ("plain", "grad-cache"):
        out = subprocess.run([sys.executable, __file__, "--variant", variant, "--batch", str(args.batch),
                              "--max-seq-length", str(args.max_seq_length), "--dtype", args.dtype,
                              "--mini-batch", str(args.mini_batch), "--attention", args.attention],
                             check=True, capture_output=True, text=True).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
    peak = matmul_peak(torch.bfloat16 if results["plain"]["dtype"] == "bf16" else torch.float32)
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; "
          f"torch {torch.__version__}; me5-small, batch {args.batch} rows x 4 languages, "
          f"max_seq_length {args.max_seq_length}, dtype {results['plain']['dtype']}, word embeddings frozen, "
          f"{args.attention} attention")
    print(f"grad-cache chunks: {args.mini_batch} sentences")
    print(f"measured matmul peak: {peak / 1e9:.1f} GFLOP/s")
    for name, r in results.items():
        achieved = r["flops"] / r["seconds"]
        print(f"  {name:10s} peak RSS {r['peak_rss'] / GIB:.2f} GiB (before step {r['rss_before_step'] / GIB:.2f}), "
              f"step {r['seconds']:.1f} s, {achieved / 1e9:.1f} GFLOP/s = {achieved / peak:.0%} of matmul peak")
    plain, cached = results["plain"], results["grad-cache"]
    print(f"grad-cache vs plain: peak mem {cached['peak_rss'] / plain['peak_rss']:.2f}x, "
          f"time {cached['seconds'] / plain['seconds']:.2f}x")
    for name, r in results.items():
        verdict = "PASS" if r["peak_rss"] <= 3 * GIB else "FAIL"
        print(f"{name} batch-{args.batch} step peak {r['peak_rss'] / GIB:.2f} GiB (target <= 3 GiB): {verdict}")


if __name__ == "__main__":
    main()
