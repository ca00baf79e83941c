"""One model's whole evaluation (the cpu profile's tasks), today's vs one-pass encoding, cold and warm.

Today: ``mwalign.evaluation.evaluate`` as the cpu profile runs it (mteb asks for each subset's texts,
batch 64). New: ``encode_all_first=True`` (every distinct text of all tasks in one length-sorted pass
into the embedding cache, at ``--batch``), then the same mteb scoring from the cache. Each runs on a fresh
results folder (cold), then again on it (warm); scores are compared (bf16 batches of other composition
may differ in the last bits). Run alternately, so load from other jobs hits both; on a shared machine
only the ratios are meaningful.

What explains the rest: each run's seconds split into loading the weights, encoding, mteb's scoring (cache
reads included) and our bootstrap intervals; the one-pass encoding's tokens (real and padded, as
sentence-transformers batches them) and its model FLOP/s as a fraction of the bf16 matmul peak measured in
the same run; and the torch profiler's operator table of that encoding (``--out``).

    .venv/bin/python bench/bench_eval_model.py [--model minilm-en] [--langs eng,spa,fra,deu] [--batch 128]
"""

from __future__ import annotations

import argparse
import logging
import platform
import tempfile
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from roofline import forward_flops, matmul_peak  # a sibling module: bench/ is on sys.path when run as a file

from mwalign.config import load_config
from mwalign.devices import autocast
from mwalign.evaluation import evaluate
from mwalign.evaluation.harness import DEFAULT_PROMPTS, choose_prompt, load_sentence_transformer, resolve_model
from mwalign.evaluation.stage import select_tasks, task_texts

PHASES = ("load", "encoding", "scoring", "intervals")


class PhaseLog(logging.Handler):
    """Collects evaluate's per-model line "loaded in S s, encoded N texts in S s, mteb scored in S s, ..."."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.texts, self.seconds = 0, dict.fromkeys(PHASES, 0.0)

    def emit(self, record: logging.LogRecord) -> None:
        if "mteb scored in" in record.msg:
            _, load, texts, encoding, scoring, intervals = record.args
            self.texts += texts
            for phase, value in zip(PHASES, (load, encoding, scoring, intervals), strict=True):
                self.seconds[phase] += value


def timed_evaluate(model: str, tasks: list[str], langs: list[str], results: Path, **kw):
    encoded, stage_log = PhaseLog(), logging.getLogger("mwalign.evaluation.stage")
    stage_log.addHandler(encoded)
    stage_log.setLevel(logging.INFO)
    start = time.perf_counter()
    try:
        scores = evaluate({"bench": model}, tasks, langs, results_dir=results, bootstrap=0, strict_langs=False, **kw)
    finally:
        stage_log.removeHandler(encoded)
    return time.perf_counter() - start, scores, encoded


def encoding_roofline(model_name: str, texts: list[str], batch: int, max_seq_length: int, dtype: str,
                      seconds: float, peak: float, table: Path) -> None:
    """The one-pass encoding's tokens and FLOP/s vs peak; the profiler's operator table of 8 batches of typical length."""
    model = load_sentence_transformer(resolve_model(model_name), max_seq_length)
    prompt = choose_prompt(["bench", model_name], DEFAULT_PROMPTS)  # the prefix evaluate gives this model
    ordered = sorted((prompt + text for text in texts), key=len, reverse=True)  # sentence-transformers' own order within one encode call
    real = padded = 0
    for start in range(0, len(ordered), batch):
        lengths = [len(ids) for ids in model.tokenizer(ordered[start : start + batch], truncation=True,
                                                        max_length=max_seq_length)["input_ids"]]
        real, padded = real + sum(lengths), padded + max(lengths) * len(lengths)
    achieved = forward_flops(model, real) / seconds
    print(f"  one-pass encoding: {len(texts)} texts, {real} tokens + {padded - real} padding "
          f"({(padded - real) / padded:.0%}); {achieved / 1e9:.0f} GFLOP/s = {achieved / peak:.0%} of the "
          f"bf16 matmul peak ({peak / 1e9:.0f} GFLOP/s), counting real tokens")
    sample = ordered[len(ordered) // 4 : len(ordered) // 4 + 8 * batch]  # typical lengths, not the longest
    with torch.inference_mode(), autocast("cpu", dtype):
        model.encode(sample[:batch], batch_size=batch, prompt="", show_progress_bar=False)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            model.encode(sample, batch_size=batch, prompt="", show_progress_bar=False)
    averages = prof.key_averages()
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_text(averages.table(sort_by="self_cpu_time_total", row_limit=25) + "\n", encoding="utf-8")
    total = sum(e.self_cpu_time_total for e in averages)
    top = sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)[:5]
    print(f"  profile of {len(sample)} texts' encoding (self CPU): "
          + ", ".join(f"{e.key.removeprefix('aten::')} {e.self_cpu_time_total / total:.0%}" for e in top)
          + f"; table in {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-en")
    parser.add_argument("--profile", default="params/cpu.yml")
    parser.add_argument("--langs", default="eng,spa,fra,deu", help="comma-separated (the profile's are more)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path("bench/output"))
    args = parser.parse_args()
    ev = load_config(args.profile).evaluation
    langs = args.langs.split(",")
    common = {"max_seq_length": ev.max_seq_length, "dtype": ev.dtype}
    runs = {"today": {"batch_size": ev.batch_size}, "new": {"batch_size": args.batch, "encode_all_first": True}}
    seconds, scores, encoded = {}, {}, {}
    peak = matmul_peak(torch.bfloat16)
    with tempfile.TemporaryDirectory() as tmp:
        for phase in ("cold", "warm"):
            for name, kw in runs.items():
                seconds[name, phase], scores[name, phase], encoded[name, phase] = timed_evaluate(
                    args.model, ev.tasks, langs, Path(tmp) / name, **common, **kw)
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; model "
          f"{args.model}, tasks {', '.join(ev.tasks)}, langs {args.langs}, dtype {ev.dtype} "
          "(shared machine: absolute seconds move with its load)")
    for (name, phase), value in seconds.items():
        log = encoded[name, phase]
        split = ", ".join(f"{p} {log.seconds[p]:.1f}" for p in PHASES)
        print(f"  {name:5s} {phase}: {value:7.1f} s ({split}; {log.texts} texts encoded)")
    cold = seconds["today", "cold"] / seconds["new", "cold"]
    warm = seconds["today", "warm"] / seconds["new", "warm"]
    print(f"cold {cold:.2f}x (target >= 2x): {'PASS' if cold >= 2 else 'FAIL'}; warm {warm:.2f}x")
    a, b = scores["today", "cold"], scores["new", "cold"]
    gap = (a["score"] - b["score"]).abs().max()
    print(f"scores today vs new: {len(a)} rows, max |diff| {gap:.2e}")
    tasks = select_tasks(ev.tasks, langs, strict=False)
    for task in tasks:
        task.load_data()
    encoding_roofline(args.model, task_texts(tasks), args.batch, ev.max_seq_length, ev.dtype,
                      encoded["new", "cold"].seconds["encoding"], peak,
                      args.out / f"eval_encoding_profile_{args.model}.txt")


if __name__ == "__main__":
    main()
