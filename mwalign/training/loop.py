"""The training loop: root-unique batches, bf16 autocast, optional GradCache, checkpoints, early stopping.

Our own loop rather than SentenceTransformerTrainer: a multi-way batch is a variable number of sentences
per row with (row, language, sentence-id) labels and a drift cache indexed by sentence id, which the ST
collator and sampler do not model; owning the loop also makes exact resume testable (same final weights
after a kill) and keeps GradCache and DDP on one code path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn
from tqdm import tqdm  # plain bars: tqdm.auto wants ipywidgets inside notebooks

from mwalign import atomic
from mwalign.devices import grad_scaler, module_device
from mwalign.training.checkpoint import (
    CHECKPOINT_DIR,
    LoopState,
    checkpoint_fingerprint,
    has_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from mwalign.training.data import Batch, RootBatchSampler, RowTable, make_batch
from mwalign.training.dev_metric import DevMetric, dev_score, paired_difference
from mwalign.training.distributed import (
    average_gradients,
    barrier,
    broadcast_parameters,
    check_data_parallel,
    is_main_process,
    local_share,
    rank_and_world,
)
from mwalign.training.encoding import TokenCache, embed_texts, forward_embeddings, forward_features
from mwalign.training.grad_cache import grad_cache_backward
from mwalign.training.losses import MultiWayContrastiveLoss

log = logging.getLogger(__name__)

BEST_WEIGHTS = "best.safetensors"
REFERENCE = "reference.safetensors"
LOG = "train_log.jsonl"


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message names the step, the batch and the fix."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything a run needs besides model, loss and data; ``dtype`` is the effective one."""

    batch_size: int
    epochs: int
    learning_rate: float
    seed: int
    max_steps: int | None = None
    warmup_ratio: float = 0.1
    eval_every: int = 50
    patience: int = 10
    evaluations_per_epoch: int | None = None  # set: dev evaluations at evenly spaced steps of each epoch instead
    dev_metric: DevMetric = "pair-accuracy"
    dtype: Literal["bf16", "fp16", "fp32"] = "fp32"  # fp16 (CUDA without bf16) trains with a GradScaler
    prompt: str | None = None
    freeze_word_embeddings: bool = False
    grad_cache_mini_batch: int | None = None
    attention: Literal["sdpa", "eager"] | None = None  # None: the model's own kernel
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    show_progress: bool = True
    length_grouping: bool = False  # batches of similar token lengths (less padding); changes the batches
    fused_optimizer: bool = False  # fused AdamW: faster on CPU, not bit-identical to the foreach one


StopReason = Literal["patience", "epochs", "max_steps"]


@dataclass(frozen=True)
class TrainResult:
    """How a run ended: ``steps`` run (the stop step), the best dev evaluation and why it stopped.

    ``stop_reason``: ``patience`` (``patience`` evaluations without a new best), ``max_steps`` (the step cap
    came before the epoch cap) or ``epochs`` (all epochs ran). ``history`` is the dev curve.
    """

    steps: int
    best_metric: float | None
    best_step: int | None
    stopped_early: bool
    history: list[dict[str, Any]]
    stop_reason: StopReason = "epochs"
    epochs_run: float = 0.0
    total_steps: int = 0  # the steps planned (epochs, max_steps); ``steps`` is fewer when patience stopped it


StepHook = Callable[[int, dict[str, Any]], None]
# Called after every optimiser step with (model, step, sentences seen before it, sentences seen after it, total
# steps): saves learning-curve checkpoints where it wants them; it does not change training.
SnapshotHook = Callable[[nn.Module, int, int, int, int], None]


def train(model: nn.Module, loss: MultiWayContrastiveLoss, rows: RowTable, dev: RowTable | None,
          settings: TrainSettings, work_dir: Path, *, resume: Literal["auto", "require", "never"] = "auto",
          on_step: StepHook | None = None, snapshot: SnapshotHook | None = None) -> TrainResult:
    """Train ``model`` in place; checkpoints, log and best weights live in ``work_dir``.

    Ends with the best dev-metric weights loaded (the last weights if ``dev`` is None).
    """
    RootBatchSampler(rows.root_ids, settings.batch_size, settings.seed)  # validates before heavy work
    work_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    _freeze_word_embeddings(model, settings.freeze_word_embeddings)
    loaded_attention = _set_attention(model, settings.attention)
    tokens = _token_cache(model, rows, settings)
    sampler = _sampler(rows, settings, tokens)
    total_steps = _total_steps(sampler, settings)
    every = eval_interval(len(sampler), settings)
    optimizer, scheduler = _optimizer(model, settings, total_steps)
    fingerprint = _fingerprint(settings, rows, loss)
    state = _start_state(work_dir, model, optimizer, scheduler, fingerprint, resume)
    _prepare_reference(model, loss, rows, settings, work_dir, fresh=state.step == 0)
    check_data_parallel(settings.batch_size, settings.grad_cache_mini_batch)
    broadcast_parameters(model)
    loss.gather_across_devices = rank_and_world()[1] > 1
    scaler = grad_scaler(module_device(model), settings.dtype)  # None unless fp16
    if is_main_process():
        _truncate_log(work_dir / LOG, state.step)
    progress = tqdm(total=total_steps, initial=state.step, desc="align",
                    # None: off where stderr is no terminal (executed notebooks, CI logs)
                    disable=not (settings.show_progress and is_main_process()) or None)
    while state.step < total_steps and not state.stopped_early:
        batches = sampler.batches(state.epoch)
        if state.batch_in_epoch >= len(batches):
            state.epoch, state.batch_in_epoch = state.epoch + 1, 0
            continue
        batch = make_batch(rows, local_share(batches[state.batch_in_epoch]), settings.prompt)
        record = _train_step(model, loss, batch, optimizer, scheduler, settings, state, len(batches), scaler, tokens)
        before = state.sentences_seen
        state.sentences_seen += sum(len(rows.sentences[i]) for i in batches[state.batch_in_epoch])  # every rank's
        state.step, state.batch_in_epoch = state.step + 1, state.batch_in_epoch + 1
        record["sentences_seen"] = state.sentences_seen
        if snapshot is not None:
            snapshot(model, state.step, before, state.sentences_seen, total_steps)
        if dev is not None and (state.step % every == 0 or state.step == total_steps):
            record["dev_metric"] = _evaluate(model, dev, settings, state, work_dir)
        if is_main_process():
            _append_log(work_dir / LOG, record)
            if state.step % every == 0 or state.step == total_steps or state.stopped_early:
                save_checkpoint(work_dir, model, optimizer, scheduler, state, fingerprint)
        progress.update(1)
        progress.set_postfix(loss=f"{record['loss']:.4f}")
        if on_step is not None:
            on_step(state.step, record)
    progress.close()
    barrier()  # rank 0's best weights are on disk before anyone reads them
    if state.best_step is not None:
        load_model(model, str(work_dir / BEST_WEIGHTS))
    _set_attention(model, loaded_attention)
    return TrainResult(state.step, state.best_metric, state.best_step, state.stopped_early, list(state.history),
                       _stop_reason(state, sampler, settings), round(state.step / len(sampler), 3), total_steps)


def eval_interval(batches_per_epoch: int, settings: TrainSettings) -> int:
    """Steps between dev evaluations: ``eval_every``, or ``evaluations_per_epoch`` evenly spaced in every epoch
    (the same rule in epochs for corpora of different sizes, so both methods get the same patience in epochs)."""
    if settings.evaluations_per_epoch is None:
        return settings.eval_every
    return max(1, math.ceil(batches_per_epoch / settings.evaluations_per_epoch))


def _stop_reason(state: LoopState, sampler: RootBatchSampler, settings: TrainSettings) -> StopReason:
    if state.stopped_early:
        return "patience"
    capped = settings.max_steps is not None and settings.max_steps < len(sampler) * settings.epochs
    return "max_steps" if capped else "epochs"


def _train_step(model, loss, batch: Batch, optimizer, scheduler, settings: TrainSettings, state: LoopState,
                n_batches: int, scaler: torch.amp.GradScaler | None = None,
                tokens: TokenCache | None = None) -> dict[str, Any]:
    """One optimiser step; a non-finite loss stops with the step and batch named. ``scaler``: fp16 loss scaling."""
    model.train()
    started = time.perf_counter()
    labels = batch.labels.to(module_device(model))  # (N_local, 3), where the embeddings are
    if settings.grad_cache_mini_batch:
        value = grad_cache_backward(model, loss, batch.texts, labels,
                                    mini_batch_size=settings.grad_cache_mini_batch, dtype=settings.dtype,
                                    scaler=scaler)
    else:  # tokenised once per run where it can: the same features as tokenising batch.texts
        embeddings = (forward_features(model, tokens.features(batch.labels[:, 2].tolist()), settings.dtype)
                      if tokens is not None else forward_embeddings(model, batch.texts, settings.dtype))  # (N, d)
        value = loss.loss_from_embeddings(embeddings, labels)
    if not torch.isfinite(value):
        optimizer.zero_grad(set_to_none=True)
        raise NonFiniteLossError(
            f"non-finite loss {value.item()} at step {state.step + 1} (epoch {state.epoch}, batch "
            f"{state.batch_in_epoch + 1}/{n_batches}, roots {batch.root_ids[:3]}...); lower "
            "training.learning_rate or set training.dtype=fp32")
    if not settings.grad_cache_mini_batch:
        (scaler.scale(value) if scaler is not None else value).backward()
    average_gradients(model)  # no-op unless under torchrun
    if scaler is not None:
        scaler.unscale_(optimizer)  # clip the true gradients
    if settings.max_grad_norm:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], settings.max_grad_norm)
    lr = scheduler.get_last_lr()[0]
    if scaler is not None:
        scaler.step(optimizer)  # skipped if the fp16 gradients overflowed
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - started
    return {"step": state.step + 1, "epoch": state.epoch, "loss": value.item(), "lr": lr,
            "roots_per_s": batch.n_rows / seconds, "sentences_per_s": len(batch.texts) / seconds,
            "seconds": seconds}


def _evaluate(model, dev: RowTable, settings: TrainSettings, state: LoopState, work_dir: Path) -> float:
    """The dev metric; keeps the best weights on disk and counts evaluations without improvement."""
    score = dev_score(model, dev, settings.dev_metric, dtype=settings.dtype, prompt=settings.prompt)
    metric = score.value
    per_row = [None if math.isnan(v) else v for v in score.per_row]
    entry = {"step": state.step, "dev_metric": metric, "dev_se": score.se}
    if state.best_per_row is not None and len(state.best_per_row) == len(per_row):
        # against the best checkpoint so far, on the same rows: is this one better by more than the noise?
        entry["dev_vs_best"], entry["dev_vs_best_se"] = paired_difference(per_row, state.best_per_row)
    if state.best_metric is None or metric > state.best_metric:
        state.best_per_row = per_row
        state.best_metric, state.best_step, state.evals_without_improvement = metric, state.step, 0
        if is_main_process():
            with atomic.atomic_path(work_dir / BEST_WEIGHTS) as tmp:
                save_model(model, str(tmp))
    else:
        state.evals_without_improvement += 1
        state.stopped_early = state.evals_without_improvement >= settings.patience
    state.history.append(entry)
    return metric


def _start_state(work_dir, model, optimizer, scheduler, fingerprint: str, resume: str) -> LoopState:
    if resume == "auto" and has_checkpoint(work_dir) and checkpoint_fingerprint(work_dir) != fingerprint:
        # Left by a run with other settings or corpus: it can never be resumed, so start afresh.
        log.warning("%s: checkpoint of other settings; starting this model from scratch", work_dir)
        for leftover in (CHECKPOINT_DIR, REFERENCE, LOG):
            target = work_dir / leftover
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    if resume == "require" or (resume == "auto" and has_checkpoint(work_dir)):
        return load_checkpoint(work_dir, model, optimizer, scheduler, fingerprint)
    return LoopState()


def _prepare_reference(model, loss: MultiWayContrastiveLoss, rows: RowTable, settings: TrainSettings,
                       work_dir: Path, *, fresh: bool) -> None:
    """f0(x) for every training sentence, computed once from the starting weights and kept on disk."""
    if loss.drift_weight <= 0:
        return
    path = work_dir / REFERENCE
    if path.is_file() and not fresh:  # resumed: the weights moved on, f0 must come from disk
        loss.set_reference_embeddings(load_file(str(path))["reference"].to(module_device(model)))
        return
    texts = [f"{settings.prompt}{s}" if settings.prompt else s for s in rows.all_sentences]
    reference = embed_texts(model, texts, settings.dtype)  # (S, d), on the model's device
    if is_main_process():
        with atomic.atomic_path(path) as tmp:
            save_file({"reference": reference.contiguous().cpu()}, str(tmp))
    loss.set_reference_embeddings(reference)


def _backbone(model: nn.Module, setting: str, needs: str) -> nn.Module:
    """The transformers model inside ``model``; a model without method ``needs`` fails naming ``setting``."""
    backbone = getattr(model[0], "auto_model", None)
    if backbone is None or not hasattr(backbone, needs):
        raise ValueError(f"{setting}: {type(model[0]).__name__} is no transformers model (it has no {needs})")
    return backbone


def _freeze_word_embeddings(model: nn.Module, freeze: bool) -> None:
    if not freeze:
        return
    backbone = _backbone(model, "training.freeze_word_embeddings", "get_input_embeddings")
    backbone.get_input_embeddings().weight.requires_grad_(False)


def _set_attention(model: nn.Module, implementation: str | None) -> str | None:
    """Switch the backbone's attention kernel (the same computation); returns the one it had.

    On CPU, SDPA with attention dropout falls back to its math path and draws its masks slowly, so
    eager attention trains faster (bench/bench_training_dropout.py). Saved models keep no trace of it.
    """
    if implementation is None:
        return None
    backbone = _backbone(model, f"training.attention={implementation!r}", "set_attn_implementation")
    loaded = backbone.config._attn_implementation
    backbone.set_attn_implementation(implementation)
    return loaded


def _token_cache(model: nn.Module, rows: RowTable, settings: TrainSettings) -> TokenCache | None:
    """Every training sentence tokenised once (None where the model's features cannot be rebuilt per batch)."""
    if settings.grad_cache_mini_batch or not hasattr(getattr(model[0], "tokenizer", None), "padding_side"):
        return None  # GradCache chunks tokenise their own texts; a non-transformers module keeps its own path
    texts = [f"{settings.prompt}{s}" if settings.prompt else s for s in rows.all_sentences]
    try:
        return TokenCache(model, texts)
    except ValueError as error:
        log.info("tokenising every step: %s", error)
        return None


def _sampler(rows: RowTable, settings: TrainSettings, tokens: TokenCache | None) -> RootBatchSampler:
    """Root-unique batches; with ``length_grouping``, rows of similar longest-sentence token length together."""
    lengths = None
    if settings.length_grouping:
        if tokens is None:
            raise ValueError("training.length_grouping needs the per-run token cache; it is off with "
                             "training.grad_cache_mini_batch (set one of them to off)")
        lengths = [max(tokens.lengths[start : start + len(row)])
                   for start, row in zip(rows.offsets, rows.sentences)]
    return RootBatchSampler(rows.root_ids, settings.batch_size, settings.seed, lengths=lengths)


def _optimizer(model: nn.Module, settings: TrainSettings, total_steps: int):
    params = [p for p in model.parameters() if p.requires_grad]
    # foreach: bit-identical to the for-loop AdamW and faster on CPU; fused: faster still, rounds differently
    kernel = {"fused": True} if settings.fused_optimizer else {"foreach": True}
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay, **kernel)
    warmup = int(settings.warmup_ratio * total_steps)

    def linear_warmup_decay(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_decay)


def _total_steps(sampler: RootBatchSampler, settings: TrainSettings) -> int:
    per_epoch = len(sampler)
    total = per_epoch * settings.epochs
    return min(total, settings.max_steps) if settings.max_steps else total


def _fingerprint(settings: TrainSettings, rows: RowTable, loss: MultiWayContrastiveLoss) -> str:
    payload = {"settings": {k: v for k, v in asdict(settings).items() if k != "show_progress"},
               "loss": loss.get_config_dict(), "rows": [rows.root_ids, rows.languages, rows.sentences]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _append_log(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def _truncate_log(path: Path, step: int) -> None:
    """On resume, drop log lines written after the checkpoint (they will be rerun)."""
    if not path.is_file():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)["step"] <= step]
    atomic.write_text(path, "".join(line + "\n" for line in kept))
