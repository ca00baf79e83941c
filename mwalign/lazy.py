"""Lazy package exports: a package names its entry points without importing them until first use.

The stage packages' entry points pull in pydantic configs, mteb or sentence-transformers. Importing a leaf
module (``mwalign.training.loop``, ``mwalign.corpus.backends.hf``) must not, so that the GPU check runs on a
bare machine with only torch, transformers and sentence-transformers (``bench/gpu_check.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` serving ``{name: submodule}`` on first access (PEP 562)."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{names[name]}"), name)

    return __getattr__
