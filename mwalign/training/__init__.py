"""Alignment training: the multi-way contrastive loss family, the training loop and the stage entry points."""

from mwalign.training.stage import run_alignment_stage, run_me5_stage

__all__ = ["run_alignment_stage", "run_me5_stage"]
