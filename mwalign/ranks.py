"""Which process am I: the one rank/world-size reading for the corpus builder and the trainer.

An initialised ``torch.distributed`` group answers first; before (or without) one, the ``RANK`` and
``WORLD_SIZE`` variables that ``torchrun`` sets; a plain process is rank 0 of 1. Torch is not imported
here: a process that never imported ``torch.distributed`` has no group to ask.
"""

from __future__ import annotations

import os
import sys


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside ``torchrun``."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
