"""``torchrun --nproc_per_node N -m mwalign.training <profile> <run_dir>``: the alignment stage, data-parallel.

Without a launcher (``python -m mwalign.training ...``) it trains in this one process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist


def main(argv: list[str] | None = None) -> None:
    from mwalign.config import load_config
    from mwalign.training.stage import run_alignment_stage

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: torchrun --nproc_per_node N -m mwalign.training <profile> <run_dir>")
    cfg = load_config(args[0])  # a bad profile fails before any process group exists
    if "RANK" not in os.environ:  # plain python: no launcher, train in this process only
        run_alignment_stage(cfg, Path(args[1]))
        return
    # NCCL on CUDA (each rank on its LOCAL_RANK device), gloo on CPU
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        run_alignment_stage(cfg, Path(args[1]))
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
