"""Translation engines side by side: the ``hf`` backend (transformers ``generate``) against ``ct2`` (CTranslate2).

Both translate the same sentences with the same locally built NLLB-shaped model (random weights, FLORES
language tokens; :func:`mwalign.synthetic.build_tiny_nllb`), greedy, into two target languages.
Prints sentences per second of each, the speed-up (target >= 2x on CPU), and how many outputs of each
engine setting equal the hf float32 ones. On a CUDA machine pass ``--device cuda``.

    .venv/bin/python bench/bench_ct2.py [--sentences 1000] [--d-model 256] [--layers 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from pathlib import Path

import torch

from mwalign.corpus.backends.base import get_backend
from mwalign.synthetic import WORDS, build_tiny_nllb

TARGETS = ("spa", "fra")


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(4, 30))) for _ in range(n)]


def timed(backend, texts: list[str]) -> tuple[float, dict[str, list[str | None]]]:
    start = time.perf_counter()
    out = {tgt: [t.text for t in backend.translate(texts, "eng", tgt)] for tgt in TARGETS}
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import ctranslate2

    print(f"machine: {platform.processor() or platform.machine()}, device {args.device}, torch {torch.__version__}, "
          f"ctranslate2 {ctranslate2.__version__}, {torch.get_num_threads()} threads")
    texts = sentences(args.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_nllb(Path(tmp) / "nllb", d_model=args.d_model, layers=args.layers)
        common = {"model": str(model), "max_new_tokens": args.max_new_tokens, "device": args.device}
        runs = {
            "hf fp32": get_backend("hf", batch_size=64, dtype="fp32", **common),
            "hf auto": get_backend("hf", batch_size=64, dtype="auto", **common),
            "ct2 float32": get_backend("ct2", dtype="float32", models_dir=Path(tmp) / "ct2", **common),
            "ct2 auto": get_backend("ct2", dtype="auto", models_dir=Path(tmp) / "ct2", **common),
        }
        for backend in runs.values():  # load and convert outside the timed region
            backend.translate(texts[:2], "eng", TARGETS[0])
        results = {name: timed(backend, texts) for name, backend in runs.items()}
    reference = results["hf fp32"][1]
    n = len(texts) * len(TARGETS)
    for name, (seconds, out) in results.items():
        same = sum(a == b for tgt in TARGETS for a, b in zip(out[tgt], reference[tgt]))
        dtype = runs[name].resolved_dtype
        print(f"{name:12s} ({dtype}): {n / seconds:8.1f} sentences/s, outputs equal to hf fp32: {same}/{n}")
    hf_best = min(results["hf fp32"][0], results["hf auto"][0])
    ct2_best = min(results["ct2 float32"][0], results["ct2 auto"][0])
    print(f"ct2 vs hf (fastest setting of each): {hf_best / ct2_best:.1f}x "
          f"(target >= 2x: {'met' if hf_best / ct2_best >= 2 else 'NOT met'}); "
          f"same dtype (float32): {results['hf fp32'][0] / results['ct2 float32'][0]:.1f}x")


if __name__ == "__main__":
    main()
