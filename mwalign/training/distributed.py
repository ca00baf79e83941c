"""Data-parallel training on ``torchrun`` / ``torch.distributed`` (gloo on CPU, nccl on GPU).

Each global batch of ``batch_size`` rows is split across ranks (rank r takes rows r, r+W, ...); the loss
all-gathers embeddings (with gradient) so every rank's anchors see the global batch's negatives; after
backward the gradients are averaged with one flat all-reduce, which gives exactly the single-process
gradients of the global batch (tested with 2 processes). Replicas start from rank 0's weights.

Why not the ``DistributedDataParallel`` wrapper: it gave gradients far from the single-process ones in the
2-process test, and the cause is found (``test_ddp_wrapper_matches_single_process_once_unused_parameters_are_frozen``):
sentence-transformers mean-pools the token embeddings, so BERT/XLM-R's ``pooler`` gets no gradient. DDP
all-reduces a gradient bucket only once every parameter in it has one; a small model has one bucket, so
nothing was reduced and each rank kept its own partial gradient, without an error until the next forward.
With the pooler frozen, DDP (forward through the wrapper) matches the single process to 1e-6, as this
all-reduce does. We keep the all-reduce: it skips parameters without a gradient by construction, needs no
forward through a wrapper (GradCache and the dev metric call the bare model) and no ``find_unused_parameters``
graph walk, which with the loss's gradient-carrying all-gather failed here ("mark a variable ready only once").
Only rank 0 writes files; ranks meet at a barrier after each write.

Run a stage on 2 processes::

    torchrun --nproc_per_node 2 -m mwalign.training params/cpu.yml runs/cpu
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from mwalign.ranks import rank_and_world

__all__ = ["average_gradients", "barrier", "broadcast_parameters", "check_data_parallel", "is_main_process",
           "local_share", "rank_and_world"]


def is_main_process() -> bool:
    return rank_and_world()[0] == 0


def barrier() -> None:
    if rank_and_world()[1] > 1:
        dist.barrier()


def local_share(indices: list[int]) -> list[int]:
    """This rank's rows of a global batch."""
    rank, world = rank_and_world()
    return indices[rank::world]


def check_data_parallel(batch_size: int, grad_cache_mini_batch: int | None) -> None:
    """Fail before training if the batch cannot be split evenly or GradCache is combined with torchrun."""
    _, world = rank_and_world()
    if world == 1:
        return
    if batch_size % world:
        raise ValueError(f"training.batch_size={batch_size} must be divisible by the {world} torchrun processes")
    if grad_cache_mini_batch:
        raise ValueError("training.grad_cache_mini_batch is not supported with torchrun; unset one of them")


def broadcast_parameters(model: nn.Module) -> None:
    """Make every replica start from rank 0's weights."""
    if rank_and_world()[1] > 1:
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)


def average_gradients(model: nn.Module) -> None:
    """Average parameter gradients over ranks in one flat all-reduce (what DDP's reducer does in buckets)."""
    _, world = rank_and_world()
    if world == 1:
        return
    grads = [p.grad for p in model.parameters() if p.requires_grad and p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])  # (P,)
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
        offset += grad.numel()
