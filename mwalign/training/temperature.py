"""The temperature picked per base model from a small dev grid (the paper tuned it per model).

Rule: for each base model, one short multi-way run per temperature of ``training.temperature_grid``
(the first seed, ``training.temperature_grid_steps`` optimiser steps, one dev evaluation at the end);
the temperature with the best dev bitext accuracy wins, ties going to the earlier one in the grid. The
winner then trains every model of that base, multi-way and bilingual alike, so neither method gets a
temperature tuned for it alone. The choice is written to ``models/temperature_grid.json`` and enters
each job's hash through its loss settings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from mwalign.artifacts import json_or_none
from mwalign import atomic
from mwalign.config import LossConfig
from mwalign.training.data import RowTable
from mwalign.training.distributed import is_main_process
from mwalign.training.loop import TrainSettings, train
from mwalign.training.losses import MultiWayContrastiveLoss

RECORD = "temperature_grid.json"


def read_choices(run_dir: Path) -> dict[str, dict[str, Any]]:
    """``models/temperature_grid.json``: per base model, the grid, its dev accuracies and the chosen value."""
    path = Path(run_dir) / "models" / RECORD
    return json_or_none(path) or {}  # damaged: the grid is run again


def pick_temperature(load_model, base: str, grid: list[float], rows: RowTable, dev: RowTable,
                     settings: TrainSettings, loss: LossConfig, steps: int, run_dir: Path, key: str) -> float:
    """The grid's best temperature for ``base`` (see module docstring); reuses a record of the same ``key``."""
    record = read_choices(run_dir)
    payload = {"key": key, "base": base, "grid": grid, "steps": steps, "settings": asdict(settings),
               "loss": loss.model_dump()}
    run_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    if record.get(base, {}).get("hash") == run_hash:
        return float(record[base]["chosen"])
    short = replace(settings, max_steps=steps, eval_every=steps, evaluations_per_epoch=None, patience=steps + 1)
    accuracies, scratch = [], Path(run_dir) / "models" / ".temperature-grid"
    for temperature in grid:
        model = load_model()
        work_dir = scratch / f"{Path(base).name}-t{temperature:g}"
        shutil.rmtree(work_dir, ignore_errors=True)  # a short run is cheap: never resume a stale one
        trial = MultiWayContrastiveLoss(model, **{**loss.model_dump(), "temperature": temperature})
        result = train(model, trial, rows, dev, short, work_dir, resume="never")
        accuracies.append(result.best_metric)
    shutil.rmtree(scratch, ignore_errors=True)
    chosen = grid[max(range(len(grid)), key=lambda i: (accuracies[i], -i))]
    if is_main_process():
        record = read_choices(run_dir)
        record[base] = {"hash": run_hash, "grid": grid, "dev_metric": accuracies, "chosen": chosen,
                        "steps": steps, "method": "multiway", "seed": settings.seed}
        atomic.write_json(Path(run_dir) / "models" / RECORD, record, indent=2)
    return chosen
