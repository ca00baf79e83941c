"""Stage entry points: the alignment comparison (multi-way vs bilingual, ablations) and the mE5 fine-tune.

Each trained model goes to ``run_dir/models/<label>/`` and gets a ``models/index.json`` entry as soon as
it is done, so an interrupted stage resumes: finished models are skipped (same job hash), an unfinished
one continues from ``models/.<label>.partial/checkpoint``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import torch

from mwalign.artifacts import json_or_none, read_json
from mwalign.config import LossConfig, RunConfig
from mwalign.devices import resolve_device
from mwalign.ranks import rank_and_world
from mwalign.corpus import sensitivity_corpora
from mwalign.corpus.build import redraw_rows
from mwalign.prompts import E5_QUERY
from mwalign.training.data import RootBatchSampler, RowTable, read_rows, rows_from_frame
from mwalign.training.distributed import barrier, is_main_process
from mwalign.training.encoding import effective_dtype
from mwalign.training.loop import LOG, TrainSettings, train
from mwalign.training.losses import MultiWayContrastiveLoss
from mwalign.training.saving import save_model_folder, update_index
from mwalign.training.variants import ABLATION_VARIANTS, derive_variant
from mwalign.versioning import code_key

logger = logging.getLogger(__name__)
ANCHOR_ABLATIONS = {"english-anchors": "english", "non-english-anchors": "non-english"}
SENSITIVITY_PREFIX = "translator-"  # method of the sensitivity study's models: translator-<condition>
SCALING_INFIX = "-f"  # method of the scaling study's models: multiway-f0.333, bilingual-f0.333
CHECKPOINT_SEPARATOR = "@"  # method of a learning-curve checkpoint: bilingual@240 (its run's method @ its step)
CONTINUED = "multiway-continued"  # a multi-way run trained for as many steps as its bilingual run plans
MATCHES = ("steps", "sentences")  # what a matched checkpoint equals the multi-way run's kept weights in


def is_curve_method(method: str) -> bool:
    """A learning-curve model (a checkpoint or a continued multi-way run), not a headline or study model."""
    return CHECKPOINT_SEPARATOR in method or method == CONTINUED


@dataclass(frozen=True)
class CurveRule:
    """Which checkpoints a run keeps: ``points`` evenly spaced ones (the last at its end) and, with ``match``
    (the label of the multi-way run of the same base and seed, trained before it), the first step at or past
    that run's kept step (equal steps) and at or past its sentences seen by then (equal sentences)."""

    points: int = 0
    match: str | None = None


@dataclass(frozen=True)
class Job:
    label: str
    base: str
    role: str
    method: str
    seed: int
    rows: RowTable
    loss: LossConfig
    settings: TrainSettings
    max_seq_length: int
    use_dev: bool
    curve: CurveRule | None = None


def run_alignment_stage(cfg: RunConfig, run_dir: Path) -> pd.DataFrame:
    """Train multi-way and bilingual models per base model and seed, plus ablations, controls and the scaling
    study; update index.json."""
    run_dir = Path(run_dir)
    corpus = run_dir / "corpus"
    multiway, bilingual = read_rows(corpus / "multiway.parquet"), read_rows(corpus / "bilingual.parquet")
    dev = _dev_rows(corpus, cfg.training.dev_max_rows)
    t = cfg.training
    device = training_device(cfg)
    dtype = effective_dtype(t.dtype, device)
    losses = _chosen_losses(cfg, run_dir, multiway, dev, dtype, device)
    jobs = []
    draws = CorpusDraws(cfg, corpus, multiway, bilingual)
    for base in t.models:
        loss = losses[base]
        for seed in t.seeds:
            seed_multiway, seed_bilingual = draws.rows(seed)
            multiway_job = _alignment_job(cfg, base, "multiway", seed, seed_multiway, loss, dtype)
            bilingual_job = _alignment_job(cfg, base, "bilingual", seed, seed_bilingual, loss, dtype)
            jobs += [multiway_job, *_curve_jobs(cfg, multiway_job, bilingual_job)]
        jobs += _ablation_jobs(cfg, base, corpus, draws, loss, dtype)
        jobs += _scaling_jobs(cfg, base, draws, loss, dtype)
    jobs += _depth_jobs(cfg, draws, losses, dtype)
    for control in t.controls:
        for seed in control.seeds:
            seed_multiway, seed_bilingual = draws.rows(seed)
            jobs.append(_alignment_job(cfg, control.model, "multiway", seed, seed_multiway, losses[control.model],
                                       dtype))
            jobs.append(_alignment_job(cfg, control.model, "bilingual", seed, seed_bilingual,
                                       losses[control.model], dtype))
    for condition, path in sensitivity_corpora(run_dir).items():
        if condition in cfg.corpus.sensitivity_conditions:  # first model and seed: a side study, as ablations
            jobs.append(_alignment_job(cfg, t.models[0], f"{SENSITIVITY_PREFIX}{condition}", t.seeds[0],
                                       read_rows(path), losses[t.models[0]], dtype))
    return _run_jobs(cfg, run_dir, jobs, dev, role="unaligned", dtype=dtype, device=device)


def _curve_jobs(cfg: RunConfig, multiway: Job, bilingual: Job) -> list[Job]:
    """The bilingual job with its checkpoints and, for a curve seed, the continued multi-way run (``training.curve``)."""
    curve = cfg.training.curve
    if curve is None:
        return [bilingual]
    curve_seed = multiway.seed in cfg.training.curve_seeds
    jobs = [replace(bilingual, curve=CurveRule(points=curve.points if curve_seed else 0, match=multiway.label))]
    if curve_seed and curve.multiway_continued:
        s = bilingual.settings
        planned = len(RootBatchSampler(bilingual.rows.root_ids, s.batch_size, s.seed)) * s.epochs
        planned = min(planned, s.max_steps or planned)
        per_epoch = len(RootBatchSampler(multiway.rows.root_ids, s.batch_size, s.seed))
        settings = replace(multiway.settings, epochs=-(-planned // per_epoch), max_steps=planned,
                           patience=planned + 1)  # to the end: the curve is the point, not early stopping
        jobs.append(replace(multiway, label=multiway.label.replace("-multiway-", f"-{CONTINUED}-"), method=CONTINUED,
                            settings=settings, curve=CurveRule(points=curve.points)))
    return jobs


class _Checkpoints:
    """The snapshot hook of one run under its :class:`CurveRule`: saves ``<label>@<step>`` model folders.

    Which steps it keeps is a function of the step and the sentences seen (:meth:`due`), so the list is rebuilt
    from the run's log afterwards (:meth:`entries`), the same whether or not the run was resumed midway.
    """

    def __init__(self, job: Job, run_dir: Path, job_hash: str, corpus_hash: str):
        self.job, self.run_dir, self.job_hash, self.corpus_hash = job, run_dir, job_hash, corpus_hash
        self.targets = _match_targets(job.curve, run_dir)

    def due(self, step: int, before: int, after: int, total_steps: int) -> list[str] | None:
        """The matches a checkpoint at ``step`` stands for (``[]``: a curve point only), or None for no checkpoint."""
        matches = [name for name, target in self.targets.items() if target is not None and
                   (step == target if name == "steps" else before < target <= after)]
        points = self.job.curve.points
        on_curve = points and step in {round(i * total_steps / points) for i in range(1, points + 1)}
        return matches if matches or on_curve else None

    def entry(self, step: int, sentences: int, matches: list[str]) -> dict:
        label = f"{self.job.label}{CHECKPOINT_SEPARATOR}{step}"
        return {**_entry(label, self.job.base, self.job.role, f"{self.job.method}{CHECKPOINT_SEPARATOR}{step}",
                         self.job.seed, self.job.settings.dtype, self.corpus_hash),
                "checkpoint_of": self.job.label, "step": step, "sentences_seen": sentences, "matches": matches}

    def __call__(self, model, step: int, before: int, after: int, total_steps: int) -> None:
        matches = self.due(step, before, after, total_steps)
        if matches is not None and is_main_process():
            entry = self.entry(step, after, matches)
            save_model_folder(model, self.run_dir / entry["path"],
                              {"job_hash": self.job_hash, **{k: v for k, v in entry.items() if k != "path"}})

    def entries(self, log: list[dict], total_steps: int) -> list[dict]:
        """Every checkpoint the run kept, from its step log."""
        kept, before = [], 0
        for record in log:
            matches = self.due(record["step"], before, record["sentences_seen"], total_steps)
            if matches is not None:
                kept.append(self.entry(record["step"], record["sentences_seen"], matches))
            before = record["sentences_seen"]
        return kept


def _kept_weights(info: dict) -> dict:
    """The index's record of which weights a trained model holds: its kept step and the sentences seen by then
    (what the learning curves place it at, readable without the model folder)."""
    return {"step": info.get("best_step") or info.get("steps"), "sentences_seen": info.get("kept_sentences_seen")}


def _step_log(path: Path) -> list[dict]:
    """A run's per-step records (``train_log.jsonl``), the steps without a dev evaluation included."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _match_targets(rule: CurveRule, run_dir: Path) -> dict[str, int | None]:
    """The multi-way run's kept step and its sentences seen by then (from its training log)."""
    if rule.match is None:
        return {}
    folder = run_dir / "models" / rule.match
    record = json_or_none(folder / "mwalign_training.json") or {}
    step = record.get("best_step") or record.get("steps")
    sentences = next((r.get("sentences_seen") for r in _step_log(folder / "train_log.jsonl") if r["step"] == step),
                     None)
    return {"steps": step, "sentences": sentences}


def _checkpoints_done(run_dir: Path, info: dict, rule: CurveRule | None) -> bool:
    """A finished run's checkpoints are those its rule asks for now, and every one is on disk."""
    if rule is None:  # checkpoints from an earlier profile are not needed (nor recorded): the run itself is done
        return True
    if info.get("curve_rule") != {**asdict(rule), "targets": _match_targets(rule, run_dir)}:
        return False
    return all(_is_done(run_dir / entry["path"], info["job_hash"]) for entry in info.get("checkpoints", []))


class CorpusDraws:
    """Each seed's (multi-way, bilingual) rows: the corpus stage's, or with ``training.redraw_corpus`` the
    seed's own draw from the same translations (:func:`mwalign.corpus.build.redraw_rows`; seed 0: the stage's)."""

    def __init__(self, cfg: RunConfig, corpus: Path, multiway: RowTable, bilingual: RowTable):
        self.redraw, self.corpus, self.files = cfg.training.redraw_corpus, corpus, (multiway, bilingual)
        self._drawn: dict[int, tuple[RowTable, RowTable]] = {}

    def rows(self, seed: int) -> tuple[RowTable, RowTable]:
        if not self.redraw or seed == 0:
            return self.files
        if seed not in self._drawn:
            source = f"{self.corpus / 'translations.parquet'} (draw {seed})"
            self._drawn[seed] = tuple(rows_from_frame(pd.DataFrame(rows, columns=["root_id", "languages", "sentences"]),
                                                      f"{source}: {name}")
                                      for name, rows in zip(("multiway", "bilingual"), redraw_rows(self.corpus, seed)))
        return self._drawn[seed]


def _ablation_jobs(cfg: RunConfig, base: str, corpus: Path, draws: CorpusDraws, base_loss: LossConfig,
                   dtype: str) -> list[Job]:
    """Each ablation for each of ``training.ablation_seeds``, on that seed's corpus draw."""
    t = cfg.training
    jobs = []
    for seed in t.seeds_of_ablations:
        multiway, bilingual = draws.rows(seed)
        for ablation in t.ablations:
            rows, loss = multiway, base_loss
            if ablation in ANCHOR_ABLATIONS:
                loss = base_loss.model_copy(update={"anchors": ANCHOR_ABLATIONS[ablation]})
            elif ablation in ABLATION_VARIANTS:
                train_roots = set(multiway.root_ids) | set(bilingual.root_ids)
                rows = derive_variant(ablation, corpus / "translations.parquet", train_roots,
                                      bilingual.pair_count, seed, k=cfg.corpus.k, sub_pool=t.sub_pool)
            jobs.append(_alignment_job(cfg, base, ablation, seed, rows, loss, dtype))
    return jobs


def scaling_method(method: str, fraction: float) -> str:
    """The index method of a scaling-study model: ``multiway-f0.333`` (fraction 1.0: the headline method)."""
    return method if fraction == 1.0 else f"{method}{SCALING_INFIX}{fraction:g}"


def scaling_rows(multiway: RowTable, bilingual: RowTable, fraction: float) -> tuple[RowTable, RowTable]:
    """The first ``fraction`` of the multi-way and of the bilingual rows: nested across fractions, and the
    corpus stage's budget rule (corpus.budget, e.g. equal pairs) holds at every size as it does at full size."""
    def cut(rows: RowTable) -> RowTable:
        return rows.head(max(2, round(fraction * len(rows))))

    return cut(multiway), cut(bilingual)


def _scaling_jobs(cfg: RunConfig, base: str, draws: CorpusDraws, loss: LossConfig, dtype: str) -> list[Job]:
    """Models below full size; fraction 1.0 is the headline models of the same seeds (no extra job)."""
    scaling = cfg.training.scaling
    if scaling is None:
        return []
    jobs = []
    for fraction in (f for f in scaling.fractions if f < 1.0):
        for seed in scaling.seeds:
            small_multiway, small_bilingual = scaling_rows(*draws.rows(seed), fraction)
            for method, rows in (("multiway", small_multiway), ("bilingual", small_bilingual)):
                jobs.append(_alignment_job(cfg, base, scaling_method(method, fraction), seed, rows, loss, dtype))
    return jobs


def _depth_jobs(cfg: RunConfig, draws: CorpusDraws, losses: dict[str, LossConfig], dtype: str) -> list[Job]:
    """The depth study: each of ``training.depth.models`` trained both ways at its fraction of each seed's draw,
    with the headline model's loss (its chosen temperature)."""
    depth = cfg.training.depth
    if depth is None:
        return []
    loss = losses[cfg.training.models[0]]
    jobs = []
    for base in depth.models:
        for seed in depth.seeds or cfg.training.seeds[:1]:
            small = scaling_rows(*draws.rows(seed), depth.fraction)
            jobs += [_alignment_job(cfg, base, scaling_method(method, depth.fraction), seed, rows, loss, dtype)
                     for method, rows in zip(("multiway", "bilingual"), small)]
    return jobs


def _chosen_losses(cfg: RunConfig, run_dir: Path, multiway: RowTable, dev: RowTable | None, dtype: str,
                   device: torch.device) -> dict[str, LossConfig]:
    """The loss per base model: ``training.loss`` with the temperature the dev grid picked (if a grid is set)."""
    t = cfg.training
    bases = [*t.models, *(c.model for c in t.controls)]
    if not t.temperature_grid:
        return {base: t.loss for base in bases}
    if dev is None:
        raise ValueError(f"params/{cfg.name}.yml: training.temperature_grid needs corpus/dev.parquet (the dev "
                         "metric picks the temperature); rerun the corpus stage or drop the grid")
    from mwalign.training.temperature import pick_temperature

    loader = _BaseModels(device)
    key = json.dumps([_corpus_hash(run_dir / "corpus"), code_key("train"), t.max_seq_length])
    chosen = {}
    for base in bases:
        settings = _alignment_job(cfg, base, "multiway", t.seeds[0], multiway, t.loss, dtype).settings
        temperature = pick_temperature(
            lambda: loader.load(base, max_seq_length=t.max_seq_length), base, t.temperature_grid, multiway, dev,
            settings, t.loss, t.temperature_grid_steps, run_dir, key)
        chosen[base] = t.loss.model_copy(update={"temperature": temperature})
    return chosen


def run_me5_stage(cfg: RunConfig, run_dir: Path) -> pd.DataFrame:
    """Fine-tune mE5 on the first ``me5.n_rows`` multi-way rows vs bilingual rows with the same pair budget.

    As in the paper's mE5 setting (fixed epochs), there is no early stopping: the final weights are saved.
    Labels carry ``-me5-`` so they never collide with the alignment stage's models of the same base.
    """
    run_dir = Path(run_dir)
    if not cfg.me5.enabled:
        return pd.DataFrame()
    corpus = run_dir / "corpus"
    draws = CorpusDraws(cfg, corpus, read_rows(corpus / "multiway.parquet"), read_rows(corpus / "bilingual.parquet"))
    device = training_device(cfg)
    dtype = effective_dtype(cfg.training.dtype, device)
    jobs = []
    for seed in cfg.me5_seeds:  # with training.redraw_corpus, each seed on its own draw
        multiway_all, bilingual_all = draws.rows(seed)
        multiway = _me5_rows(multiway_all.head(cfg.me5.n_rows) if cfg.me5.n_rows else multiway_all,
                             len(bilingual_all))
        bilingual = bilingual_all.head(multiway.pair_count)
        jobs += [_me5_job(cfg, method, seed, rows, dtype) for method, rows in (("multiway", multiway),
                                                                               ("bilingual", bilingual))]
    return _run_jobs(cfg, run_dir, jobs, dev=None, role="me5", dtype=dtype, device=device)


def _me5_rows(multiway: RowTable, n_bilingual: int) -> RowTable:
    """Shrink the multi-way rows until the bilingual corpus can match their pair budget (logged)."""
    n = len(multiway)
    while n > 0 and multiway.head(n).pair_count > n_bilingual:
        n -= 1
    if n < len(multiway):
        logger.warning("me5.n_rows: bilingual.parquet has %d rows, enough to match the pairs of %d multi-way rows "
                       "(not %d); using %d", n_bilingual, n, len(multiway), n)
    if n < 2:
        raise ValueError(f"me5.n_rows: bilingual.parquet ({n_bilingual} rows) cannot match the pair budget of even "
                         "2 multi-way rows; enlarge the corpus (corpus.n_roots)")
    return multiway.head(n)


def _alignment_job(cfg: RunConfig, base: str, method: str, seed: int, rows: RowTable, loss: LossConfig,
                   dtype: str) -> Job:
    t = cfg.training
    settings = TrainSettings(
        batch_size=t.batch_size, epochs=t.epochs, learning_rate=t.learning_rate, seed=seed, max_steps=t.max_steps,
        warmup_ratio=t.warmup_ratio, eval_every=t.eval_every, patience=t.patience,
        evaluations_per_epoch=t.evaluations_per_epoch, dev_metric=t.dev_metric, dtype=dtype, freeze_word_embeddings=t.freeze_word_embeddings,
        grad_cache_mini_batch=t.grad_cache_mini_batch,
        attention=t.attention, length_grouping=t.length_grouping, fused_optimizer=t.fused_optimizer)
    RootBatchSampler(rows.root_ids, t.batch_size, seed, where=f"params/{cfg.name}.yml: training.batch_size")
    return Job(f"{_short(base)}-{method}-s{seed}", base, "unaligned", method, seed, rows, loss, settings,
               t.max_seq_length, use_dev=True)


def _me5_job(cfg: RunConfig, method: str, seed: int, rows: RowTable, dtype: str) -> Job:
    m, t = cfg.me5, cfg.training
    settings = TrainSettings(
        batch_size=m.batch_size, epochs=m.epochs, learning_rate=m.learning_rate, seed=seed,
        max_steps=m.max_steps, warmup_ratio=t.warmup_ratio, eval_every=t.eval_every, patience=t.patience,
        dtype=dtype, freeze_word_embeddings=m.freeze_word_embeddings, grad_cache_mini_batch=m.grad_cache_mini_batch,
        attention=t.attention)
    RootBatchSampler(rows.root_ids, m.batch_size, seed, where=f"params/{cfg.name}.yml: me5.batch_size")
    return Job(f"{_short(m.model)}-me5-{method}-s{seed}", m.model, "me5", method, seed, rows, m.loss,
               settings, t.max_seq_length, use_dev=False)


def training_device(cfg: RunConfig) -> torch.device:
    """The configured device; under torchrun on CUDA each rank takes its LOCAL_RANK device."""
    device = resolve_device(cfg.device, where="device")
    if device.type == "cuda" and device.index is None and rank_and_world()[1] > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device


def _run_jobs(cfg: RunConfig, run_dir: Path, jobs: list[Job], dev: RowTable | None, *, role: str,
              dtype: str, device: torch.device) -> pd.DataFrame:
    corpus_hash = _corpus_hash(run_dir / "corpus")
    loader = _BaseModels(device)
    frames = []
    for base in dict.fromkeys(job.base for job in jobs):
        frames.append(_register_base(loader, base, role, run_dir, corpus_hash, dtype, cfg.training.max_seq_length))
    for job in jobs:
        frames.append(_run_job(loader, job, dev, run_dir, corpus_hash))
    return pd.concat(frames, ignore_index=True)


class _BaseModels:
    """Loads each base model once (me5-small takes ~15 s to load) and hands out fresh copies."""

    def __init__(self, device: torch.device) -> None:
        self._pristine: dict[tuple[str, int], object] = {}
        self.device = device

    def load(self, base: str, *, max_seq_length: int):
        from mwalign import models  # lazily: the stage validates its inputs before touching any model

        key = (base, max_seq_length)
        if key not in self._pristine:
            self._pristine[key] = models.load(base, max_seq_length=max_seq_length)
        return copy.deepcopy(self._pristine[key]).to(self.device)


def _run_job(models, job: Job, dev: RowTable | None, run_dir: Path, corpus_hash: str) -> pd.DataFrame:
    target = run_dir / "models" / job.label
    job_hash = _job_hash(job, corpus_hash)
    entry = _entry(job.label, job.base, job.role, job.method, job.seed, job.settings.dtype, corpus_hash)
    if _is_done(target, job_hash) and _checkpoints_done(run_dir, json_or_none(target / "mwalign_training.json"),
                                                        job.curve):
        info = json_or_none(target / "mwalign_training.json")
        kept = info.get("checkpoints", []) if job.curve else []
        return pd.concat([_record(run_dir, e) for e in [{**entry, **_kept_weights(info)}, *kept]], ignore_index=True)
    work_dir = run_dir / "models" / f".{job.label}.partial"
    model = models.load(job.base, max_seq_length=job.max_seq_length)
    settings = TrainSettings(**{**asdict(job.settings), "prompt": training_prompt(model, job.role)})
    loss = MultiWayContrastiveLoss(model, **job.loss.model_dump())
    checkpoints = _Checkpoints(job, run_dir, job_hash, corpus_hash) if job.curve else None
    result = train(model, loss, job.rows, dev if job.use_dev else None, settings, work_dir, snapshot=checkpoints)
    log = _step_log(work_dir / LOG)
    info = {"job_hash": job_hash, **{k: v for k, v in entry.items() if k != "path"}, "loss": job.loss.model_dump(),
            "settings": asdict(settings), "rows": len(job.rows), "pairs": job.rows.pair_count,
            "steps": result.steps, "dev_metric": settings.dev_metric, "best_dev_metric": result.best_metric, "best_step": result.best_step,
            "stopped_early": result.stopped_early, "stop_reason": result.stop_reason, "stop_step": result.steps,
            "epochs_run": result.epochs_run, "dev_curve": result.history,
            "corpus_source": _run_relative(job.rows.source, run_dir),
            "sentences_seen": log[-1].get("sentences_seen") if log else None, "total_steps": result.total_steps,
            "kept_sentences_seen": next((r.get("sentences_seen") for r in log
                                         if r["step"] == (result.best_step or result.steps)), None)}
    if checkpoints is not None:
        info |= {"curve_rule": {**asdict(job.curve), "targets": checkpoints.targets},
                 "checkpoints": checkpoints.entries(log, result.total_steps)}
    if is_main_process():  # under torchrun only rank 0 writes
        save_model_folder(model, target, info, work_dir / LOG)
        shutil.rmtree(work_dir, ignore_errors=True)
    barrier()
    return pd.concat([_record(run_dir, e) for e in [{**entry, **_kept_weights(info)}, *info.get("checkpoints", [])]],
                     ignore_index=True)


def _run_relative(source: str, run_dir: Path) -> str:
    """The rows' source without the run dir (``corpus/multiway.parquet[:300]``): the same card on any machine."""
    return source.removeprefix(f"{run_dir}{os.sep}")


def _register_base(models, base: str, role: str, run_dir: Path, corpus_hash: str, dtype: str,
                   max_seq_length: int) -> pd.DataFrame:
    """The untouched base model, saved like the trained ones so evaluation treats all alike."""
    label = f"{_short(base)}-me5-base" if role == "me5" else f"{_short(base)}-base"
    entry = _entry(label, base, role, "base", None, dtype, corpus_hash)
    target = run_dir / "models" / label
    job_hash = hashlib.sha256(json.dumps([base, max_seq_length, code_key(_stage_of(role))]).encode()).hexdigest()[:16]
    if not _is_done(target, job_hash):
        model = models.load(base, max_seq_length=max_seq_length)
        if is_main_process():
            save_model_folder(model, target, {"job_hash": job_hash, **{k: v for k, v in entry.items() if k != "path"}})
        barrier()
    return _record(run_dir, entry)


def _record(run_dir: Path, entry: dict) -> pd.DataFrame:
    """Add the entry to models/index.json (rank 0 only under torchrun) and return it as a frame."""
    if is_main_process():
        frame = update_index(run_dir, [entry])
    else:
        frame = pd.DataFrame([entry])
    barrier()
    return frame


def training_prompt(model, role: str) -> str | None:
    """The prompt training must prepend: the model's query/default prompt; E5 needs ``query: `` regardless."""
    prompts = getattr(model, "prompts", None) or {}
    if prompts.get("query"):
        return prompts["query"]
    default = getattr(model, "default_prompt_name", None)
    if default and prompts.get(default):
        return prompts[default]
    return E5_QUERY if role == "me5" else None


def _dev_rows(corpus: Path, max_rows: int | None) -> RowTable | None:
    path = corpus / "dev.parquet"
    if not path.is_file():
        return None
    dev = read_rows(path)
    return dev.head(max_rows) if max_rows else dev


def _entry(label, base, role, method, seed, dtype, corpus_hash) -> dict:
    return {"label": label, "path": f"models/{label}", "base": base, "role": role, "method": method,
            "seed": seed, "dtype": dtype, "corpus_hash": corpus_hash}


def _is_done(target: Path, job_hash: str) -> bool:
    info = json_or_none(target / "mwalign_training.json")  # damaged: not done, the model is trained again
    return isinstance(info, dict) and info.get("job_hash") == job_hash


def _job_hash(job: Job, corpus_hash: str) -> str:
    """What decides a job's model: settings, loss, base, the rows' ids, languages *and sentences*, stage version.

    The sentences count because a sensitivity condition keeps its name when its translator changes.
    """
    sentences = hashlib.sha256(json.dumps(job.rows.sentences, ensure_ascii=False).encode()).hexdigest()
    payload = {"settings": asdict(job.settings), "loss": job.loss.model_dump(), "base": job.base,
               "corpus": corpus_hash, "rows": job.rows.root_ids, "langs": job.rows.languages,
               "sentences": sentences, "max_seq_length": job.max_seq_length, "code": code_key(_stage_of(job.role))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _stage_of(role: str) -> str:
    """The pipeline stage whose version keys a model of ``role``."""
    return "me5" if role == "me5" else "train"


def _corpus_hash(corpus: Path) -> str:
    """The corpus manifest's ``content_hash``, else a hash of the parquet files' bytes."""
    manifest = corpus / "manifest.json"
    if manifest.is_file():
        content_hash = read_json(manifest, "corpus manifest", rebuild="mwalign corpus").get("content_hash")
        if content_hash:
            return str(content_hash)
    digest = hashlib.sha256()
    for name in ("multiway.parquet", "bilingual.parquet"):
        digest.update((corpus / name).read_bytes())
    return digest.hexdigest()[:16]


def _short(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(str(name)).name) or "model"
