"""Resumable training state: weights, optimizer, scheduler, RNG and loop counters, written atomically.

A checkpoint folder holds ``model.safetensors``, ``state.safetensors`` (optimizer tensors and the
torch RNG) and ``state.json`` (everything else); no pickle is ever loaded. It is written to a temp
folder and swapped in (:func:`mwalign.atomic.atomic_dir`), so a kill at any moment leaves the old or the new checkpoint.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn

from mwalign import atomic

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
    sentences_seen: int = 0  # sentences encoded by all ranks so far (the learning curves' second x axis)
    best_per_row: list[float | None] | None = None  # the best checkpoint's per-row dev values (paired SE)
    history: list[dict[str, Any]] = field(default_factory=list)


def save_checkpoint(work_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                    state: LoopState, fingerprint: str) -> Path:
    """Write the checkpoint atomically and return its folder."""
    final = work_dir / CHECKPOINT_DIR
    with atomic.atomic_dir(final) as tmp:
        _write_checkpoint(tmp, model, optimizer, scheduler, state, fingerprint)
    return final


def _write_checkpoint(tmp: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                      state: LoopState, fingerprint: str) -> None:
    save_model(model, str(tmp / "model.safetensors"))
    optimizer_state = optimizer.state_dict()
    tensors = {"torch_rng": torch.get_rng_state()}
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, param_state in optimizer_state["state"].items():
        for name, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"optimizer/{param_id}/{name}"] = value.contiguous()
            else:
                scalars.setdefault(str(param_id), {})[name] = value
    save_file(tensors, str(tmp / "state.safetensors"))
    meta = {
        "fingerprint": fingerprint,
        "loop": asdict(state),
        "optimizer": {"param_groups": optimizer_state["param_groups"], "scalars": scalars},
        "scheduler": scheduler.state_dict(),
        "python_rng": random.getstate(),
    }
    (tmp / "state.json").write_text(json.dumps(meta), encoding="utf-8")


def has_checkpoint(work_dir: Path) -> bool:
    return (work_dir / CHECKPOINT_DIR).exists()


def checkpoint_fingerprint(work_dir: Path) -> str | None:
    """The settings fingerprint a checkpoint was written with (None if unreadable)."""
    try:
        return json.loads((work_dir / CHECKPOINT_DIR / "state.json").read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError):
        return None


def load_checkpoint(work_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any,
                    fingerprint: str) -> LoopState:
    """Restore everything ``save_checkpoint`` wrote; a missing, corrupt or foreign checkpoint is an error."""
    folder = work_dir / CHECKPOINT_DIR
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no checkpoint to resume from; rerun without resume to start fresh")
    try:
        payload = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        tensors = load_file(str(folder / "state.safetensors"))
        load_model(model, str(folder / "model.safetensors"))
    except Exception as err:  # any read/parse failure means the same thing to the user
        raise RuntimeError(f"{folder}: corrupt checkpoint ({type(err).__name__}: {err}); "
                           f"delete {work_dir} to restart this model from scratch") from None
    if payload.get("fingerprint") != fingerprint:
        raise RuntimeError(f"{folder}: checkpoint was written with different settings or corpus; "
                           f"delete {work_dir} to restart this model from scratch")
    optimizer.load_state_dict(_optimizer_state(payload["optimizer"], tensors))
    scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(tensors["torch_rng"])
    version, internal, gauss = payload["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    return LoopState(**payload["loop"])


def _optimizer_state(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Reassemble ``optimizer.state_dict()`` from its JSON scalars and safetensors tensors."""
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in meta["scalars"].items()}
    for key, value in tensors.items():
        if key.startswith("optimizer/"):
            _, param_id, name = key.split("/", 2)
            state.setdefault(int(param_id), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}
