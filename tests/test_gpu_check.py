"""bench/gpu_check.py runs the paper-shaped path with only the packages of the bare GPU machine (here on CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mwalign.config import REPO_ROOT, models_dir

SCRIPT = REPO_ROOT / "bench" / "gpu_check.py"
BARE = Path(__file__).resolve().parent / "bare"


def _bare_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(BARE), "PYTHONNOUSERSITE": "1"}


def test_the_bare_interpreter_really_lacks_the_pipeline_packages():
    # Given the stand-in for the GPU machine's Python, Then mteb and pydantic cannot be imported there
    out = subprocess.run([sys.executable, "-c", "import pydantic"], env=_bare_env(), capture_output=True, text=True)
    assert out.returncode != 0 and "absent on the bare GPU machine" in out.stderr


@pytest.mark.slow
def test_gpu_check_runs_on_cpu_with_the_bare_packages(tmp_path, data_dir):
    # Given the assets made with the full environment (tokenizer, two Tatoeba pairs)
    subprocess.run([sys.executable, str(SCRIPT), "assets", str(tmp_path / "assets"), "--data-dir", str(data_dir),
                    "--tokenizer-dir", str(models_dir() / "tiny-xlmr")], check=True, capture_output=True)
    # When the check runs on the bare interpreter on CPU with small sizes
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "run", str(tmp_path / "assets"), "--device", "cpu", "--size", "tiny",
         "--sentences", "16", "--steps", "2", "--batch-size", "4", "--bitext-pairs", "20"],
        env=_bare_env(), capture_output=True, text=True, timeout=600,
    )
    # Then every part reports, on the device asked for, with the dtype that ran
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert any(line.startswith("translate hf:") for line in lines), out.stdout
    for label in ("multiway-plain", "multiway-gradcache", "bilingual-plain", "bilingual-gradcache"):
        line = next((x for x in lines if x.startswith(f"train {label}:")), "")
        assert "2 steps" in line and "device cpu" in line and "dtype " in line, out.stdout
    assert sum(line.startswith("bitext tatoeba") for line in lines) == 2, out.stdout
