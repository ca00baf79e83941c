"""A training step, today's vs the new one, side by side in one run; FLOP/s against the bf16 matmul peak.

Same model copies (same weights), same batches, same dropout seeds, interleaved step by step so CPU
contention from other jobs hits every variant alike:

- ``today``: tokenise the batch's texts every step, for-loop AdamW (the loop before issue 15);
- ``new``: sentences tokenised once per run (``TokenCache``), foreach AdamW: bit-identical, so the losses
  must equal today's (checked to 1e-4 for every timed step);
- ``+fused``: fused AdamW (``training.fused_optimizer``; rounds differently);
- ``+freeze``: word embeddings frozen (``training.freeze_word_embeddings``; AdamW skips them);
- ``+grouped``: ``training.length_grouping`` batches (other batches, so only speed and padding compare);
- ``all``: fused + frozen + grouped together. Each ``+`` variant is ``new`` plus that one change alone.

Models: minilm-en (MiniLM-L6, 30k vocabulary) and ``me5-small-l3``, multilingual-e5-small cut to its
bottom 3 layers ad hoc (250k-token XLM-R vocabulary: 96M embedding parameters against 5M in the layers).
Model FLOP/s counts 6 x non-embedding parameters x real (unpadded) tokens for a step, 2 x ... for
encoding, and divides by a bf16 matmul's FLOP/s measured here. A profiler table of one ``new`` step
(tokenise, forward, loss, backward, optimizer) goes to ``--out``. Absolute numbers on a shared machine
move with its load; the ratios, measured side by side, are what to read.

    .venv/bin/python bench/bench_training_step.py [--models minilm-en me5-small-l3] [--steps 4] [--out bench/output]
"""

from __future__ import annotations

import argparse
import copy
import platform
import time
from pathlib import Path

import sentence_transformers
import torch
import transformers
from torch.profiler import ProfilerActivity, profile, record_function

from bench_training_throughput import ntrex_rows  # a sibling script: bench/ is on sys.path when run as a file
from roofline import matmul_peak, non_embedding_params
from mwalign import models
from mwalign.training.data import RootBatchSampler, make_batch
from mwalign.training.encoding import TokenCache, effective_dtype, forward_embeddings, forward_features
from mwalign.training.losses import MultiWayContrastiveLoss

VARIANTS = ("today", "new", "+fused", "+freeze", "+grouped", "all")


def load(name: str, max_seq_length: int):
    if name.startswith("me5-small-l"):
        model = models.load("me5-small", max_seq_length=max_seq_length)
        backbone = model[0].auto_model
        layers = int(name.removeprefix("me5-small-l"))
        backbone.encoder.layer = backbone.encoder.layer[:layers]
        backbone.config.num_hidden_layers = layers
        return model
    return models.load(name, max_seq_length=max_seq_length)


class Variant:
    def __init__(self, name: str, model, rows, dtype: str):
        self.name, self.model, self.dtype = name, model, dtype
        if name in ("+freeze", "all"):
            model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
        params = [p for p in model.parameters() if p.requires_grad]
        kernel = {"today": {"foreach": False}, "+fused": {"fused": True}, "all": {"fused": True}}.get(
            name, {"foreach": True})
        self.optimizer = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01, **kernel)
        self.loss = MultiWayContrastiveLoss(model, temperature=0.05)
        self.tokens = None if name == "today" else TokenCache(model, rows.all_sentences)
        self.seconds, self.sentences, self.real_tokens, self.padded_tokens, self.losses = 0.0, 0, 0, 0, []

    def step(self, rows, indices, seed: int, timed: bool) -> None:
        torch.manual_seed(seed)  # same dropout masks in every variant
        start = time.perf_counter()
        with record_function("tokenise"):
            batch = make_batch(rows, indices)
            features = (self.model.preprocess(batch.texts) if self.tokens is None
                        else self.tokens.features(batch.labels[:, 2].tolist()))
        with record_function("forward"):
            embeddings = forward_features(self.model, features, self.dtype)
        with record_function("loss"):
            value = self.loss.loss_from_embeddings(embeddings, batch.labels)
        with record_function("backward"):
            value.backward()
        with record_function("optimizer"):
            torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        if timed:
            self.seconds += time.perf_counter() - start
            self.sentences += len(batch.texts)
            self.real_tokens += int(features["attention_mask"].sum())
            self.padded_tokens += features["attention_mask"].numel()
            self.losses.append(value.item())


def bench_model(name: str, args, dtype: str, peak: float, out: Path) -> None:
    base = load(name, args.max_seq_length)
    base.train()
    if args.attention:
        base[0].auto_model.set_attn_implementation(args.attention)
    rows = ntrex_rows(args.batch * (args.steps + 1) * 4)
    plain = RootBatchSampler(rows.root_ids, args.batch, seed=0).batches(0)
    cache = TokenCache(base, rows.all_sentences)
    lengths = [max(cache.lengths[o : o + len(r)]) for o, r in zip(rows.offsets, rows.sentences)]
    grouped = RootBatchSampler(rows.root_ids, args.batch, seed=0, lengths=lengths).batches(0)
    variants = [Variant(v, copy.deepcopy(base), rows, dtype) for v in VARIANTS]
    for step in range(args.steps + 1):  # step 0 warms every variant up and is not timed
        for variant in variants:
            batches = grouped if variant.name in ("+grouped", "all") else plain
            variant.step(rows, batches[step], seed=step, timed=step > 0)
    n_params = non_embedding_params(base)
    today = variants[0]
    print(f"\nmodel {name}: {n_params / 1e6:.1f}M non-embedding + "
          f"{base[0].auto_model.get_input_embeddings().weight.numel() / 1e6:.1f}M embedding parameters, "
          f"batch {args.batch} rows x 4 languages, {args.steps} timed steps, max_seq_length {args.max_seq_length}, "
          f"attention {args.attention or 'default'}")
    for v in variants:
        rate = v.sentences / v.seconds
        mfu = 6 * n_params * v.real_tokens / v.seconds / peak
        print(f"  {v.name:9s} {rate:7.1f} sentences/s  {rate / (today.sentences / today.seconds):5.2f}x today  "
              f"padding {1 - v.real_tokens / v.padded_tokens:4.0%}  train MFU {mfu:5.1%} of bf16 peak")
    new = variants[1]
    gap = max(abs(a - b) for a, b in zip(today.losses, new.losses))
    print(f"  losses today vs new, {len(new.losses)} steps: max |diff| {gap:.2e} (target <= 1e-4): "
          f"{'PASS' if gap <= 1e-4 else 'FAIL'}")
    best = max(variants, key=lambda v: v.sentences / v.seconds)
    ratio = (best.sentences / best.seconds) / (today.sentences / today.seconds)
    print(f"  best step {best.name} {ratio:.2f}x today (target >= 2x): {'PASS' if ratio >= 2 else 'FAIL'}")
    encode_mfu(base, rows, dtype, n_params, peak)
    profile_step(variants[1], rows, plain[1], out / f"training_step_profile_{name}.txt")


def encode_mfu(model, rows, dtype: str, n_params: int, peak: float) -> None:
    """Inference encoding (eval mode, length-sorted batches of 128) as a fraction of the bf16 peak."""
    texts = sorted(rows.all_sentences, key=len)
    model.eval()
    with torch.no_grad():
        forward_embeddings(model, texts[:128], dtype)
        tokens, seconds = 0, 0.0
        for start in range(0, len(texts), 128):
            features = model.preprocess(texts[start : start + 128])
            begin = time.perf_counter()
            forward_features(model, features, dtype)
            seconds += time.perf_counter() - begin
            tokens += int(features["attention_mask"].sum())
    model.train()
    mfu = 2 * n_params * tokens / seconds / peak
    print(f"  encoding {len(texts) / seconds:7.1f} sentences/s, MFU {mfu:5.1%} of bf16 peak (target >= 50%): "
          f"{'PASS' if mfu >= 0.5 else 'FAIL'}")


def profile_step(variant: Variant, rows, indices, path: Path) -> None:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        variant.step(rows, indices, seed=99, timed=False)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=30)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table + "\n", encoding="utf-8")
    regions = {e.key: e.cpu_time_total / 1e3 for e in prof.key_averages()
               if e.key in ("tokenise", "forward", "loss", "backward", "optimizer")}
    total = sum(regions.values())
    print("  profile of one new step: " + ", ".join(f"{k} {v:.0f} ms ({v / total:.0%})" for k, v in regions.items())
          + f"; table in {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["minilm-en", "me5-small-l3"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--attention", default="eager", choices=["eager", "sdpa", ""])
    parser.add_argument("--out", type=Path, default=Path("bench/output"))
    args = parser.parse_args()
    dtype = effective_dtype("bf16")
    peak = matmul_peak(torch.bfloat16 if dtype == "bf16" else torch.float32)
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, dtype {dtype}; "
          f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"sentence-transformers {sentence_transformers.__version__}; {dtype} matmul peak {peak / 1e9:.1f} GFLOP/s "
          "(shared machine: absolute numbers move with its load, ratios are side by side)")
    for name in args.models:
        bench_model(name, args, dtype, peak, args.out)


if __name__ == "__main__":
    main()
