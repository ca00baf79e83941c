"""``mwalign plan``: each stage's work for a profile, counted without running it, and the time it should take.

The work comes from the configuration, the corpus of the run folder when one is there (then the row and step
counts are exact) and the translation cache (sentences it already holds are not translated again). Nothing is
loaded from a hub, no model is built, nothing is written. Per-unit costs come from earlier runs on this machine:
``mwalign run`` records each executed stage's wall seconds and work units in ``<run dir>/stage_timings.json``
(:func:`record_stage_timing`); :func:`measured_costs` reads those files of every run folder under ``runs/``. A
cost transfers across profiles only to the same kind of work (the same backend, the same base models): seconds
per sentence of apertium say nothing about NLLB-200.

On a machine without runs of its own, the costs come from the committed book: ``artifacts/<profile>/`` (the
committed run's ``stage_timings.json``, with the :func:`machine_probe` of the machine that ran it) or else the
executed chapters' own durations (papermill records each chapter's seconds) over the work this plan counts for
that profile. Either is scaled by the ratio of a few seconds' probe here to the recording machine's probe when
that machine recorded one; the plan says which it used.
"""

from __future__ import annotations

import json
import math
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mwalign import atomic, sqlite
from mwalign.config import CHAPTERS_SUBDIR, REPO_ROOT, RunConfig, resolve_profile

TIMINGS_FILE = "stage_timings.json"
SHARED_CORES_BELOW = 0.75  # a probe that got less of its threads' CPU time than this ran on shared cores
MACHINE_ENTRY = "machine"  # stage_timings.json's entry for the machine that ran the stages (probe, CPU kernels)


@dataclass
class StageWork:
    """One stage's work: ``units`` of ``unit`` (the quantity its cost scales with), keyed by what it runs on."""

    stage: str
    unit: str
    units: int
    cost_key: str  # what the per-unit cost depends on: the backend, the base models
    lines: list[str] = field(default_factory=list)  # human-readable breakdown


def plan_work(cfg: RunConfig, run_dir: Path) -> list[StageWork]:
    """Every stage's work for ``cfg`` with artifacts in ``run_dir`` (which need not exist)."""
    manifest = _read_json(run_dir / "corpus" / "manifest.json")
    rows = _row_counts(cfg, manifest)
    return [
        _data_work(cfg, run_dir, manifest),
        _train_work(cfg, run_dir, rows),
        _me5_work(cfg, run_dir, rows),
        _evaluate_work(cfg, run_dir),
        StageWork("results", "runs", 1, "results"),
        StageWork("intro", "runs", 1, "intro"),
    ]


def stage_work(cfg: RunConfig, run_dir: Path, stage: str) -> StageWork:
    """The work of one stage (what :func:`record_stage_timing` stores next to its seconds)."""
    return next(item for item in plan_work(cfg, run_dir) if item.stage == stage)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _roots(cfg: RunConfig, manifest: Any) -> tuple[int, str]:
    """Sampled roots: the corpus manifest's count when its parameters match, else ``corpus.n_roots`` (an upper bound)."""
    if manifest and manifest.get("parameters", {}).get("n_roots") == cfg.corpus.n_roots:
        return int(manifest["source"]["sampled"]), "from corpus/manifest.json"
    return cfg.corpus.n_roots, "corpus.n_roots (at most: the source may hold fewer)"


def translation_requests(cfg: RunConfig, roots: int) -> dict[tuple[str, str], int]:
    """Distinct English sentences per (backend, target language) that the data stage asks for."""
    ccfg = cfg.corpus
    requests: dict[tuple[str, str], int] = {(ccfg.backend, tgt): roots for tgt in ccfg.pool}
    ntrex = {}  # backend -> NTREX lines (quality and sensitivity read the same first lines)
    for backend in ccfg.quality_backends:
        ntrex[backend] = max(ntrex.get(backend, 0), ccfg.quality_sentences)
    for preference in ccfg.sensitivity_conditions.values():
        if preference:  # the first listed backend with the pair serves the condition
            ntrex[preference[0]] = max(ntrex.get(preference[0], 0), ccfg.sensitivity_roots)
    from mwalign.corpus.sensitivity import study_languages  # pool languages with an NTREX-128 reference

    for backend, lines in ntrex.items():
        if backend == "reference":
            continue  # human references are read, not translated
        for tgt in study_languages(ccfg.pool):
            requests[(backend, tgt)] = requests.get((backend, tgt), 0) + lines  # NTREX lines are not roots
    return requests


def cached_counts(cache_path: Path) -> dict[tuple[str, str], int]:
    """Cached translations per (backend, target language); empty when there is no cache file (opened read-only)."""
    if not cache_path.is_file():
        return {}
    try:
        with closing(sqlite.connect_read_only(cache_path)) as con:  # plan writes nothing, not even -wal/-shm files
            rows = con.execute("SELECT backend, tgt, COUNT(*) FROM translations GROUP BY backend, tgt").fetchall()
    except sqlite3.Error:
        return {}
    return {(backend, tgt): n for backend, tgt, n in rows}


def _data_work(cfg: RunConfig, run_dir: Path, manifest: Any) -> StageWork:
    from mwalign.corpus.build import cache_path_for

    roots, origin = _roots(cfg, manifest)
    requests = translation_requests(cfg, roots)
    cached = cached_counts(cache_path_for(cfg.corpus, run_dir))
    lines = [f"roots: {roots} ({origin})"]
    per_backend: dict[str, list[int]] = {}
    for (backend, tgt), n in requests.items():
        todo = max(0, n - cached.get((backend, tgt), 0))
        total = per_backend.setdefault(backend, [0, 0])
        total[0], total[1] = total[0] + n, total[1] + todo
    for backend, (n, todo) in per_backend.items():
        side = "" if backend == cfg.corpus.backend else "; side studies: at most, pairs it lacks are skipped"
        lines.append(f"translate with {backend}: {todo} sentences ({n} requested, {n - todo} in the cache{side})")
    main = per_backend[cfg.corpus.backend][1]
    return StageWork("data", "sentences", main, f"backend={cfg.corpus.backend}", lines)


def _row_counts(cfg: RunConfig, manifest: Any) -> dict[str, int]:
    """Training rows: the manifest's when there is a corpus, else what the budget gives without any filter drop."""
    if manifest and manifest.get("parameters", {}).get("n_roots") == cfg.corpus.n_roots:
        return {name: int(n) for name, n in manifest["counts"]["rows"].items()}
    roots, _ = _roots(cfg, manifest)
    n_dev = round(cfg.corpus.dev_fraction * roots)
    train = roots - n_dev
    multiway = train if cfg.corpus.budget == "equal_roots" else max(1, train // math.comb(cfg.corpus.k, 2))
    return {"multiway": multiway, "bilingual": train, "dev": n_dev}


def steps_per_run(n_rows: int, batch_size: int, epochs: int, max_steps: int | None, root_ids: list[str] | None = None,
                  seed: int = 0) -> int:
    """Optimiser steps of one training run: the sampler's batches per epoch x epochs, capped by ``max_steps``.

    With the rows' ``root_ids`` the sampler's own plan counts the batches; without, every root is distinct and a
    last batch of one row is dropped (the sampler's rule). Early stopping can only end a run sooner.
    """
    if root_ids is not None:
        from mwalign.training.data import RootBatchSampler

        per_epoch = len(RootBatchSampler(root_ids, batch_size, seed))
    else:
        per_epoch = n_rows // batch_size + (1 if n_rows % batch_size >= 2 else 0)
    total = per_epoch * epochs
    return min(total, max_steps) if max_steps else total


def _root_ids(run_dir: Path, name: str) -> list[str] | None:
    path = run_dir / "corpus" / f"{name}.parquet"
    if not path.is_file():
        return None
    from mwalign.artifacts import DamagedArtifactError, read_parquet

    try:  # damaged: plan counts from the configuration (the stage itself names the file)
        return [str(r) for r in read_parquet(path, "corpus rows", rebuild="mwalign corpus", columns=["root_id"])
                ["root_id"]]
    except DamagedArtifactError:
        return None


def _train_work(cfg: RunConfig, run_dir: Path, rows: dict[str, int]) -> StageWork:
    t = cfg.training
    ids = {name: _root_ids(run_dir, name) for name in ("multiway", "bilingual")}
    multi = (rows["multiway"], ids["multiway"])
    runs: list[tuple[str, str, int, tuple[int, list[str] | None]]] = []
    for base in t.models:
        for seed in t.seeds:
            runs += [(base, f"multiway s{seed}", seed, multi),
                     (base, f"bilingual s{seed}", seed, (rows["bilingual"], ids["bilingual"]))]
        for seed in t.seeds_of_ablations:  # anchor ablations reuse the multi-way rows; k2 rows are one pair each,
            for ablation in t.ablations:     # as many as the bilingual corpus; the other variants about multi-way's
                size = (multi if ablation.endswith("anchors") else
                        (rows["bilingual"], None) if ablation == "k2-multiway" else (multi[0], None))
                runs.append((base, f"{ablation} s{seed}", seed, size))
        for fraction in (t.scaling.fractions if t.scaling else []):  # fraction 1.0 is the headline run
            if fraction < 1.0:
                for seed in t.scaling.seeds:
                    for method, n in (("multiway", rows["multiway"]), ("bilingual", rows["bilingual"])):
                        runs.append((base, f"{method}-f{fraction:g} s{seed}", seed, (round(n * fraction), None)))
        if t.temperature_grid:  # one short multi-way run per value
            runs += [(base, f"temperature {value:g}", t.seeds[0], (rows["multiway"], None))
                     for value in t.temperature_grid]
        if t.depth and base == t.models[0]:  # the depth study's models at their fraction of the rows
            for model in t.depth.models:
                for seed in t.depth.seeds or t.seeds[:1]:
                    runs += [(model, f"{method}-f{t.depth.fraction:g} s{seed} (depth)", seed,
                              (round(n * t.depth.fraction), None))
                             for method, n in (("multiway", rows["multiway"]), ("bilingual", rows["bilingual"]))]
        if t.curve and t.curve.multiway_continued:  # as many steps as bilingual plans (counted below)
            runs += [(base, f"multiway-continued s{seed}", seed, (rows["bilingual"], ids["bilingual"]))
                     for seed in t.curve_seeds]
    for control in t.controls:
        for seed in control.seeds:
            runs += [(control.model, f"multiway s{seed} (control)", seed, multi),
                     (control.model, f"bilingual s{seed} (control)", seed, (rows["bilingual"], ids["bilingual"]))]
        if t.temperature_grid:
            runs += [(control.model, f"temperature {value:g}", t.seeds[0], (rows["multiway"], None))
                     for value in t.temperature_grid]
    for condition in cfg.corpus.sensitivity_conditions:  # at most sensitivity_roots rows each
        condition_ids = _root_ids(run_dir, f"sensitivity/{condition}")
        size = len(condition_ids) if condition_ids is not None else cfg.corpus.sensitivity_roots
        runs.append((t.models[0], f"sensitivity-{condition} s{t.seeds[0]}", t.seeds[0], (size, condition_ids)))
    lines, total = [f"rows: {rows['multiway']} multi-way, {rows['bilingual']} bilingual, {rows['dev']} dev"], 0
    every = (f"{t.evaluations_per_epoch} per epoch" if t.evaluations_per_epoch else f"every {t.eval_every} steps")
    for base, name, seed, (n_rows, root_ids) in runs:
        steps = (min(t.temperature_grid_steps, steps_per_run(n_rows, t.batch_size, t.epochs, None, root_ids, seed))
                 if name.startswith("temperature ") else
                 steps_per_run(n_rows, t.batch_size, t.epochs, t.max_steps, root_ids, seed))
        weight = _depth_weight(base, t.models[0]) if name.endswith("(depth)") else 1.0
        total += round(steps * weight)
        lines.append(f"{base} {name}: at most {steps} steps ({n_rows} rows, batch {t.batch_size}, {t.epochs} "
                     f"epochs; early stopping after {t.patience} evaluations without gain, {every})"
                     + (f", counted x{weight:.2f} for its layers" if weight != 1.0 else ""))
    return StageWork("train", "steps", total, "models=" + ",".join(t.models), lines)


def curve_models(cfg: RunConfig) -> int:
    """Models the learning curves add per base model, at most: two matched checkpoints per seed, the curve points
    of each curve seed's bilingual run, and its continued multi-way run with as many points."""
    curve = cfg.training.curve
    if curve is None:
        return 0
    per_curve_seed = curve.points + ((curve.points + 1) if curve.multiway_continued else 0)
    return 2 * len(cfg.training.seeds) + per_curve_seed * len(cfg.training.curve_seeds)


def _depth_weight(model: str, headline: str) -> float:
    """A depth-study step in headline steps: the ratio of the two models' layer counts (me5-small has 12)."""
    from mwalign.evaluation.base_alignment import layers_of

    def layers(name: str) -> int | None:
        return 12 if name == "me5-small" else layers_of(name)

    mine, theirs = layers(model), layers(headline)
    return mine / theirs if mine and theirs else 1.0


def _me5_work(cfg: RunConfig, run_dir: Path, rows: dict[str, int]) -> StageWork:
    m = cfg.me5
    if not m.enabled:
        return StageWork("me5", "steps", 0, f"model={m.model}", ["disabled (me5.enabled=false)"])
    n_multi = min(m.n_rows or rows["multiway"], rows["multiway"])
    n_bi = min(rows["bilingual"], n_multi * math.comb(cfg.corpus.k, 2))  # the same positive-pair budget
    lines, total = [f"rows: {n_multi} multi-way, {n_bi} bilingual (same pair budget)"], 0
    for seed in cfg.me5_seeds:
        for method, n in (("multiway", n_multi), ("bilingual", n_bi)):
            steps = steps_per_run(n, m.batch_size, m.epochs, m.max_steps)
            total += steps
            lines.append(f"{m.model} {method} s{seed}: {steps} steps")
    return StageWork("me5", "steps", total, f"model={m.model}", lines)


def _evaluate_work(cfg: RunConfig, run_dir: Path) -> StageWork:
    ev, t = cfg.evaluation, cfg.training
    index = _read_json(run_dir / "models" / "index.json")
    if isinstance(index, list) and index:
        n_models, origin = len(index), "models/index.json"
    else:
        per_base = 2 * len(t.seeds) + len(t.ablations) * len(t.seeds_of_ablations)
        if t.scaling:
            per_base += 2 * len(t.scaling.seeds) * sum(1 for f in t.scaling.fractions if f < 1.0)
        n_models = len(t.models) * (per_base + 1) + len(cfg.corpus.sensitivity_conditions)
        n_models += sum(2 * len(c.seeds) + 1 for c in t.controls)
        n_models += (2 * len(cfg.me5_seeds) + 1) if cfg.me5.enabled else 0
        n_models += len(t.models) * curve_models(cfg)
        if t.depth:  # both methods per model and seed, and each model's untrained base
            n_models += len(t.depth.models) * (2 * len(t.depth.seeds or t.seeds[:1]) + 1)
        origin = "trained + base models" + (", learning-curve checkpoints at most" if t.curve else "")
    langs = ev.langs if ev.langs is not None else list(dict.fromkeys(["eng", *cfg.corpus.pool, *ev.unseen]))
    lines = [f"models: {n_models} ({origin}); languages: {len(langs)}"]
    for task in ev.tasks:
        sentences = _task_sentences(task, langs)
        count = f"{sentences} sentences per model" if sentences is not None else "sentences counted at load"
        lines.append(f"{task}: {count}")
    return StageWork("evaluate", "model-tasks", n_models * len(ev.tasks), "models=" + ",".join(t.models), lines)


def _task_sentences(task: str, langs: list[str]) -> int | None:
    """Sentences a model encodes for ``task`` where the local data says so cheaply (Tatoeba line counts)."""
    if task != "Tatoeba":
        return None
    from mwalign.config import data_dir

    folder, total = data_dir() / "tatoeba", 0
    for lang in langs:
        for side in (lang, "eng"):
            path = folder / f"tatoeba.{lang}-eng.{side}"
            if lang != "eng" and path.is_file():
                total += sum(1 for _ in path.open(encoding="utf-8"))
    return total


# ---- per-unit costs measured by earlier runs -------------------------------------------------------------------


def record_stage_timing(run_dir: Path, work: StageWork, seconds: float, profile: str,
                        machine: dict | None = None) -> None:
    """Add one executed stage's wall seconds and work units to ``<run_dir>/stage_timings.json`` (atomic).

    ``machine``: :func:`machine_probe` of the machine that ran it, kept with the stage (a file may hold stages
    run on different machines: a reporting chapter re-rendered elsewhere) and as the file's latest. An entry from
    before stages kept their own is given the file's machine first, the one that ran it.
    """
    path = run_dir / TIMINGS_FILE
    timings = _read_json(path) or {}
    previous = timings.get(MACHINE_ENTRY)
    for entry in timings.values():
        if isinstance(entry, dict) and "seconds" in entry and "machine" not in entry and previous is not None:
            entry["machine"] = previous
    timings[work.stage] = {**asdict(work), "seconds": round(seconds, 3), "profile": profile}
    timings[work.stage].pop("lines", None)
    if machine is not None:
        timings[work.stage]["machine"] = machine
        timings[MACHINE_ENTRY] = machine
    atomic.write_json(path, timings, indent=2, sort_keys=True)


def recorded_timing(run_dir: Path, stage: str) -> dict | None:
    """The entry :func:`record_stage_timing` left for ``stage`` in ``run_dir`` (None when there is none)."""
    entry = (_read_json(Path(run_dir) / TIMINGS_FILE) or {}).get(stage)
    return entry if isinstance(entry, dict) and "seconds" in entry else None


def machine_probe(device: str = "cpu") -> dict[str, Any]:
    """A few seconds of the stages' own kind of work on ``device``, to scale timings measured elsewhere.

    A 4-layer, 384-wide BERT (the size of the cpu profile's stand-in without its vocabulary) built from a config,
    never loaded: seconds per bf16-autocast training step of 16 x 64 tokens and per encoding of 64 x 64 tokens,
    best of three after a warm-up; plus the CPU kernels that ran (bf16 results depend on them) and whether the CPU
    has bf16 matrix units (without them autocast runs fp32, and the run's results are fp32 results).

    Across dtypes the probe is no guide: on a host without bf16 units (fp32 autocast) its step took 1.4x an
    AVX512-BF16 host's (bf16) while the stand-in's training steps took 2.3x, measured in the two runs' training
    logs; a plan between such machines says so. ``bench/bench_cpu_dtype.py`` compares the dtypes on one machine.
    """
    import time

    import torch
    from transformers import BertConfig, BertModel

    from mwalign.devices import autocast, autocast_dtype, cpu_capability, cpu_has_bf16

    torch.manual_seed(0)
    config = BertConfig(vocab_size=1000, hidden_size=384, num_hidden_layers=4, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=128)
    config._attn_implementation = "eager"  # as the cpu profile trains
    model = BertModel(config).to(device)
    dtype = autocast_dtype(device, "bf16")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    used = {"cpu": 0.0, "wall": 0.0}

    def best(run, repeats: int = 3) -> float:
        run()
        times = []
        for _ in range(repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            run()
            if torch.device(device).type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            used["cpu"] += time.process_time() - cpu_start
            used["wall"] += times[-1]
        return min(times)

    def step() -> None:
        ids = torch.randint(0, 1000, (16, 64), device=device)
        with autocast(device, dtype):
            loss = model(input_ids=ids).last_hidden_state.float().pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def encode() -> None:
        ids = torch.randint(0, 1000, (64, 64), device=device)
        with torch.inference_mode(), autocast(device, dtype):
            model(input_ids=ids)

    model.train()
    train_s = best(step)
    model.eval()
    encode_s = best(encode)
    threads = torch.get_num_threads()
    machine = {"probe_train_step_s": round(train_s, 4), "probe_encode_s": round(encode_s, 4), "dtype": dtype,
               "threads": threads, "cpu_kernels": cpu_capability(), "device": str(device)}
    if torch.device(device).type == "cpu":
        machine["bf16_units"] = cpu_has_bf16()
    if torch.device(device).type == "cpu" and used["wall"] > 0:  # the share of its threads' cores it got
        machine["probe_cpu_share"] = round(min(used["cpu"] / used["wall"] / threads, 1.0), 2)
    return machine


def recorded_machine(run_dir: Path) -> dict | None:
    """The probe a run folder's timings already hold when it was taken on this machine's kind of kernels (a run
    folder probes once; the few seconds are not spent again on every later stage or rerun)."""
    from mwalign.devices import cpu_capability

    machine = (_read_json(Path(run_dir) / TIMINGS_FILE) or {}).get(MACHINE_ENTRY)
    if isinstance(machine, dict) and machine.get("cpu_kernels") == cpu_capability() and probe_seconds(machine):
        return machine
    return None


def probe_was_shared(machine: dict | None) -> bool:
    """Whether a probe ran on cores another process held (or is too old to say): worth taking again."""
    return not machine or machine.get("probe_cpu_share") is None or machine["probe_cpu_share"] < SHARED_CORES_BELOW


def run_probe(run_dir: Path, device: str, taken: dict | None = None, probe=None) -> dict:
    """The probe a run records: the one it holds when that ran on cores of its own; else a fresh one, and of
    the two the faster (the one less slowed by another process). ``taken``: a probe this run already took."""
    probe = probe or machine_probe
    machine = taken or recorded_machine(run_dir)
    if machine is not None and not probe_was_shared(machine):
        return machine
    fresh = probe(device)
    if machine is None or probe_seconds(fresh) <= probe_seconds(machine):
        return fresh
    return machine


def probe_seconds(machine: dict | None) -> float | None:
    """One number per probe: its training step plus its encoding (None when no probe was recorded)."""
    if not machine or "probe_train_step_s" not in machine:
        return None
    return float(machine["probe_train_step_s"]) + float(machine["probe_encode_s"])


def probe_scale(here: dict, recorded: dict) -> tuple[float, str]:
    """This machine's probe over the recording machine's, and what the plan should say of it: why it may be off (a
    probe on shared cores; another dtype, whose cost the probe does not follow)."""
    mine, theirs = probe_seconds(here), probe_seconds(recorded)
    scale = mine / theirs
    note = (f"scaled by {scale:.2f} = this machine's probe ({mine:.2f} s, "
            f"{here.get('cpu_kernels', '?')}) / the recording machine's ({theirs:.2f} s, {recorded.get('cpu_kernels', '?')})")
    shared = [who for who, m in (("this machine's", here), ("the recording machine's", recorded))
              if m.get("probe_cpu_share") is not None and m["probe_cpu_share"] < SHARED_CORES_BELOW]
    if shared:  # another process held the cores while one probe ran: its seconds are not the machine's
        note += (f"; unreliable: {' and '.join(shared)} probe got under {SHARED_CORES_BELOW:.0%} of its "
                 "threads' cores (another process was running)")
    dtypes = here.get("dtype"), recorded.get("dtype")
    if None not in dtypes and dtypes[0] != dtypes[1]:
        note += (f"; unreliable: this machine autocasts to {dtypes[0]} where the recording machine ran {dtypes[1]} "
                 f"(bf16 matrix units: {'yes' if here.get('bf16_units') else 'no'} here), and the probe does not "
                 "follow what a change of dtype costs; its results will also differ from the committed book's by "
                 "more than the cross-CPU tolerance")
    return scale, note


def committed_costs(cfg: RunConfig, book_root: Path | None = None) -> tuple[dict[tuple[str, str], dict], str, dict | None]:
    """Seconds per unit from the committed book for ``cfg``'s profile, where it came from, and its machine probe.

    ``artifacts/<profile>/stage_timings.json`` first (a committed run's own timings); else each executed chapter's
    papermill duration over the work :func:`plan_work` counts for the profile the chapter was executed with (without
    a run folder, as on a fresh clone). Empty when the committed book is of another profile.
    """
    root = book_root or REPO_ROOT
    committed = root / "artifacts" / cfg.name / TIMINGS_FILE
    if committed.is_file():
        timings = _read_json(committed) or {}
        costs = {(stage, e["cost_key"]): {"per_unit": e["seconds"] / e["units"], "profile": e.get("profile", "?"),
                                          "machine": e.get("machine") or timings.get(MACHINE_ENTRY)}
                 for stage, e in timings.items()
                 if stage != MACHINE_ENTRY and isinstance(e, dict) and e.get("units", 0) > 0 and "seconds" in e}
        return costs, f"the committed run's timings (artifacts/{cfg.name}/{TIMINGS_FILE})", timings.get(MACHINE_ENTRY)
    chapters = {}
    for chapter in sorted((root / CHAPTERS_SUBDIR).glob("*.ipynb")):
        meta = (_read_json(chapter) or {}).get("metadata", {})
        mine, duration = meta.get("mwalign", {}), meta.get("papermill", {}).get("duration")
        parameters = mine.get("parameters", {})
        if duration and mine.get("stage") and not parameters.get("overrides"):
            chapters[mine["stage"]] = (parameters.get("profile", ""), float(duration), mine.get("work"), chapter)
    profiles = {profile for profile, *_ in chapters.values()}
    if len(profiles) != 1:
        return {}, "", None
    (profile,) = profiles
    try:
        if resolve_profile(profile) != resolve_profile(cfg.name):
            return {}, "", None
    except (OSError, ValueError):
        return {}, "", None
    costs, origins = {}, set()
    for stage, (_, seconds, work, chapter) in chapters.items():
        if not work:  # executed before chapters recorded their work: count it for the profile as committed then
            work, origin = _committed_work(profile, stage, chapter, root)
            origins.add(origin)
        if work and work["units"] > 0:
            costs[(stage, work["cost_key"])] = {"per_unit": seconds / work["units"], "profile": cfg.name}
    where = ("the committed chapters' recorded durations (papermill) over the work each chapter "
             + ("records" if not origins else "records or, for older chapters, " + " and ".join(sorted(origins))))
    return costs, where, None


def _committed_work(profile: str, stage: str, chapter: Path, root: Path) -> tuple[dict | None, str]:
    """The work a chapter executed before chapters recorded it paid for: :func:`plan_work` for the profile file as
    it was committed with that chapter (git), else for today's profile file."""
    import subprocess
    import tempfile

    from mwalign.config import load_config

    source, origin = resolve_profile(profile), "the profile as committed with the chapter (git)"
    try:
        git = ["git", "-C", str(root)]
        commit = subprocess.run([*git, "log", "-1", "--format=%H", "--", str(chapter.relative_to(root))],
                                capture_output=True, text=True, check=True).stdout.strip()
        relative = source.resolve().relative_to(REPO_ROOT.resolve())  # the same path in the book's repository
        text = subprocess.run([*git, "show", f"{commit}:{relative.as_posix()}"], capture_output=True, text=True,
                              check=True).stdout
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / source.name
            path.write_text(text, encoding="utf-8")
            recorded = load_config(path)
    except (OSError, ValueError, subprocess.CalledProcessError):
        recorded, origin = load_config(profile), "today's profile file (no git history of the chapter)"
    work = {item.stage: item for item in plan_work(recorded, root / "runs" / ".no-run-folder")}.get(stage)
    return ({"units": work.units, "cost_key": work.cost_key} if work else None), origin


def measured_costs(runs_root: Path | None = None, extra: list[Path] = ()) -> dict[tuple[str, str], dict]:
    """Seconds per unit by (stage, cost key), from every ``<runs_root>/*/stage_timings.json`` (default: the repo's
    ``runs/``) and the ``extra`` run folders; the most recent file wins."""
    runs_root = runs_root if runs_root is not None else REPO_ROOT / "runs"
    files = sorted(runs_root.glob(f"*/{TIMINGS_FILE}")) if runs_root.is_dir() else []
    files += [p / TIMINGS_FILE for p in extra if (p / TIMINGS_FILE).is_file()]
    costs: dict[tuple[str, str], dict] = {}
    for path in sorted(set(files), key=lambda p: p.stat().st_mtime):
        for stage, entry in (_read_json(path) or {}).items():
            if isinstance(entry, dict) and entry.get("units", 0) > 0 and "seconds" in entry:
                costs[(stage, entry["cost_key"])] = {"per_unit": entry["seconds"] / entry["units"],
                                                     "profile": entry.get("profile", "?"), "own": True}
    return costs


@dataclass
class Estimate:
    """Per-unit costs for a plan and what they rest on."""

    costs: dict[tuple[str, str], dict]
    origin: str = "measured on this machine"
    scale: float = 1.0  # multiplies a cost that has no "scale" of its own: this machine's probe over the recorder's
    note: str = ""


def estimate_costs(cfg: RunConfig, work: list[StageWork], run_dir: Path, *, book_root: Path | None = None,
                   runs_root: Path | None = None, probe=machine_probe) -> Estimate:
    """This machine's measurements where they cover the plan; else the committed book's, scaled by a probe."""
    own = measured_costs(runs_root, extra=[run_dir])
    if all((item.stage, item.cost_key) in own for item in work):
        return Estimate(own)
    committed, origin, machine = committed_costs(cfg, book_root)
    if not any((item.stage, item.cost_key) in committed for item in work if (item.stage, item.cost_key) not in own):
        return Estimate(own)
    if probe_seconds(machine) is None:
        scale, note = 1.0, "unscaled: the recording machine left no speed probe, so this machine is taken as its equal"
    else:
        here = recorded_machine(run_dir) or probe(cfg_device(cfg))  # a probe this machine already took, if any
        scale, note = probe_scale(here, machine)
        for cost in committed.values():  # a stage recorded on another machine than the file's latest
            if probe_seconds(cost.get("machine")) is not None and cost["machine"] != machine:
                cost["scale"] = probe_scale(here, cost["machine"])[0]
    merged = {**committed, **own}  # this machine's own measurements win where it has them
    return Estimate(merged, f"estimate from {origin}" + (" and this machine's runs" if own else ""), scale, note)


def cfg_device(cfg: RunConfig) -> str:
    from mwalign.devices import resolve_device

    return str(resolve_device(cfg.device))


def format_plan(cfg: RunConfig, work: list[StageWork], estimate: Estimate | dict[tuple[str, str], dict]) -> str:
    """The plan as text: per stage its breakdown and the expected minutes where a cost is known."""
    from mwalign.devices import resolve_device

    if not isinstance(estimate, Estimate):
        estimate = Estimate(estimate)
    where = f"device {cfg.device} = {resolve_device(cfg.device)} here"
    out, total, complete = [f"plan for profile {cfg.name} ({where}); nothing is run"], 0.0, True
    for item in work:
        cost = estimate.costs.get((item.stage, item.cost_key))
        if cost is None:
            line, complete = "no measurement on this machine", False
        else:
            per_unit = cost["per_unit"] * (1.0 if cost.get("own") else cost.get("scale", estimate.scale))
            minutes = item.units * per_unit / 60
            total += minutes
            line = f"~{minutes:.1f} min ({per_unit:.3g} s per {item.unit[:-1]}, with profile {cost['profile']})"
        out.append(f"{item.stage}: {item.units} {item.unit} [{item.cost_key}]: {line}")
        out += [f"    {line}" for line in item.lines]
    out.append(f"total: ~{total:.1f} min" + ("" if complete else " for the measured stages only")
               + f"; {estimate.origin}" + (f" ({estimate.note})" if estimate.note else ""))
    return "\n".join(out)
