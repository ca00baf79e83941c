"""Alignment training: the multi-way contrastive loss family, the training loop and the stage entry points."""

from mwalign.lazy import exports

_EXPORTS = {"run_alignment_stage": "stage", "run_me5_stage": "stage"}
__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
