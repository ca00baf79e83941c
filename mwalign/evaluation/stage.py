"""Evaluation stage: models x tasks through ``mteb.evaluate``, one tidy scores table.

Order of work, so bad input fails before any encoding: task names, language
selection, model folders, then every task's data is loaded (and checked) once
and shared by all models; only then are models evaluated.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import mteb
import pandas as pd
from mteb.abstasks.abstask import AbsTask
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from tqdm import tqdm  # plain bars: tqdm.auto wants ipywidgets inside notebooks

from mwalign import atomic
from mwalign import languages as mw_languages
from mwalign.artifacts import DamagedArtifactError, json_or_none, read_json, read_parquet
from mwalign.config import data_dir
from mwalign.datafiles import verify_data
from mwalign.evaluation import base_alignment
from mwalign.evaluation import languages as eval_languages
from mwalign.evaluation.embedding_cache import EmbeddingCache
from mwalign.evaluation.harness import DEFAULT_PROMPTS, CachingEncoder, choose_prompt, resolve_model
from mwalign.evaluation.scores import exact_scores_path, keep_exact_scores, tidy_rows
from mwalign.evaluation.tasks import get_task
from mwalign.versioning import code_key

logger = logging.getLogger(__name__)

SCORE_COLUMNS = [
    "model", "base", "method", "seed", "task", "task_type", "subset", "languages", "group",
    "split", "metric", "score", "ci_low", "ci_high", "dtype",
]  # fmt: skip


@dataclass
class ModelEntry:
    """One model to evaluate: a label plus the provenance columns of the scores table."""

    label: str
    spec: str | Path
    base: str = ""
    method: str = ""
    seed: int | None = None
    extra_names: list[str] = field(default_factory=list)
    role: str = ""


def select_tasks(
    names: list[str], langs: list[str] | None, *, strict: bool, exclude_sentences: frozenset[str] = frozenset(),
    per_task: bool = False, where: str = "evaluation.langs", splits: list[str] | None = None,
    task_unseen: dict[str, list[str]] | None = None, xy_lines: int | None = None,
) -> list[AbsTask]:
    """Instantiate tasks and restrict their subsets to ``langs`` (None: all); no data is read yet.

    ``splits``: score only these of each task's evaluation splits (None: all of them; mteb's SIB200 task, for
    one, evaluates its classifier on its train and validation splits as well as on test). A task with none of
    them is an error naming ``evaluation.splits``.

    ``per_task``: ``langs`` apply to each task as far as it has them; a task with none of them is left out, and
    only a language that no task has is an error (``where`` names the setting). ``exclude_sentences``: training
    sentences, for the NTREX tasks: ``NTREXBitextMining`` refuses to score documents that contain one,
    ``NTREXBitextMining.mwalign-clean`` drops them (and records which rows it kept).
    ``task_unseen``: per task name, languages added to ``langs`` for that task only (``evaluation.task_unseen``).
    ``xy_lines``: the NTREX lines ``NTREXBitextMining.mwalign-xy`` scores (``evaluation.ntrex_xy_lines``).
    """
    tasks = []
    for name in names:
        task = get_task(name)
        if langs is not None:
            extra = [code for code in (task_unseen or {}).get(name, []) if code not in langs]
            task.hf_subsets = eval_languages.select_subsets(task, [*langs, *extra], strict=strict and not per_task,
                                                            where=where, allow_empty=per_task)
            if not task.hf_subsets:
                logger.info("%s: no subset in %s; not scored", task.metadata.name, ", ".join(langs))
                continue
        if hasattr(task, "exclude_sentences"):
            task.exclude_sentences = exclude_sentences
        if xy_lines is not None and hasattr(task, "set_lines"):
            task.set_lines(xy_lines)
        if splits is not None:
            kept = [split for split in task.metadata.eval_splits if split in splits]
            if not kept:
                raise ValueError(f"evaluation.splits: {task.metadata.name} has none of {', '.join(splits)} (its "
                                 f"splits: {', '.join(task.metadata.eval_splits)})")
            task.filter_eval_splits(kept)
        tasks.append(task)
    if per_task and langs is not None:
        covered = set().union(*(eval_languages.covered_languages(t) for t in tasks))
        absent = [code for code in langs if code not in covered and code != "eng"]
        if absent or not tasks:
            raise ValueError(f"{where}: {', '.join(absent or langs)} in none of the tasks {', '.join(names)}")
    return tasks


def evaluate(
    models: dict[str, str | Path] | list[ModelEntry],
    tasks: list[str],
    langs: list[str] | None = None,
    *,
    results_dir: Path,
    seen_languages: list[str] | None = None,
    batch_size: int = 64,
    max_seq_length: int = 128,
    dtype: str = "bf16",
    bootstrap: int = 200,
    prompts: dict[str, str] | None = None,
    embedding_cache: Path | None = None,
    strict_langs: bool = True,
    per_task_langs: bool = False,
    exclude_sentences: frozenset[str] = frozenset(),
    device: str = "auto",
    encode_all_first: bool = False,
    splits: list[str] | None = None,
    batch_tokens: int | None = None,
    task_unseen: dict[str, list[str]] | None = None,
    xy_lines: int | None = None,
) -> pd.DataFrame:
    """Evaluate every model on ``tasks`` restricted to ``langs``; return the tidy scores table.

    ``models`` maps a label to a sentence-transformers folder, a local model
    name or a hub id. Results go to an ``mteb.ResultCache`` at ``results_dir``
    and embeddings to ``embedding_cache`` (default ``results_dir/embeddings-<evaluate code key>.sqlite``).
    ``seen_languages`` (None: English only) decides the seen/unseen group. ``per_task_langs``: see
    :func:`select_tasks`. ``encode_all_first``: encode every
    distinct text of all tasks in one length-sorted pass into the embedding cache before mteb scores them.
    ``task_unseen``, ``xy_lines``: see :func:`select_tasks`.
    """
    verify_data(data_dir())  # the mirrored tasks read only files that match SHA256SUMS (no folder: the hub's)
    if langs is not None:
        mw_languages.validate_codes(langs, where="langs")
    entries = [ModelEntry(k, v) for k, v in models.items()] if isinstance(models, dict) else list(models)
    task_objs = select_tasks(tasks, langs, strict=strict_langs and langs is not None, exclude_sentences=exclude_sentences,
                             per_task=per_task_langs, where="--langs" if per_task_langs else "evaluation.langs",
                             splits=splits, task_unseen=task_unseen, xy_lines=xy_lines)
    resolved = {entry.label: resolve_model(entry.spec) for entry in entries}
    for task in task_objs:  # read and check every data file once, before any encoding; shared by all models
        task.load_data()
    results_dir = Path(results_dir)
    encoder_code = code_key("evaluate")
    cache = EmbeddingCache(embedding_cache or results_dir / f"embeddings-{encoder_code}.sqlite")
    result_cache = mteb.ResultCache(cache_path=results_dir)
    prompts = DEFAULT_PROMPTS if prompts is None else prompts
    frames = []
    # one bar over models x tasks; None: off where stderr is no terminal (executed notebooks, CI logs)
    progress = tqdm(total=len(entries) * len(task_objs), desc="evaluate", unit="task", disable=None)
    try:
        with _quiet_library_bars():
            for entry in entries:
                names = [entry.label, str(entry.spec), entry.base, *entry.extra_names]
                encoder = CachingEncoder(resolved[entry.label], label=entry.label, cache=cache,
                                         prompt=choose_prompt(names, prompts), dtype=dtype,
                                         max_seq_length=max_seq_length, batch_size=batch_size, device=device,
                                         batch_tokens=batch_tokens)
                seen = set(seen_languages or ["eng"])
                if encode_all_first:
                    encoder.embed(task_texts(task_objs))  # one length-sorted pass; the tasks then read the cache
                frames.append(_evaluate_one(entry, encoder, task_objs, result_cache, results_dir, seen, bootstrap,
                                            progress))
    finally:
        progress.close()
        cache.close()
    return pd.DataFrame(pd.concat(frames, ignore_index=True) if frames else None, columns=SCORE_COLUMNS)


def _evaluate_one(
    entry: ModelEntry,
    encoder: CachingEncoder,
    tasks: list[AbsTask],
    result_cache: Any,
    results_dir: Path,
    seen: set[str],
    bootstrap: int,
    progress: Any = None,
) -> pd.DataFrame:
    meta = encoder.mteb_model_meta
    predictions_dir = results_dir / "predictions" / meta.model_name_as_path() / str(meta.revision)
    for task in tasks:  # no exact record (killed between mteb's write and ours) or a damaged cached file:
        _drop_unreadable_results(task, result_cache.get_task_result_path(task.metadata.name, meta), predictions_dir)
    task_results, start, encoding_before = [], time.perf_counter(), encoder.encode_seconds + encoder.load_seconds
    convergence = 0
    for task in tasks:  # one task per call, so the bar can name it
        if progress is not None:
            progress.set_postfix_str(f"{entry.label} | {task.metadata.name}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)  # every one is counted, none printed
            # mteb's bitext evaluator copies a tensor through torch.tensor(); harmless, once per subset
            warnings.filterwarnings("ignore", message="To copy construct from a tensor", category=UserWarning)
            # mteb's classification scores macro precision with sklearn's default zero_division (a label never
            # predicted counts 0.0); the warning would only repeat that in the chapter of every weak model
            warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
            result = mteb.evaluate(
                encoder,
                [task],
                cache=result_cache,
                overwrite_strategy="only-missing",
                prediction_folder=predictions_dir,
                encode_kwargs={"batch_size": encoder.batch_size, "show_progress_bar": False},
                show_progress_bar=False,
                co2_tracker=False,
            )
        convergence += _rewarn_others(caught)
        task_results.extend(result.task_results)
        if progress is not None:
            progress.update(1)
    scoring = time.perf_counter() - start - (encoder.encode_seconds + encoder.load_seconds - encoding_before)
    start = time.perf_counter()
    by_name = {task.metadata.name: task for task in tasks}
    rows = []
    for task_result in task_results:
        task = by_name[task_result.task_name]
        keep_exact_scores(task_result, predictions_dir)
        rows.extend(tidy_rows(task, task_result, predictions_dir, seen=seen, bootstrap=bootstrap))
    # one line per model: where its evaluation went (bench/bench_eval_model.py reads it)
    logger.info("%s: loaded in %.1fs, encoded %d texts in %.1fs, mteb scored in %.1fs, intervals in %.1fs%s",
                entry.label, encoder.load_seconds, encoder.texts_encoded, encoder.encode_seconds, scoring,
                time.perf_counter() - start,
                f"; {convergence} classifier fits stopped at their iteration limit (sklearn ConvergenceWarning)"
                if convergence else "")
    frame = pd.DataFrame(rows)
    provenance = {"model": entry.label, "base": entry.base, "method": entry.method, "seed": entry.seed}
    return frame.assign(**provenance, dtype=encoder.dtype)


def _rewarn_others(caught: list[warnings.WarningMessage]) -> int:
    """Show again every recorded warning but sklearn's convergence notices (mteb's logistic regression fits run to
    their iteration limit on weak embeddings: a fact of the classifier, nothing a reader can act on); count those."""
    convergence = 0
    for message in caught:
        if issubclass(message.category, ConvergenceWarning):
            convergence += 1
        else:
            warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)
    return convergence


def _drop_unreadable_results(task: AbsTask, result_path: Path, predictions_dir: Path) -> None:
    """Let mteb compute a task again when our exact record is missing, any of its cached files is damaged, or its
    result was computed on other rows (another dataset revision: ``mwalign-clean``'s kept lines, ``mwalign-xy``'s
    line count), which mteb's "only-missing" would keep."""
    record = exact_scores_path(task.metadata.name, predictions_dir)
    cached = (record, Path(result_path), predictions_dir / task.prediction_file_name)
    result = json_or_none(Path(result_path)) if Path(result_path).is_file() else None
    other_rows = isinstance(result, dict) and result.get("dataset_revision") not in (None, task.metadata.revision)
    if other_rows or json_or_none(record) is None or any(p.is_file() and json_or_none(p) is None
                                                         for p in cached[1:]):
        for path in cached:
            path.unlink(missing_ok=True)


TEXT_COLUMNS = ("text", "sentence1", "sentence2")


def task_texts(tasks: list[AbsTask]) -> list[str]:
    """Every distinct text of the loaded ``tasks`` (all subsets and splits), in first-seen order."""
    texts: dict[str, None] = {}
    for task in tasks:
        parallel = getattr(task, "parallel_subsets", False)  # one split, a column per language (NTREX)
        subsets = task.dataset.values() if task.metadata.is_multilingual and not parallel else [task.dataset]
        for splits in subsets:
            for split in splits.values():
                columns = split.column_names if parallel else [c for c in TEXT_COLUMNS if c in split.column_names]
                for column in columns:
                    texts.update(dict.fromkeys(str(t) for t in split[column]))
    return list(texts)


@contextlib.contextmanager
def _quiet_library_bars() -> Iterator[None]:
    """Silence mteb's anonymous per-subset bars ("Matching sentences", ...) and datasets' map bars.

    mteb offers no switch for its evaluators' bars, so each loaded ``mteb`` module's ``tqdm`` is swapped
    for a disabled one for the duration (and restored); the stage's own bar is the one a person reads.
    """
    from tqdm.auto import tqdm as auto_tqdm

    def silent(*args: Any, **kwargs: Any) -> Any:
        return auto_tqdm(*args, **{**kwargs, "disable": True})

    patched = [m for name, m in list(sys.modules.items())
               if name.startswith("mteb") and getattr(m, "tqdm", None) is auto_tqdm]
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    for module in patched:
        module.tqdm = silent
    try:
        yield
    finally:
        for module in patched:
            module.tqdm = auto_tqdm
        if bars_were_on:
            datasets.enable_progress_bars()


def discard_results_of_other_code(results_dir: Path) -> None:
    """mteb's result cache knows models, not our task code: drop results made by other evaluation code.

    Embeddings stay: their file name carries the evaluate stage's code key (version and libraries).
    """
    stamp = results_dir / "code_version.txt"
    current = code_key("evaluate")
    if stamp.is_file() and stamp.read_text(encoding="utf-8", errors="replace").strip() != current:  # damaged too
        for folder in ("results", "predictions"):
            shutil.rmtree(results_dir / folder, ignore_errors=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write atomically (:func:`mwalign.atomic.atomic_path`)."""
    with atomic.atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return path


def _entries_from_index(index: Any, run_dir: Path) -> list[ModelEntry]:
    index_path = run_dir / "models" / "index.json"
    if not isinstance(index, list) or not index:
        raise ValueError(f"{index_path}: expected a non-empty list of models")
    entries = []
    for i, item in enumerate(index):
        missing = [k for k in ("label", "path") if k not in item]
        if missing:
            raise ValueError(f"{index_path}: entry {i} lacks {', '.join(missing)}")
        folder = (run_dir / item["path"]).resolve()
        if not folder.is_relative_to((run_dir / "models").resolve()):
            raise ValueError(f"{index_path}: entry {i} ({item['label']}): path {item['path']!r} leaves the run's "
                             "models/ folder; an index names folders models/<label>")
        entries.append(
            ModelEntry(
                label=item["label"],
                spec=run_dir / item["path"],
                base=item.get("base", ""),
                method=item.get("method", ""),
                seed=item.get("seed"),
                extra_names=[item.get("role", "")],
                role=item.get("role", ""),
            )
        )
    return entries


def training_sentences(run_dir: Path) -> frozenset[str]:
    """English roots of the run's corpus (``corpus/translations.parquet``), for document-level exclusion."""
    path = run_dir / "corpus" / "translations.parquet"
    if not path.is_file():
        return frozenset()
    table = read_parquet(path, "translation table", rebuild="mwalign corpus", columns=["eng"])
    return frozenset(str(s).strip() for s in table["eng"].dropna())


def seen_languages_of(cfg: Any, run_dir: Path) -> list[str]:
    """The languages a profile trains on: the run's corpus manifest when there is one, else English + the pool."""
    path = Path(run_dir) / "corpus" / "manifest.json"
    manifest = read_json(path, "corpus manifest", rebuild="mwalign corpus") if path.is_file() else {}
    return list(manifest.get("seen_languages") or ["eng", *manifest.get("pool", cfg.corpus.pool)])


def evaluate_with_profile(cfg: Any, entries: list[ModelEntry], results_dir: Path, *, seen: list[str],
                          exclude: frozenset[str] = frozenset(), tasks: list[str] | None = None,
                          langs: list[str] | None = None) -> pd.DataFrame:
    """``entries`` scored with the profile's evaluation settings, as the evaluate stage scores a run's models.

    Max length, dtype, batch, bootstrap, prompts, device and the seen/unseen groups are the profile's. Tasks: the
    profile's (per role, ``evaluation.role_tasks``) unless ``tasks`` is given. Languages: ``evaluation.langs``, else
    the seen languages plus ``evaluation.unseen``, each task keeping the subsets it has; an explicit ``langs``
    applies per task the same way, and only a language that no task has is an error.
    """
    ev = cfg.evaluation
    profile_langs = ev.langs if ev.langs is not None else list(dict.fromkeys([*seen, *ev.unseen]))
    by_tasks: dict[tuple[str, ...], list[ModelEntry]] = {}
    for entry in entries:  # a role may have its own task list (evaluation.role_tasks)
        by_tasks.setdefault(tuple(tasks or ev.role_tasks.get(entry.role, ev.tasks)), []).append(entry)
    frames = [
        evaluate(
            group,
            list(names),
            langs if langs is not None else profile_langs,
            results_dir=results_dir,
            seen_languages=seen,
            batch_size=ev.batch_size,
            max_seq_length=ev.max_seq_length,
            dtype=ev.dtype,
            bootstrap=ev.bootstrap,
            prompts=ev.prompts,
            strict_langs=langs is None and ev.langs is not None,
            per_task_langs=langs is not None,
            exclude_sentences=exclude,
            device=getattr(cfg, "device", "auto"),
            encode_all_first=ev.encode_all_first,
            splits=ev.splits,
            batch_tokens=ev.batch_tokens,
            task_unseen=ev.task_unseen,
            xy_lines=ev.ntrex_xy_lines,
        )
        for names, group in by_tasks.items()
    ]
    return pd.concat(frames, ignore_index=True)


def run_evaluation_stage(cfg: Any, run_dir: Path) -> pd.DataFrame:
    """Stage 04: every model of ``models/index.json`` on ``cfg.evaluation.tasks``; writes ``results/scores.parquet``."""
    run_dir = Path(run_dir)
    verify_data(data_dir())  # before base_alignment or any task reads the mirror
    read_json(run_dir / "corpus" / "manifest.json", "corpus manifest", rebuild="mwalign corpus")  # the corpus ran
    seen = seen_languages_of(cfg, run_dir)
    entries = _entries_from_index(read_json(run_dir / "models" / "index.json", "model index",
                                            rebuild="mwalign train"), run_dir)
    discard_results_of_other_code(run_dir / "results")
    scores = evaluate_with_profile(cfg, entries, run_dir / "results", seen=seen, exclude=training_sentences(run_dir))
    write_parquet(scores, run_dir / "results" / "scores.parquet")
    if cfg.evaluation.base_alignment is not None:
        run_base_alignment(cfg.evaluation, run_dir, device=getattr(cfg, "device", "auto"))
    return scores


def run_base_alignment(ev: Any, run_dir: Path, *, device: str = "auto") -> pd.DataFrame:
    """``results/base_alignment.parquet`` for ``ev.base_alignment``; reused while its settings and code are unchanged.

    It scores untrained encoders only, so a retrained model (which reruns this stage) does not redo it.
    """
    settings = ev.base_alignment
    key = json.dumps([settings.model_dump(mode="json"), ev.batch_size, ev.max_seq_length, code_key("evaluate")],
                     sort_keys=True)
    path, stamp = run_dir / "results" / "base_alignment.parquet", run_dir / "results" / "base_alignment.key"
    if path.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8", errors="replace") == key:
        with contextlib.suppress(DamagedArtifactError):  # damaged: computed again below
            return read_parquet(path, "base-alignment table", rebuild="mwalign evaluate")
    table = base_alignment.base_alignment(
        settings.models, settings.prompts, tatoeba_langs=settings.tatoeba_langs,
        tatoeba_pairs=settings.tatoeba_pairs, sts17_subsets=settings.sts17_subsets,
        batch_size=ev.batch_size, max_seq_length=ev.max_seq_length, device=device,
    )  # fmt: skip
    write_parquet(table, path)
    atomic.write_text(stamp, key)
    return table
