"""Cost of re-running a corpus build vs the cold build (target: rerun <= 5% of cold).

Three runs of the corpus stage in one process, with a fresh cache in a temporary run dir:
cold (everything translated), rerun (the complete build is detected and reused) and a
forced rebuild with a warm cache (sources, filters and Parquet redone; no translation).

    .venv/bin/python bench/bench_corpus_rebuild.py [--profile smoke] [--n-roots 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from mwalign.config import load_config
from mwalign.corpus import run_corpus_stage


def timed(label: str, **kwargs) -> tuple[float, dict]:
    start = time.perf_counter()
    manifest = run_corpus_stage(**kwargs, progress=False)
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:7.2f}s  translated={manifest['run']['translated']:<6} "
          f"content_hash={manifest['content_hash']}")  # fmt: skip
    return seconds, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--n-roots", type=int, default=1000)
    args = parser.parse_args()
    cfg = load_config(args.profile, [f"corpus.n_roots={args.n_roots}"])
    print(f"device: {platform.machine()}, {os.cpu_count()} cores (shared); python {platform.python_version()}; "
          f"profile {args.profile}, source {cfg.corpus.source}, backend {cfg.corpus.backend}, "
          f"n_roots {cfg.corpus.n_roots}, pool {cfg.corpus.pool}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        cold, first = timed("cold build", cfg=cfg, run_dir=run_dir)
        rerun, second = timed("rerun (complete, reused)", cfg=cfg, run_dir=run_dir)
        forced, third = timed("forced rebuild, warm cache", cfg=cfg, run_dir=run_dir, force=True)
    assert first["content_hash"] == second["content_hash"] == third["content_hash"], "rebuilds must be identical"
    print(f"rerun/cold: {rerun / cold:.3f}x (target <= 0.05x); forced-warm/cold: {forced / cold:.3f}x")


if __name__ == "__main__":
    main()
