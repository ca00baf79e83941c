"""Where NTREX-128 lives in the data mirror: one path helper for the corpus (references, exclusion) and the evaluation.

NTREX-128 (Federmann et al., 2022) is 1,997 English news sentences (``newstest2019-src.eng.txt``) and one
human translation per language, line-aligned, in ``newstest2019-ref.<code>.txt``; ``<code>`` is NTREX's
own file code (``spa``, ``zho-CN``, ``aze-Latn``; :attr:`mwalign.languages.Language.ntrex`).
"""

from __future__ import annotations

from pathlib import Path

from mwalign.config import data_dir

NTREX_SUBDIR = Path("ntrex128") / "NTREX-128"


def ntrex_dir(root: Path | None = None) -> Path:
    """The NTREX-128 folder under ``root`` (default: the data dir)."""
    return (root or data_dir()) / NTREX_SUBDIR


def ntrex_file(code: str, root: Path | None = None) -> Path:
    """The file of one NTREX file code; ``eng`` is the English source."""
    if code == "eng":
        return ntrex_dir(root) / "newstest2019-src.eng.txt"
    return ntrex_dir(root) / f"newstest2019-ref.{code}.txt"
