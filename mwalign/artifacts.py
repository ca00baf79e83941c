"""Reading a run folder's artifacts: a damaged file is one line naming it and the command that rebuilds it.

Stages read each other's Parquet and JSON files. A truncated copy or garbage in one of them must not end in
a library's traceback (``pyarrow.lib.ArrowInvalid``, ``json.JSONDecodeError``) but in a
:class:`DamagedArtifactError` naming the file and what rebuilds it. A cache a stage can recompute is read
with :func:`json_or_none` instead, and is rebuilt when damaged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class DamagedArtifactError(ValueError):
    """A run-folder file that cannot be read (truncated, garbage, wrong type); names the file and the fix."""


def read_json(path: Path, what: str, *, rebuild: str) -> Any:
    """The JSON in ``path``; missing: :class:`FileNotFoundError`, unreadable: :class:`DamagedArtifactError`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing {what}; run `{rebuild}` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise DamagedArtifactError(f"{path}: damaged {what}, not valid JSON ({_first_line(err)}); "
                                   f"rebuild it with `{rebuild}`") from None


def json_or_none(path: Path) -> Any:
    """The JSON in ``path``, or None when it is absent or unreadable (a cache that the caller recomputes)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_parquet(path: Path, what: str, *, rebuild: str, columns: list[str] | None = None):
    """``pandas.read_parquet(path, columns)``; an unreadable file is a :class:`DamagedArtifactError`."""
    import pandas as pd
    import pyarrow as pa

    try:
        return pd.read_parquet(path, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as err:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: missing {what}; run `{rebuild}` first") from None
        raise DamagedArtifactError(f"{path}: damaged {what}, not a readable Parquet file ({_first_line(err)}); "
                                   f"rebuild it with `{rebuild}`") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
