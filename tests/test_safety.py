"""Weights and state are read with safetensors only: no pickle is ever loaded by the package."""

from __future__ import annotations

import re

from mwalign.config import REPO_ROOT


def test_package_never_unpickles():
    # Given every source file of the package, Then none calls torch.load or pickle.load(s)
    pattern = re.compile(r"\btorch\.load\(|\bpickle\.loads?\(")
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for path in (REPO_ROOT / "mwalign").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, f"use safetensors instead of pickles: {offenders}"
