"""The smoke profile's golden outputs: what each stage produced, and which stage's version a change must bump.

``tests/golden/smoke.json`` holds, for the smoke profile: the declared stage versions it was recorded
under, the corpus (manifest content hash and every parquet file's bytes; a table with timing columns by its
other columns), each model's weight
fingerprint, and every score. The smoke pipeline test compares a fresh run with it. Outputs that moved
while the versions stayed put are a change of results without a version bump; the failure names the
stage to bump in ``mwalign/versioning.py``. After a deliberate bump, rerecord with::

    MWALIGN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_smoke_pipeline.py -k golden
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import pandas as pd

from mwalign.models.fingerprint import fingerprint
from mwalign.versioning import STAGE_VERSIONS

GOLDEN = Path(__file__).resolve().parent / "golden" / "smoke.json"
UPDATE_ENV = "MWALIGN_UPDATE_GOLDEN"
SCORE_TOLERANCE = 1e-6
_SCORE_KEY = ["model", "task", "subset", "split", "metric", "group"]
_RECORDED_STAGES = ("data", "train", "me5", "evaluate")
_TIMING_COLUMNS = ("seconds",)  # wall-clock measurements inside a table: real, but never reproducible


def _table_hash(path: Path) -> str:
    """A parquet file's bytes, or its content without timing columns when it has any."""
    frame = pd.read_parquet(path)
    timing = [c for c in _TIMING_COLUMNS if c in frame.columns]
    if not timing:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    content = frame.drop(columns=timing).to_json(orient="split", double_precision=15)
    return "content-" + hashlib.sha256(content.encode()).hexdigest()[:16]


def record(run_dir: Path) -> dict:
    """The golden record of a finished smoke run in ``run_dir``."""
    run_dir = Path(run_dir)
    corpus = run_dir / "corpus"
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    files = {str(p.relative_to(corpus)): _table_hash(p) for p in sorted(corpus.rglob("*.parquet"))}
    index = json.loads((run_dir / "models" / "index.json").read_text(encoding="utf-8"))
    models = {e["label"]: {"role": e["role"], "weights": fingerprint(run_dir / e["path"])} for e in index}
    scores = pd.read_parquet(run_dir / "results" / "scores.parquet")
    rows = scores[_SCORE_KEY + ["score"]].astype({"group": str}).sort_values(_SCORE_KEY)
    return {
        "versions": {stage: STAGE_VERSIONS[stage] for stage in _RECORDED_STAGES},
        "corpus": {"content_hash": manifest["content_hash"], "files": files},
        "models": models,
        "scores": {"|".join(map(str, key)): float(score) for *key, score in rows.itertuples(index=False)},
    }


def differences(golden: dict, current: dict) -> list[str]:
    """Human-readable differences, each naming the stage whose version must be bumped (empty if none)."""
    stale = [s for s in _RECORDED_STAGES if golden["versions"].get(s) != STAGE_VERSIONS[s]]
    if stale:
        return [f"stage {s}: declared version {STAGE_VERSIONS[s]} but {GOLDEN.name} was recorded at "
                f"{golden['versions'].get(s)}; rerecord it with {UPDATE_ENV}=1" for s in stale]
    found = []
    if golden["corpus"] != current["corpus"]:
        moved = sorted(k for k in set(golden["corpus"]["files"]) | set(current["corpus"]["files"])
                       if golden["corpus"]["files"].get(k) != current["corpus"]["files"].get(k))
        found.append(_bump("data", f"corpus changed ({', '.join(moved) or 'content hash'})"))
    for label in sorted(set(golden["models"]) | set(current["models"])):
        old, new = golden["models"].get(label), current["models"].get(label)
        if old != new:
            stage = "me5" if (old or new)["role"] == "me5" else "train"
            found.append(_bump(stage, f"model {label} {'weights changed' if old and new else 'added or removed'}"))
    for key in sorted(set(golden["scores"]) | set(current["scores"])):
        old, new = golden["scores"].get(key), current["scores"].get(key)
        if old is None or new is None or not math.isclose(old, new, rel_tol=0, abs_tol=SCORE_TOLERANCE):
            found.append(_bump("evaluate", f"score {key}: {old} -> {new}"))
    return found


def _bump(stage: str, what: str) -> str:
    return (f"{what}: results changed without a version bump; if intended, bump STAGE_VERSIONS[{stage!r}] in "
            f"mwalign/versioning.py and rerecord with {UPDATE_ENV}=1")


def check(run_dir: Path) -> list[str]:
    """Compare a run with the golden record (or rewrite the record when ``MWALIGN_UPDATE_GOLDEN=1``)."""
    current = record(run_dir)
    if os.environ.get("MWALIGN_GOLDEN_COPY"):  # keep this run's record too (comparing two code versions)
        Path(os.environ["MWALIGN_GOLDEN_COPY"]).write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    if os.environ.get(UPDATE_ENV) == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return []
    return differences(json.loads(GOLDEN.read_text(encoding="utf-8")), current)
