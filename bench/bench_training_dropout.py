"""Attention kernel and dropout in a training step on this CPU, side by side in one run.

A MiniLM training step (bf16 autocast, 64 FLORES sentences padded to the
longest, at most 64 tokens, forward + backward, train mode) is timed with
transformers' default SDPA attention and with eager attention, each with the
model's dropout (0.1) and with attention-probability dropout off. The share
of ``aten::bernoulli_`` (dropout masks) in the default step comes from the
autograd profiler. ``training.attention`` selects the kernel (the cpu profile
trains with eager attention); attention dropout off would change the method,
so ``params/`` does not offer it.

    .venv/bin/python bench/bench_training_dropout.py [--model PATH] [--repeats 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from bench_eval import MINILM  # a sibling script: bench/ is on sys.path when run as a file
from mwalign.evaluation.tasks.sib200_classification import read_sib_split
from mwalign.devices import autocast


def sentences(n: int) -> list[str]:
    """FLORES sentences (English and Spanish halves): news-length, like the corpus roots."""
    eng, spa = (read_sib_split(lang, "train.tsv")["text"] for lang in ("eng_Latn", "spa_Latn"))
    return [*eng[: n // 2], *spa[: n // 2]]


def one_step(model: SentenceTransformer, features: dict) -> float:
    """Seconds of one forward + backward pass in train mode."""
    model.train()
    start = time.perf_counter()
    with autocast(model.device, "bf16"):
        out = model(dict(features))["sentence_embedding"]
    out.float().pow(2).sum().backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def set_attention_dropout(model: nn.Module, p: float) -> None:
    """Attention-probability dropout only; eager attention reads ``nn.Dropout``, SDPA reads ``dropout_prob``."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout) and "attention.self" in name:
            module.p = p
        if hasattr(module, "dropout_prob"):
            module.dropout_prob = p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MINILM, help="sentence-transformers folder")
    parser.add_argument("--repeats", type=int, default=8, help="interleaved timing rounds")
    args = parser.parse_args()
    variants = {}
    for attention in ("sdpa", "eager"):
        for dropout in ("model", "off"):
            model = SentenceTransformer(str(args.model), device="cpu")
            model.max_seq_length = 64
            model[0].auto_model.set_attn_implementation(attention)
            if dropout == "off":
                set_attention_dropout(model, 0.0)
            variants[f"{attention}, attention dropout {dropout}"] = model
    default = variants["sdpa, attention dropout model"]
    features = default.preprocess(sentences(64))
    with torch.autograd.profiler.profile() as prof:
        one_step(default, features)
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    bernoulli = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key == "aten::bernoulli_")
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats + 1):  # interleaved rounds, so drift in clock speed hits every variant alike
        for name, model in variants.items():
            times[name].append(one_step(model, features))
    median = {name: statistics.median(t[1:]) for name, t in times.items()}  # round 0 warms up
    report = {"threads": torch.get_num_threads(), "batch": list(features["input_ids"].shape), "rounds": args.repeats,
              "median_step_s": {k: round(v, 3) for k, v in median.items()},
              "bernoulli_share_default": round(bernoulli / total, 3)}  # fmt: skip
    print(json.dumps(report, indent=1))
    print(f"dropout masks (aten::bernoulli_): {bernoulli / total:.0%} of a default step")
    base = median["sdpa, attention dropout model"]
    for name, seconds in median.items():
        print(f"{name}: {base / seconds:.2f}x the default step's speed")


if __name__ == "__main__":
    main()
