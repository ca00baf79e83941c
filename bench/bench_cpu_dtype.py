"""bf16 against fp32 on this CPU, side by side in one run: the matmul peak, the stand-in's training step and the
planning probe's step, and whether the probe's ratio between the two dtypes follows the stand-in's.

The cpu profile trains and encodes under bf16 autocast (``training.dtype``, ``evaluation.dtype``). On a CPU with
bf16 matrix units (AVX512-BF16 or AMX) that is the fast path; on one without them, oneDNN emulates bf16 and a
bf16 step can cost more than an fp32 one. ``mwalign plan`` scales the committed run's minutes by a few seconds'
probe (:func:`mwalign.planning.machine_probe`); this bench shows how far the probe follows the real step on the
machine it runs on (on one machine it does: the dtype ratio of its step follows the stand-in's; between machines
of different dtypes it did not, see :func:`mwalign.planning.machine_probe`). Steps are interleaved (bf16, fp32,
bf16, ...) with the same weights, batches and dropout seeds, so another process's load hits both alike.

    .venv/bin/python bench/bench_cpu_dtype.py [--model me5-small-l4] [--steps 4] [--batch 32]
"""

from __future__ import annotations

import argparse
import copy
import platform
import time

import torch
from bench_training_step import Variant, load  # a sibling script: bench/ is on sys.path when run as a file
from bench_training_throughput import ntrex_rows
from roofline import matmul_peak

from mwalign import planning
from mwalign.devices import cpu_capability, cpu_has_bf16
from mwalign.training.data import RootBatchSampler


def probe_step(dtype: str) -> float:
    """The planning probe's training step in ``dtype`` (its own code, the dtype imposed)."""
    from mwalign import devices

    saved = devices.autocast_dtype
    devices.autocast_dtype = lambda device, requested, **kw: dtype  # as asked, even where autocast would not pick it
    try:
        return float(planning.machine_probe("cpu")["probe_train_step_s"])
    finally:
        devices.autocast_dtype = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="me5-small-l4")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, oneDNN kernels "
          f"{cpu_capability()}, bf16 matrix units: {'yes' if cpu_has_bf16() else 'none'}; torch {torch.__version__}")
    peaks = {dtype: matmul_peak(getattr(torch, name)) for dtype, name in (("bf16", "bfloat16"), ("fp32", "float32"))}
    print(f"  matmul peak: bf16 {peaks['bf16'] / 1e9:.1f} GFLOP/s, fp32 {peaks['fp32'] / 1e9:.1f} GFLOP/s "
          f"(bf16 {peaks['bf16'] / peaks['fp32']:.2f}x fp32)")
    base = load(args.model, 64)
    base.train()
    base[0].auto_model.set_attn_implementation("eager")
    rows = ntrex_rows(args.batch * (args.steps + 1))  # multi-way rows of NTREX's languages
    batches = RootBatchSampler(rows.root_ids, args.batch, seed=0).batches(0)
    variants = {dtype: Variant("all", copy.deepcopy(base), rows, dtype) for dtype in ("bf16", "fp32")}
    for step in range(args.steps + 1):  # step 0 warms both up and is not timed
        for variant in variants.values():
            variant.step(rows, batches[step], seed=step, timed=step > 0)
    seconds = {dtype: v.seconds / args.steps for dtype, v in variants.items()}
    print(f"  {args.model} training step ({args.batch} multi-way rows, frozen embeddings, fused "
          f"AdamW): bf16 {seconds['bf16']:.3f} s, fp32 {seconds['fp32']:.3f} s "
          f"(bf16 {seconds['bf16'] / seconds['fp32']:.2f}x the time of fp32)")
    start = time.perf_counter()
    probe = {dtype: probe_step(dtype) for dtype in ("bf16", "fp32")}
    print(f"  planning probe step: bf16 {probe['bf16']:.3f} s, fp32 {probe['fp32']:.3f} s (bf16 "
          f"{probe['bf16'] / probe['fp32']:.2f}x the time of fp32, against the stand-in's "
          f"{seconds['bf16'] / seconds['fp32']:.2f}x; {time.perf_counter() - start:.0f} s for both)")


if __name__ == "__main__":
    main()
