"""Data parallel on 2 CPU processes (gloo): all-gathered negatives give the single-process loss and gradients."""

from __future__ import annotations

import datetime
import faulthandler
import gc
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from sentence_transformers import SentenceTransformer

from mwalign.training.data import make_batch, rows_from_frame
from mwalign.training.distributed import average_gradients, broadcast_parameters, local_share
from mwalign.training.encoding import forward_embeddings
from mwalign.training.losses import MultiWayContrastiveLoss

from .conftest import FIXTURE_LANGUAGES, corpus_frame

GLOBAL_BATCH = [0, 2, 3, 5, 8, 11, 13, 15]
WORKER_SECONDS = 120  # a worker that hangs (a collective never matched) fails the test instead of the suite


def _init(rank: int, world: int, init_file: str) -> None:
    """Join the gloo group; a worker still running after WORKER_SECONDS prints its stack and exits."""
    torch.set_num_threads(1)
    faulthandler.dump_traceback_later(WORKER_SECONDS, exit=True, file=sys.stderr)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=WORKER_SECONDS // 2))


def _spawn(worker, args: tuple) -> None:
    """``mp.spawn`` of 2 ranks that fails, naming the rank, if one ends badly or the pair outlives its time."""
    context = mp.start_processes(worker, args=args, nprocs=2, join=False, start_method="spawn")
    try:
        deadline = WORKER_SECONDS + 60
        for _ in range(deadline):
            if context.join(timeout=1):
                return
        raise AssertionError(f"the 2 gloo workers did not finish within {deadline} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()


def _one_step(model, rows, indices, gather: bool):
    """Loss and parameter gradients of one step (eval mode: no dropout, so both runs are deterministic)."""
    model.eval()
    loss = MultiWayContrastiveLoss(model, hard_positive_weight=0.5, drift_weight=0.0, gather_across_devices=gather)
    batch = make_batch(rows, indices)
    value = loss.loss_from_embeddings(forward_embeddings(model, batch.texts, "fp32"), batch.labels)
    value.backward()
    average_gradients(model)  # the loop's call; a no-op in the single process
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    return value.detach(), grads


def _worker(rank: int, world: int, init_file: str, model_dir: str, frame_path: str, out_path: str) -> None:
    _init(rank, world, init_file)
    try:
        import pandas as pd

        rows = rows_from_frame(pd.read_parquet(frame_path), "train")
        model = SentenceTransformer(model_dir, device="cpu")
        broadcast_parameters(model)
        value, grads = _one_step(model, rows, local_share(GLOBAL_BATCH), gather=True)
        mean_loss = value.clone()
        dist.all_reduce(mean_loss)
        tensors = {"loss": (mean_loss / world).detach(), **{f"grad/{k}": v.contiguous() for k, v in grads.items()}}
        save_file(tensors, f"{out_path}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_ddp_matches_single_process(tiny_model_dir, fixture_lines, tmp_path):
    # Given 16 rows and a global batch of 8 rows
    frame = corpus_frame({k: v[:16] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES)
    frame.to_parquet(tmp_path / "rows.parquet")
    rows = rows_from_frame(frame, "train")
    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    single_loss, single_grads = _one_step(model, rows, GLOBAL_BATCH, gather=False)
    # When 2 gloo processes each take half the rows, all-gather embeddings and average gradients
    _spawn(_worker, (2, str(tmp_path / "init"), str(tiny_model_dir), str(tmp_path / "rows.parquet"),
                     str(tmp_path / "out")))
    results = []
    for rank in range(2):
        saved = load_file(str(tmp_path / f"out.{rank}"))
        results.append({"loss": saved["loss"], "grads": {k[5:]: v for k, v in saved.items() if k.startswith("grad/")}})
    # Then the mean rank loss and every rank's gradients equal the single-process ones
    for result in results:
        assert torch.allclose(result["loss"], single_loss, atol=1e-5), f"{result['loss']} vs {single_loss}"
        for name, grad in single_grads.items():
            got = result["grads"][name]
            assert torch.allclose(got, grad, atol=1e-6, rtol=1e-4), f"data-parallel gradient differs: {name}"


def _ddp_worker(rank: int, world: int, init_file: str, model_dir: str, frame_path: str, out_path: str,
                freeze_unused: bool) -> None:
    """One step under torch's ``DistributedDataParallel``, optionally with the unused BERT pooler frozen."""
    _init(rank, world, init_file)
    try:
        import pandas as pd
        from torch.nn.parallel import DistributedDataParallel

        rows = rows_from_frame(pd.read_parquet(frame_path), "train")
        model = SentenceTransformer(model_dir, device="cpu")
        model.eval()
        if freeze_unused:  # sentence-transformers pools the token embeddings itself: BERT's pooler gets no gradient
            for name, parameter in model.named_parameters():
                parameter.requires_grad_(".pooler." not in name)
        # broadcasts rank 0's weights; all-reduces each gradient bucket in backward once all its parameters have one
        ddp = DistributedDataParallel(model)
        loss = MultiWayContrastiveLoss(model, hard_positive_weight=0.5, drift_weight=0.0, gather_across_devices=True)
        batch = make_batch(rows, local_share(GLOBAL_BATCH))
        features = model.preprocess(batch.texts)
        embeddings = ddp(features)["sentence_embedding"]  # (N_local, d)
        loss.loss_from_embeddings(embeddings, batch.labels).backward()
        save_file({n: p.grad.contiguous() for n, p in model.named_parameters() if p.grad is not None},
                  f"{out_path}.{rank}")
        # The wrapper goes before its process group: a reducer whose bucket never became ready (the unfrozen
        # pooler) could otherwise hang in its destructor, after the group is gone, when the worker returns.
        del ddp
        gc.collect()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_wrapper_matches_single_process_once_unused_parameters_are_frozen(tiny_model_dir, fixture_lines,
                                                                              tmp_path):
    """The earlier DDP mismatch, explained: BERT's pooler gets no gradient (sentence-transformers mean-pools the
    token embeddings), so DDP's gradient bucket never becomes ready and nothing is all-reduced, silently."""
    # Given the single-process gradients of the global batch
    frame = corpus_frame({k: v[:16] for k, v in fixture_lines.items()}, FIXTURE_LANGUAGES)
    frame.to_parquet(tmp_path / "rows.parquet")
    rows = rows_from_frame(frame, "train")
    _, single_grads = _one_step(SentenceTransformer(str(tiny_model_dir), device="cpu"), rows, GLOBAL_BATCH, False)
    got = {}
    for freeze in (True, False):
        # When 2 gloo processes take one DDP step, with the unused pooler frozen or not
        out = tmp_path / f"ddp-{freeze}"
        _spawn(_ddp_worker, (2, str(tmp_path / f"init-{freeze}"), str(tiny_model_dir),
                             str(tmp_path / "rows.parquet"), str(out), freeze))
        got[freeze] = [load_file(f"{out}.{rank}") for rank in range(2)]
    # Then with it frozen every rank's gradients equal the single-process ones ...
    for grads in got[True]:
        for name, grad in single_grads.items():
            assert torch.allclose(grads[name], grad, atol=1e-6, rtol=1e-4), f"DDP gradient differs: {name}"
    # ... and without, each rank keeps its own un-averaged gradient: the mismatch seen before
    name = "0.model.embeddings.word_embeddings.weight"
    assert not torch.allclose(got[False][0][name], got[False][1][name], atol=1e-6), "no all-reduce happened"
    assert not torch.allclose(got[False][0][name], single_grads[name], atol=1e-6, rtol=1e-4)
