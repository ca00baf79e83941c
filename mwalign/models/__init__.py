"""Offline encoders and the one loader the other stages use.

>>> from mwalign import models
>>> model = models.load("tiny-xlmr")          # prepared on demand in config.models_dir()
>>> models.fingerprint(models.prepare("tiny-xlmr"))  # content hash for caches/provenance
"""

from mwalign.models.fingerprint import fingerprint
from mwalign.models.prepare import ModelError, is_prepared, prepare, prepare_all, read_marker
from mwalign.models.registry import hub_reachable, load, local_model_names, resolve

__all__ = [
    "ModelError",
    "fingerprint",
    "hub_reachable",
    "is_prepared",
    "load",
    "local_model_names",
    "prepare",
    "prepare_all",
    "read_marker",
    "resolve",
]
