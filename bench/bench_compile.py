"""torch.compile trial: a short whole training job, eager vs the backbone's forward compiled, compile time included.

Both runs are ``mwalign.training.loop.train`` with the cpu profile's speed settings (batch 32 rows x 4
languages, max_seq_length 64, eager attention, bf16 autocast where the CPU has it, frozen word embeddings,
length grouping, fused AdamW) from the same weights for ``--steps`` steps; the candidate wraps the
transformers backbone's ``forward`` in ``torch.compile(dynamic=True)`` (batches of other token lengths reuse
one graph; backward goes through AOTAutograd). Compile overhead = the compiled job's extra seconds beyond
its steady steps, minus the same for eager; break-even = overhead / (eager step - compiled step); the
projection is for a ``--job-steps`` job (the cpu profile trains a few hundred steps a model). The two runs
are sequential (a compiled graph cannot be timed step by step beside an eager one without sharing caches),
so on a shared machine read the ratios with the load in mind.

    .venv/bin/python bench/bench_compile.py [--model me5-small-l3] [--steps 12] [--job-steps 400]
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics

import torch
import transformers

from bench_st_trainer import ours  # siblings: bench/ is on sys.path when run as a file
from bench_training_step import load
from bench_training_throughput import ntrex_rows
from mwalign.training.encoding import effective_dtype


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="me5-small-l3")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--job-steps", type=int, default=400)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = effective_dtype("bf16")
    base = load(args.model, args.max_seq_length)
    rows = ntrex_rows(args.batch * args.steps)
    results = {}
    for name in ("eager", "compiled"):
        model = copy.deepcopy(base)
        if name == "compiled":
            backbone = model[0].auto_model
            backbone.forward = torch.compile(backbone.forward, dynamic=True)
        results[name] = ours(model, rows, args, dtype)
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, dtype {dtype}; "
          f"torch {torch.__version__}, transformers {transformers.__version__}; model {args.model}, batch "
          f"{args.batch} rows x 4 languages, {args.steps} steps, max_seq_length {args.max_seq_length}, length "
          "grouping, fused AdamW, frozen word embeddings (shared machine: absolute seconds move with its load)")
    steady, extra = {}, {}
    for name, (whole, steps, _) in results.items():
        steady[name] = statistics.median(steps[2:])  # steps 1-2: first graphs (static, then dynamic shapes)
        extra[name] = whole - args.steps * steady[name]
        print(f"  {name:8s} whole job {whole:7.1f} s, first step {steps[0]:6.1f} s, second {steps[1]:6.1f} s, "
              f"steady step (median of {len(steps) - 2}) {steady[name]:6.2f} s")
    overhead = extra["compiled"] - extra["eager"]
    saved = steady["eager"] - steady["compiled"]
    gap = max(abs(a - b) for a, b in zip(results["eager"][2], results["compiled"][2]))
    print(f"  steady step compiled vs eager {steady['eager'] / steady['compiled']:.2f}x; compile overhead "
          f"{overhead:.1f} s; losses max |diff| {gap:.2e} over {args.steps} steps")
    if saved <= 0:
        print(f"  compiled steps are no faster: a {args.job_steps}-step job loses {overhead:.0f} s + "
              f"{-saved * args.job_steps:.0f} s; verdict: no training.compile flag")
        return
    projected = (args.job_steps * steady["eager"]) / (args.job_steps * steady["compiled"] + overhead)
    verdict = "pays: add training.compile" if projected > 1.05 else "does not pay: no training.compile flag"
    print(f"  break-even after {overhead / saved:.0f} steps; a {args.job_steps}-step job {projected:.2f}x "
          f"eager's speed with compile time; verdict: {verdict}")


if __name__ == "__main__":
    main()
