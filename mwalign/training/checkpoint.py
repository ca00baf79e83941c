"""Resumable training state: weights, optimizer, scheduler, RNG and loop counters, written atomically.

A checkpoint folder holds ``model.safetensors`` and ``state.pt``; it is written to a temp folder and
swapped in with ``os.replace``, so a kill at any moment leaves either the old or the new checkpoint.
"""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn

CHECKPOINT_DIR = "checkpoint"


@dataclass
class LoopState:
    """Where the loop is: the next (epoch, batch) to run and the early-stopping bookkeeping."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    evals_without_improvement: int = 0
    stopped_early: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)


def save_checkpoint(work_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                    state: LoopState, fingerprint: str) -> Path:
    """Write the checkpoint atomically and return its folder."""
    final = work_dir / CHECKPOINT_DIR
    tmp = work_dir / f"{CHECKPOINT_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(model, str(tmp / "model.safetensors"))
    torch.save({
        "fingerprint": fingerprint,
        "loop": asdict(state),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "python_rng": random.getstate(),
    }, tmp / "state.pt")
    old = work_dir / f"{CHECKPOINT_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def has_checkpoint(work_dir: Path) -> bool:
    return (work_dir / CHECKPOINT_DIR).exists()


def load_checkpoint(work_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                    fingerprint: str) -> LoopState:
    """Restore everything ``save_checkpoint`` wrote; a missing, corrupt or foreign checkpoint is an error."""
    folder = work_dir / CHECKPOINT_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no checkpoint to resume from; rerun without resume to start fresh")
    try:
        payload = torch.load(folder / "state.pt", weights_only=False)
        load_model(model, str(folder / "model.safetensors"))
    except Exception as err:  # any read/parse failure means the same thing to the user
        raise RuntimeError(f"{folder}: corrupt checkpoint ({type(err).__name__}: {err}); "
                           f"delete {work_dir} to restart this model from scratch") from None
    if payload.get("fingerprint") != fingerprint:
        raise RuntimeError(f"{folder}: checkpoint was written with different settings or corpus; "
                           f"delete {work_dir} to restart this model from scratch")
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(payload["torch_rng"])
    random.setstate(payload["python_rng"])
    return LoopState(**payload["loop"])
