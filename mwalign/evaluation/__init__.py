"""Stage 04: MTEB evaluation on the mirrored data (see docs/CONTRACTS.md).

Entry points load on first use, so that checking task names (:func:`check_task_names`) at config load time
does not import mteb.
"""

from mwalign.evaluation.tasks import TASK_NAMES, check_task_names, get_task, task_class
from mwalign.lazy import exports

_EXPORTS = {"ModelEntry": "stage", "evaluate": "stage", "evaluate_with_profile": "stage", "run_evaluation_stage": "stage",
            "seen_languages_of": "stage", "training_sentences": "stage"}
__all__ = sorted(["TASK_NAMES", "check_task_names", "get_task", "task_class", *_EXPORTS])
__getattr__ = exports(__name__, _EXPORTS)
