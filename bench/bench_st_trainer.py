"""Our whole training loop vs sentence-transformers' own trainer, roots per second, side by side in one run.

Candidate: ``mwalign.training.loop.train`` configured as the cpu profile's speed settings do (batch 32
rows x 4 languages, max_seq_length 64, eager attention, bf16 autocast where the CPU has it, frozen word
embeddings, length-grouped batches, fused AdamW), ``MultiWayContrastiveLoss`` (4 sentences encoded per root).
Baseline: ``SentenceTransformerTrainer`` + ``MultipleNegativesRankingLoss`` with ``bf16=True`` on the same
rows expanded to all C(4, 2) = 6 (anchor, positive) pairs, 6 x 32 pairs a step (the same 32 roots a step;
12 sentences encoded per root), no evaluation, no saving (a temporary ``output_dir``), ``report_to=[]``.
Both start from the same weights and run ``--steps`` optimiser steps on the same threads; the pair runs
alternate per model so load from other jobs hits both. Two rates each: the whole call (setup, tokenising,
the final checkpoint of ours) and the steady steps (the first step left out). Metric: roots per second.
Target: ours >= 5x.

    .venv/bin/python bench/bench_st_trainer.py [--models me5-small-l3 minilm-en] [--steps 4] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import platform
import tempfile
import time
from pathlib import Path

import sentence_transformers
import torch
import transformers
from datasets import Dataset
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments
from transformers import TrainerCallback

from bench_training_step import load  # siblings: bench/ is on sys.path when run as a file
from bench_training_throughput import ntrex_rows
from mwalign.training.encoding import effective_dtype
from mwalign.training.loop import TrainSettings, train
from mwalign.training.losses import MultiWayContrastiveLoss


class StepClock(TrainerCallback):
    """Seconds of each optimiser step of the Trainer (data loading and collation of that step included)."""

    def __init__(self):
        self.seconds: list[float] = []
        self._last = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self._last = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        now = time.perf_counter()
        self.seconds.append(now - self._last)
        self._last = now


def ours(model, rows, args, dtype: str) -> tuple[float, list[float], list[float]]:
    """Whole-call seconds, each step's seconds and loss of ``train`` with the cpu profile's speed settings."""
    settings = TrainSettings(batch_size=args.batch, epochs=1, learning_rate=5e-5, seed=0, max_steps=args.steps,
                             eval_every=10**6, dtype=dtype, attention="eager", freeze_word_embeddings=True,
                             length_grouping=True, fused_optimizer=True, show_progress=False)
    steps: list[float] = []
    losses: list[float] = []

    def on_step(step: int, record: dict) -> None:
        steps.append(record["seconds"])
        losses.append(record["loss"])

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train(model, MultiWayContrastiveLoss(model, temperature=0.05), rows, None, settings, Path(tmp),
              resume="never", on_step=on_step)
        return time.perf_counter() - start, steps, losses


def sentence_transformers_trainer(model, rows, args) -> tuple[float, list[float]]:
    pairs = [(s[a], s[b]) for s in rows.sentences for a, b in itertools.combinations(range(len(s)), 2)]
    dataset = Dataset.from_dict({"anchor": [p[0] for p in pairs], "positive": [p[1] for p in pairs]})
    clock = StepClock()
    with tempfile.TemporaryDirectory() as tmp:
        training_args = SentenceTransformerTrainingArguments(
            output_dir=tmp, per_device_train_batch_size=6 * args.batch, max_steps=args.steps, learning_rate=5e-5,
            warmup_steps=0.1, bf16=True, use_cpu=True, eval_strategy="no", save_strategy="no", report_to=[],
            logging_strategy="no", disable_tqdm=True, dataloader_drop_last=True, seed=0)
        trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset,
                                             loss=MultipleNegativesRankingLoss(model, scale=20.0),
                                             callbacks=[clock])
        start = time.perf_counter()
        trainer.train()
        return time.perf_counter() - start, clock.seconds


def bench_model(name: str, args, dtype: str) -> None:
    base = load(name, args.max_seq_length)
    rows = ntrex_rows(args.batch * args.steps)
    st_attention = base[0].auto_model.config._attn_implementation
    runs = {"mnrl-st-trainer": lambda: sentence_transformers_trainer(copy.deepcopy(base), rows, args),
            "multiway-ours": lambda: ours(copy.deepcopy(base), rows, args, dtype)[:2]}
    seconds = {run: fn() for run, fn in runs.items()}
    roots = args.batch * args.steps
    print(f"\nmodel {name}: batch {args.batch} roots x 4 languages ({6 * args.batch} pairs for the trainer), "
          f"{args.steps} steps, max_seq_length {args.max_seq_length}; attention: ours eager, "
          f"trainer {st_attention} (the model's own)")
    rate, steady = {}, {}
    for run, (whole, steps) in seconds.items():
        rate[run] = roots / whole
        steady[run] = args.batch * (len(steps) - 1) / sum(steps[1:]) if len(steps) > 1 else float("nan")
        print(f"  {run:16s} whole call {whole:7.1f} s = {rate[run]:6.2f} roots/s; "
              f"steady steps {steady[run]:6.2f} roots/s ({len(steps)} steps timed)")
    whole_ratio = rate["multiway-ours"] / rate["mnrl-st-trainer"]
    steady_ratio = steady["multiway-ours"] / steady["mnrl-st-trainer"]
    print(f"  ours vs SentenceTransformerTrainer: whole call {whole_ratio:.2f}x, steady steps {steady_ratio:.2f}x "
          f"(target >= 5x): {'PASS' if steady_ratio >= 5 else 'FAIL'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["me5-small-l3", "minilm-en"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    dtype = effective_dtype("bf16")
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, ours dtype "
          f"{dtype}, trainer bf16=True; torch {torch.__version__}, transformers {transformers.__version__}, "
          f"sentence-transformers {sentence_transformers.__version__} (shared machine: absolute numbers move "
          "with its load, ratios are side by side)")
    for name in args.models:
        bench_model(name, args, dtype)


if __name__ == "__main__":
    main()
