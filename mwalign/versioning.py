"""Source hashes of the package's own code, for stage keys and artifact reuse.

A stage may reuse an artifact only if the code that made it is unchanged:
the pipeline keys whole stages with these hashes, and the stages key their
finished models, corpora and results with them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def source_hash(*modules: str) -> str:
    """Hash of the ``.py`` files of the named modules or subpackages (paths relative to ``mwalign/``)."""
    digest = hashlib.sha256()
    for module in modules:
        target = PACKAGE / module
        if not target.exists():
            raise ValueError(f"source_hash: no module {target}")
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            digest.update(str(path.relative_to(PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
