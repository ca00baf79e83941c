"""The smoke profile's golden outputs: what each stage produced, and which stage's version a change must bump.

``tests/golden/smoke.json`` holds, for the smoke profile: the declared stage versions it was recorded under,
the corpus (manifest content hash and every parquet file's bytes; a table with timing columns by its other
columns), each model's weights as a *sketch*, every score, and the cross-machine noise those numbers carry.
The smoke pipeline test compares a fresh run with it. Outputs that moved beyond that noise while the versions
stayed put are a change of results without a version bump; the failure names the stage to bump in
``mwalign/versioning.py``.

Why not hashes. bf16 kernels differ between CPU families (oneDNN's AMX path on Intel, AVX512-BF16 on AMD),
so trained weights and a few scores differ in their last bits from one machine to another while the corpus
(text) does not. The record therefore keeps

* the corpus exactly (its bytes are the same on every CPU);
* per model and tensor, :data:`SKETCH_DIM` random projections of the weights (float64; a fixed sign pattern
  per tensor name). A sketch is linear, so the distance between two sketches estimates the distance between
  the weights; the check measures a trained model's distance to the record *relative to its training update*
  (recorded model minus its recorded base) and allows :data:`NOISE_FACTOR` times the noise measured for that
  model, but never less than :data:`MIN_WEIGHT_TOLERANCE`. A tensor that training left untouched in the
  record (frozen word embeddings) must stay untouched;
* every score, with an absolute tolerance of :data:`NOISE_FACTOR` times the largest measured score noise.

The noise is measured, not guessed: recording (``MWALIGN_UPDATE_GOLDEN=1``) runs the smoke profile a second
time in a subprocess under the other CPU family's kernels (:data:`OTHER_KERNELS`) and stores each model's relative
distance and the largest score difference between the two runs. After a deliberate bump, rerecord with::

    MWALIGN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_smoke_pipeline.py -k golden

A CPU without bf16 matrix units (neither AVX512-BF16 nor AMX) runs the smoke profile's bf16 autocast as fp32
(:func:`mwalign.devices.autocast_dtype`): its weights differ from a bf16 run's by more than bf16's cross-kernel
noise, so it is checked against a record of its own, ``tests/golden/smoke-fp32.json`` (:func:`golden_path`),
recorded on such a CPU with the noise between its AVX512 and AVX2 fp32 kernels. A bump rerecords both files,
each on its kind of CPU; a check on a CPU whose record is missing says so.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from mwalign.devices import autocast_dtype, cpu_capability
from mwalign.models.fingerprint import weight_files
from mwalign.versioning import STAGE_VERSIONS

def golden_path() -> Path:
    """The record for the dtype this CPU runs the smoke profile's bf16 in: ``smoke.json``, or ``smoke-fp32.json``
    on a CPU without bf16 matrix units."""
    here = autocast_dtype("cpu", "bf16")
    return Path(__file__).resolve().parent / "golden" / ("smoke.json" if here == "bf16" else f"smoke-{here}.json")


GOLDEN = golden_path()
UPDATE_ENV = "MWALIGN_UPDATE_GOLDEN"
FORMAT = 2
SKETCH_DIM = 4  # projections per tensor; a model has tens to hundreds of tensors, so hundreds in all
NOISE_FACTOR = 3.0  # tolerance = this x the measured cross-kernel noise
MIN_WEIGHT_TOLERANCE = 0.02  # of a model's training update: below it a change is noise whatever was measured
MIN_SCORE_TOLERANCE = 1e-6
UNTOUCHED = 1e-9  # relative sketch distance under which a tensor counts as untouched by training
# Kernels of the other CPU family, set in a subprocess: an AMX host (Intel Xeon) runs oneDNN's AVX512-BF16 path,
# which is what AMD EPYC runs natively; a host without AMX runs oneDNN's AVX512 path with bf16 emulated in fp32.
# (ATen's AVX2 kernels are no choice: its AMX packing refuses them, and their noise is 5x smaller than a real
# change of CPU family; oneDNN's AVX2 bf16 path runs at 1 GFLOP/s.)
OTHER_KERNELS = {"amx": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "other": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
                 # fp32 (no bf16 units): AVX512 against AVX2, oneDNN's and ATen's, the spread of x86 fp32 kernels
                 "fp32": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}
_SCORE_KEY = ["model", "task", "subset", "split", "metric", "group"]
_RECORDED_STAGES = ("data", "train", "me5", "evaluate")
_TIMING_COLUMNS = ("seconds",)  # wall-clock measurements inside a table: real, but never reproducible
_STRUCTURE_FILES = ("modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
_CHUNK = 1 << 22


def _table_hash(path: Path) -> str:
    """A parquet file's bytes, or its content without timing columns when it has any."""
    frame = pd.read_parquet(path)
    timing = [c for c in _TIMING_COLUMNS if c in frame.columns]
    if not timing:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    content = frame.drop(columns=timing).to_json(orient="split", double_precision=15)
    return "content-" + hashlib.sha256(content.encode()).hexdigest()[:16]


def weight_sketch(folder: Path) -> dict[str, list[float]]:
    """``{tensor name: SKETCH_DIM projections}`` of every tensor in a model folder's safetensors files.

    Projection k of a tensor is the dot product of its flattened float64 values with a +-1 pattern drawn from a
    generator seeded by the tensor's name, so the same tensor in two folders is projected alike.
    """
    from safetensors.numpy import load_file

    sketch = {}
    for path in weight_files(folder):
        for name, tensor in load_file(path).items():
            values = tensor.astype(np.float64).ravel()
            rng = np.random.default_rng(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little"))
            projection = np.zeros(SKETCH_DIM)
            for start in range(0, values.size, _CHUNK):
                chunk = values[start:start + _CHUNK]
                signs = rng.integers(0, 2, size=(SKETCH_DIM, chunk.size), dtype=np.int8).astype(np.float64) * 2 - 1
                projection += signs @ chunk
            sketch[name] = projection.tolist()
    return dict(sorted(sketch.items()))


def _structure_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in _STRUCTURE_FILES:
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def record(run_dir: Path, *, scores: bool = True) -> dict:
    """The golden record of a finished smoke run in ``run_dir`` (without noise figures; ``scores=False``: of a run
    folder whose evaluation did not run, with no scores)."""
    run_dir = Path(run_dir)
    corpus = run_dir / "corpus"
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    files = {str(p.relative_to(corpus)): _table_hash(p) for p in sorted(corpus.rglob("*.parquet"))}
    index = json.loads((run_dir / "models" / "index.json").read_text(encoding="utf-8"))
    models = {e["label"]: {"role": e["role"], "base": e["base"], "method": e["method"],
                           "structure": _structure_hash(run_dir / e["path"]),
                           "sketch": weight_sketch(run_dir / e["path"])} for e in index}
    table = pd.read_parquet(run_dir / "results" / "scores.parquet") if scores else pd.DataFrame(
        columns=[*_SCORE_KEY, "score"])
    rows = table[_SCORE_KEY + ["score"]].astype({"group": str}).sort_values(_SCORE_KEY)
    return {
        "format": FORMAT,
        "machine": {"cpu_capability": cpu_capability(), "dtype": autocast_dtype("cpu", "bf16")},
        "versions": {stage: STAGE_VERSIONS[stage] for stage in _RECORDED_STAGES},
        "corpus": {"content_hash": manifest["content_hash"], "files": files},
        "models": models,
        "scores": {"|".join(map(str, key)): float(score) for *key, score in rows.itertuples(index=False)},
    }


def with_noise(current: dict, noise: dict, seed: int = 0) -> dict:
    """``current`` as another CPU family would give it: each trained model's weights moved in a random direction by
    its family's measured noise (relative to its training update), each score by up to the measured score noise."""
    rng = np.random.default_rng(seed)
    noisy = json.loads(json.dumps(current))
    weights, _ = tolerances({"models": current["models"], "noise": noise})
    for label, entry in noisy["models"].items():
        base = _base_label(current["models"], label)
        if base is None or entry["method"] == "base":
            continue
        update = _distance(current["models"][label]["sketch"], current["models"][base]["sketch"])
        size = weights[label] / NOISE_FACTOR * update  # the family's measured noise, as a distance
        direction = {n: rng.standard_normal(len(v)) for n, v in entry["sketch"].items()
                     if n not in _untouched_tensors(current["models"], label)}
        norm = math.sqrt(sum(float(d @ d) for d in direction.values()))
        for n, d in direction.items():
            entry["sketch"][n] = (np.asarray(entry["sketch"][n]) + size * d / norm).tolist()
    for key in noisy["scores"]:
        noisy["scores"][key] += float(rng.uniform(-1, 1)) * noise.get("scores", 0.0)
    return noisy


def _distance(a: dict[str, list[float]], b: dict[str, list[float]], names=None) -> float:
    names = a.keys() if names is None else names
    return math.sqrt(sum((x - y) ** 2 for n in names for x, y in zip(a[n], b[n])))


def _base_label(models: dict, label: str) -> str | None:
    entry = models[label]
    return next((other for other, e in models.items()
                 if e["method"] == "base" and e["base"] == entry["base"] and other != label), None)


def relative_weight_distances(reference: dict, other: dict) -> dict[str, float]:
    """Per model in both records: the sketch distance between them relative to the reference's training update
    (relative to the weights themselves for a base model)."""
    found = {}
    for label in sorted(set(reference["models"]) & set(other["models"])):
        ref, new = reference["models"][label]["sketch"], other["models"][label]["sketch"]
        if set(ref) != set(new):
            found[label] = math.inf
            continue
        base = _base_label(reference["models"], label)
        scale = _distance(ref, reference["models"][base]["sketch"]) if base else 0.0
        if scale == 0.0:
            scale = math.sqrt(sum(x * x for v in ref.values() for x in v))
        found[label] = _distance(ref, new) / scale if scale else (0.0 if _distance(ref, new) == 0 else math.inf)
    return found


def score_noise(reference: dict, other: dict) -> float:
    """The largest absolute score difference between two records (over the scores both have)."""
    keys = set(reference["scores"]) & set(other["scores"])
    return max((abs(reference["scores"][k] - other["scores"][k]) for k in keys), default=0.0)


def measured_noise(reference: dict, others: list[dict]) -> dict:
    """What the record stores as noise: per model the largest relative weight distance, and the largest score
    difference, over ``others`` (runs of the same code under other kernels)."""
    weights: dict[str, float] = {}
    for other in others:
        for label, value in relative_weight_distances(reference, other).items():
            weights[label] = max(weights.get(label, 0.0), value)
    return {"weights": weights, "scores": max((score_noise(reference, o) for o in others), default=0.0),
            "kernels": {"recorded": reference["machine"], "compared": [o["machine"] for o in others]}}


def tolerances(golden: dict) -> tuple[dict[str, float], float]:
    """Per-model weight tolerances and the score tolerance the record's noise gives.

    A model's noise is the largest measured among the models trained from its base model in the same role (one
    sample per model varies by about 2x between kernel pairs; the family's largest is the safer yardstick).
    """
    noise = golden.get("noise", {})
    measured = noise.get("weights", {})
    family = {}
    for label, entry in golden["models"].items():
        key = (entry["role"], entry["base"])
        family[key] = max(family.get(key, 0.0), measured.get(label, 0.0))
    weights = {label: max(NOISE_FACTOR * family[(e["role"], e["base"])], MIN_WEIGHT_TOLERANCE)
               for label, e in golden["models"].items()}
    return weights, max(NOISE_FACTOR * noise.get("scores", 0.0), MIN_SCORE_TOLERANCE)


def _untouched_tensors(models: dict, label: str) -> list[str]:
    """Tensors of a trained model that equal its base's in the record (frozen during training)."""
    base = _base_label(models, label)
    if base is None or set(models[base]["sketch"]) != set(models[label]["sketch"]):
        return []
    ref, start = models[label]["sketch"], models[base]["sketch"]
    return [n for n in ref
            if _distance(ref, start, [n]) <= UNTOUCHED * max(1.0, math.sqrt(sum(x * x for x in start[n])))]


def differences(golden: dict, current: dict) -> list[str]:
    """Human-readable differences beyond the measured noise, each naming the stage whose version must be bumped."""
    if golden.get("format") != FORMAT:
        return [f"{GOLDEN.name} has format {golden.get('format', 1)}, the check reads {FORMAT}; rerecord it with "
                f"{UPDATE_ENV}=1"]
    stale = [s for s in _RECORDED_STAGES if golden["versions"].get(s) != STAGE_VERSIONS[s]]
    if stale:
        return [f"stage {s}: declared version {STAGE_VERSIONS[s]} but {GOLDEN.name} was recorded at "
                f"{golden['versions'].get(s)}; rerecord it with {UPDATE_ENV}=1" for s in stale]
    found = []
    if golden["corpus"] != current["corpus"]:
        moved = sorted(k for k in set(golden["corpus"]["files"]) | set(current["corpus"]["files"])
                       if golden["corpus"]["files"].get(k) != current["corpus"]["files"].get(k))
        found.append(_bump("data", f"corpus changed ({', '.join(moved) or 'content hash'})"))
    weight_tolerance, score_tolerance = tolerances(golden)
    distances = relative_weight_distances(golden, current)
    for label in sorted(set(golden["models"]) | set(current["models"])):
        old, new = golden["models"].get(label), current["models"].get(label)
        stage = "me5" if (old or new)["role"] == "me5" else "train"
        if old is None or new is None:
            found.append(_bump(stage, f"model {label} added or removed"))
        elif old["structure"] != new["structure"]:
            found.append(_bump(stage, f"model {label}: module structure changed"))
        elif distances[label] > weight_tolerance[label]:
            found.append(_bump(stage, f"model {label}: weights moved by {distances[label]:.3g} of its training "
                                      f"update (tolerance {weight_tolerance[label]:.3g}, {NOISE_FACTOR:g}x the "
                                      "measured cross-kernel noise)"))
        else:
            base = _base_label(golden["models"], label)
            moved = [n for n in _untouched_tensors(golden["models"], label)
                     if base in current["models"] and _distance(new["sketch"], current["models"][base]["sketch"], [n])
                     > UNTOUCHED * max(1.0, math.sqrt(sum(x * x for x in old["sketch"][n])))]
            if moved:
                found.append(_bump(stage, f"model {label}: {len(moved)} tensor(s) that training left untouched "
                                          f"now change ({moved[0]}, ...)"))
    for key in sorted(set(golden["scores"]) | set(current["scores"])):
        old, new = golden["scores"].get(key), current["scores"].get(key)
        if old is None or new is None or abs(old - new) > score_tolerance:
            found.append(_bump("evaluate", f"score {key}: {old} -> {new} (tolerance {score_tolerance:.2g})"))
    return found


def _bump(stage: str, what: str) -> str:
    return (f"{what}: results changed without a version bump; if intended, bump STAGE_VERSIONS[{stage!r}] in "
            f"mwalign/versioning.py and rerecord with {UPDATE_ENV}=1")


def other_kernels() -> dict[str, str]:
    """The environment that makes this machine run the other CPU family's kernels (:data:`OTHER_KERNELS`)."""
    if autocast_dtype("cpu", "bf16") == "fp32":
        return OTHER_KERNELS["fp32"]
    return OTHER_KERNELS["amx" if cpu_capability().endswith("+AMX") else "other"]


def run_under_other_kernels(run_dir: Path, book_root: Path) -> None:
    """The smoke profile's stages up to evaluate, in a subprocess whose bf16 kernels are not this CPU's own."""
    env = {**os.environ, **other_kernels()}
    command = [sys.executable, "-m", "mwalign.cli", "run", "--profile", "smoke", "--run-dir", str(run_dir),
               "--book-root", str(book_root), "--no-book", "--only", "evaluate"]
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)


def check(run_dir: Path, scratch: Path | None = None) -> list[str]:
    """Compare a run with the golden record, or rewrite the record when ``MWALIGN_UPDATE_GOLDEN=1``: then the smoke
    profile runs again under other kernels in ``scratch`` and the record stores the noise between the two runs."""
    current = record(run_dir)
    if os.environ.get("MWALIGN_GOLDEN_COPY"):  # keep this run's record too (comparing two code versions)
        Path(os.environ["MWALIGN_GOLDEN_COPY"]).write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    if os.environ.get(UPDATE_ENV) == "1":
        if scratch is None:
            raise ValueError("check: recording needs a scratch folder for the run under other kernels")
        run_under_other_kernels(scratch / "run", scratch / "book")
        other = record(scratch / "run")
        other["machine"] = {**other["machine"], **other_kernels()}
        current["noise"] = measured_noise(current, [other])
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return []
    if not GOLDEN.is_file():
        return [f"{GOLDEN}: no golden record for this CPU's dtype ({autocast_dtype('cpu', 'bf16')}); record it on "
                f"this machine with {UPDATE_ENV}=1"]
    return differences(json.loads(GOLDEN.read_text(encoding="utf-8")), current)
