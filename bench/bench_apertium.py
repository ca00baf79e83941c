"""Apertium backend throughput vs the raw ``apertium`` command on the same 10k-sentence file.

Baseline: ``apertium <mode> in.txt > out.txt`` (one process, file in, file out).
Candidate: ``ApertiumBackend.translate`` on the same sentences (batches of 5000 lines
per process, line-mapping checks, unknown-word counting). Target: ratio >= 0.9.

    .venv/bin/python bench/bench_apertium.py [--n 10000] [--tgt spa]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from mwalign.corpus.backends.apertium import ROUTES, ApertiumBackend, _mode_version
from mwalign.corpus.sources import clean_roots, gensim_lee, gensim_wiki


def sentences(n: int) -> list[str]:
    """n English sentences from the offline sources (Lee news first, then the Wikipedia sample)."""
    drops: Counter = Counter()
    roots = clean_roots(list(gensim_lee(drops)) + list(gensim_wiki(drops)), 12, 300, frozenset(), drops)
    if len(roots) < n:
        raise SystemExit(f"--n {n}: only {len(roots)} offline sentences available")
    return [r.text for r in roots[:n]]


def raw_command(tgt: str, path: Path) -> float:
    """Seconds for the shell pipeline of raw apertium calls (pivot routes chain two modes)."""
    pipeline = " | ".join(f"apertium {mode}" for mode in ROUTES[tgt])
    start = time.perf_counter()
    subprocess.run(f"cat {path} | {pipeline} > {path}.out", shell=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--tgt", default="spa", choices=sorted(ROUTES))
    args = parser.parse_args()
    texts = sentences(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        raw = raw_command(args.tgt, path)
        raw_lines = len((Path(tmp) / "in.txt.out").read_text(encoding="utf-8").splitlines())
    start = time.perf_counter()
    out = ApertiumBackend().translate(texts, "eng", args.tgt)
    ours = time.perf_counter() - start
    print(f"device: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared); "
          f"python {platform.python_version()}; modes: {[f'{m}={_mode_version(m)}' for m in ROUTES[args.tgt]]}")  # fmt: skip
    print(f"sentences: {len(texts)} eng->{args.tgt}; raw output lines {raw_lines}; backend failures "
          f"{sum(t.text is None for t in out)}; unknown words {sum(t.unknown for t in out)}")  # fmt: skip
    print(f"raw apertium: {raw:.2f}s ({len(texts) / raw:.0f} sent/s); backend: {ours:.2f}s ({len(texts) / ours:.0f} sent/s)")
    print(f"throughput backend/raw: {raw / ours:.2f}x (target >= 0.9x)")


if __name__ == "__main__":
    main()
