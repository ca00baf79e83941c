"""Atomic writes: a file or a folder is built under a temporary name beside its target, then renamed into place.

A reader (or a rerun after a kill at any moment) sees the old content or the new, never a half-written one,
and a failed write leaves no temporary behind. ``os.replace`` is atomic only within one file system, so the
temporary always lives in the target's own folder. Files and folders get the usual umask-based modes (not
the owner-only 0600 of ``mkstemp``), as ``open(path, "w")`` would give them.

>>> write_text(Path("out/summary.txt"), "done\\n")            # doctest: +SKIP
>>> with atomic_dir(Path("models/me5")) as tmp:              # doctest: +SKIP
...     model.save(str(tmp))
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_permissions(path: Path) -> None:
    """Give ``path`` (and everything under a folder) the modes a plain ``open``/``mkdir`` would: 0666/0777 & ~umask."""
    mask = _umask()
    path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)
    if path.is_dir():
        for child in path.rglob("*"):
            child.chmod((0o777 if child.is_dir() else 0o666) & ~mask)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``target``; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        default_permissions(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, payload: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return Path(target)


def write_text(target: Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, payload: Any, **dumps: Any) -> Path:
    """Write ``json.dumps(payload, **dumps)`` atomically."""
    return write_text(target, json.dumps(payload, **dumps))


def swap_into_place(tmp: Path, final: Path) -> None:
    """Replace folder ``final`` by the finished folder ``tmp``; a kill at any moment leaves old or new.

    The old folder is first renamed aside under a unique name, so concurrent swaps never collide on it.
    """
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        default_permissions(tmp)
        swap_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The names the helpers above give their temporaries: ".<target>.<8 random>.tmp" and ".<target>.old-<8 hex>"
# (models/prepare.py's ".<target>.tmp-<random>" too).
_LEFTOVER = re.compile(r"\..+(\.\w{8}\.tmp|\.old-[0-9a-f]{8}|\.tmp-\w{8})")


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove, anywhere under ``folder``, the temporaries and set-aside old copies of atomic writes that were cut
    off (SIGKILL, a power cut: nothing ran their cleanup); returns the removed paths, outermost first.

    Only for a folder this process holds exclusively (a run folder under its lock): another writer's
    temporary would look the same.
    """
    removed: list[Path] = []
    for path in sorted(Path(folder).rglob(".*")):
        if any(parent in removed for parent in path.parents) or not _LEFTOVER.fullmatch(path.name):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
