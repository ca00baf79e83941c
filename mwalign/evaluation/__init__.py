"""Stage 04: MTEB evaluation on the mirrored data (see docs/CONTRACTS.md)."""

from mwalign.evaluation.stage import ModelEntry, evaluate, run_evaluation_stage
from mwalign.evaluation.tasks import TASK_NAMES, get_task, task_class

__all__ = ["TASK_NAMES", "task_class", "ModelEntry", "evaluate", "get_task", "run_evaluation_stage"]
