"""One model's whole evaluation (the cpu profile's tasks), today's vs one-pass encoding, cold and warm.

Today: ``mwalign.evaluation.evaluate`` as the cpu profile runs it (mteb asks for each subset's texts,
batch 64). New: ``encode_all_first=True`` (every distinct text of all tasks in one length-sorted pass
into the embedding cache, at ``--batch``), then the same mteb scoring from the cache. Each runs on a fresh
results folder (cold), then again on it (warm); scores are compared (bf16 batches of other composition
may differ in the last bits). Run alternately, so load from other jobs hits both; on a shared machine
only the ratios are meaningful.

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

from mwalign.config import load_config
from mwalign.evaluation import evaluate


class EncodeLog(logging.Handler):
    """Collects evaluate's per-model "encoded N texts in S s" line: how much of a run is encoding."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.texts, self.seconds = 0, 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.endswith("encoded %d texts in %.1fs"):
            self.texts += record.args[1]
            self.seconds += record.args[2]


def timed_evaluate(model: str, tasks: list[str], langs: list[str], results: Path, **kw):
    encoded, stage_log = EncodeLog(), logging.getLogger("mwalign.evaluation.stage")
    stage_log.addHandler(encoded)
    stage_log.setLevel(logging.INFO)
    start = time.perf_counter()
    try:
        scores = evaluate({"bench": model}, tasks, langs, results_dir=results, bootstrap=0, strict_langs=False, **kw)
    finally:
        stage_log.removeHandler(encoded)
    return time.perf_counter() - start, scores, encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-en")
    parser.add_argument("--profile", default="params/cpu.yml")
    parser.add_argument("--langs", default="eng,spa,fra,deu", help="comma-separated (the profile's are more)")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    ev = load_config(args.profile).evaluation
    langs = args.langs.split(",")
    common = {"max_seq_length": ev.max_seq_length, "dtype": ev.dtype}
    runs = {"today": {"batch_size": ev.batch_size}, "new": {"batch_size": args.batch, "encode_all_first": True}}
    seconds, scores, encoded = {}, {}, {}
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
        print(f"  {name:5s} {phase}: {value:7.1f} s, of which encoding {log.texts} texts {log.seconds:6.1f} s")
    cold = seconds["today", "cold"] / seconds["new", "cold"]
    warm = seconds["today", "warm"] / seconds["new", "warm"]
    print(f"cold {cold:.2f}x (target >= 2x): {'PASS' if cold >= 2 else 'FAIL'}; warm {warm:.2f}x")
    a, b = scores["today", "cold"], scores["new", "cold"]
    gap = (a["score"] - b["score"]).abs().max()
    print(f"scores today vs new: {len(a)} rows, max |diff| {gap:.2e}")


if __name__ == "__main__":
    main()
