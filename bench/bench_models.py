"""Offline-model costs: tokenizer load, prepare, and fp32 vs bf16 me5-small encoding.

1. Tokenizer load. Baseline: transformers' ``XLMRobertaTokenizer(tokenizer_file=...)``,
   which re-parses the 17 MB JSON in Python. Candidate: the saved tokenizer
   (generic ``TokenizersBackend``, native load). Identical ids are tested in
   tests/models/test_prepare.py.
2. prepare: cold build time and disk size per local model (into a temp models dir).
3. me5-small encoding of NTREX English->German (--n sentences each side). Baseline fp32,
   candidate bf16 autocast: time ratio, embedding cosine, nearest-neighbour accuracy.

    .venv/bin/python bench/bench_models.py [--n 300] [--skip-prepare]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import sentence_transformers
import torch
import transformers

from mwalign import config, models
from mwalign.models.recipes import LOCAL_MODELS


def timed(function, repeat: int = 1):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_tokenizer(folder: Path) -> None:
    """What every model load pays: AutoTokenizer on a saved folder of each tokenizer class."""
    tokenizer_json = LOCAL_MODELS["tiny-xlmr"].sources["tokenizer"].path()
    with tempfile.TemporaryDirectory() as plain_dir:
        transformers.XLMRobertaTokenizer(tokenizer_file=str(tokenizer_json)).save_pretrained(plain_dir)
        plain, _ = timed(lambda: transformers.AutoTokenizer.from_pretrained(plain_dir), repeat=2)
    fast, _ = timed(lambda: transformers.AutoTokenizer.from_pretrained(str(folder)), repeat=2)
    print(f"tokenizer load: XLMRobertaTokenizer folder {plain:.2f} s, saved backend folder {fast:.2f} s "
          f"-> time {fast / plain:.2f}x")


def bench_prepare(models_dir: Path) -> dict[str, Path]:
    folders = {}
    for name in LOCAL_MODELS:
        seconds, folders[name] = timed(lambda name=name: models.prepare(name, models_dir, force=True))
        size = sum(p.stat().st_size for p in folders[name].rglob("*") if p.is_file())
        print(f"prepare {name}: {seconds:.1f} s, {size / 1e6:.1f} MB on disk")
    return folders


def ntrex(code: str, n: int) -> list[str]:
    name = "newstest2019-src.eng.txt" if code == "eng" else f"newstest2019-ref.{code}.txt"
    return (config.data_dir() / "ntrex128" / "NTREX-128" / name).read_text(encoding="utf-8").splitlines()[:n]


def encode_pair(model, english: list[str], german: list[str], bf16: bool) -> tuple[np.ndarray, np.ndarray]:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        return (model.encode(english, batch_size=32, normalize_embeddings=True),
                model.encode(german, batch_size=32, normalize_embeddings=True))


def bench_dtype(folder: Path, n: int) -> None:
    model = models.load(str(folder))
    english, german = ntrex("eng", n), ntrex("deu", n)
    results = {}
    for label, bf16 in (("fp32", False), ("bf16", True)):
        seconds, (src, tgt) = timed(lambda bf16=bf16: encode_pair(model, english, german, bf16))
        accuracy = float((np.argmax(src @ tgt.T, axis=1) == np.arange(n)).mean())
        results[label] = (seconds, src)
        print(f"me5-small {label}: {2 * n / seconds:.1f} sentences/s, eng->deu accuracy {accuracy:.3f}")
    cosine = (results["fp32"][1] * results["bf16"][1]).sum(axis=1)
    print(f"bf16 vs fp32: time {results['bf16'][0] / results['fp32'][0]:.2f}x, "
          f"embedding cosine min {cosine.min():.5f} mean {cosine.mean():.5f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="NTREX sentences per side for the dtype bench")
    parser.add_argument("--skip-prepare", action="store_true", help="reuse config.models_dir() instead of cold builds")
    args = parser.parse_args()
    print(f"device: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads; "
          f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"sentence-transformers {sentence_transformers.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.skip_prepare:
            folders = {name: models.prepare(name) for name in LOCAL_MODELS}
        else:
            folders = bench_prepare(Path(tmp))
        bench_tokenizer(folders["tiny-xlmr"])
        bench_dtype(folders["me5-small"], args.n)


if __name__ == "__main__":
    main()
